"""Masking of personal data wherever a person reads it: citizen IDs (公民身份号码) and personal bank accounts.

The one masking function is `mask_id`: all but the first 6 and last 4 characters starred,
330102********1234 — a reader can still tell two IDs of one region apart, and nobody can rebuild one.
The checklist export and the reports mask by default; showing an ID in full is an explicit choice of the
caller (`fundwatch case export --no-mask`). Not yet everywhere a person reads: `case list` / `case show` and
the analyst views show IDs, and the checklist shows a SHARED_ACCOUNT subject (a personal account) in full —
one masking policy everywhere is issue 12's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_BIRTH_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
# GB 11643: 18 characters (6-digit region, yyyymmdd birth date, 3-digit sequence, check digit or X),
# or the legacy 15 digits (yymmdd). The check digit is not verified: a mistyped ID is still personal data.
_CITIZEN_ID = rf"\d{{6}}(?:(?:18|19|20)\d{{2}}{_BIRTH_DATE}\d{{3}}[\dXx]|\d{{2}}{_BIRTH_DATE}\d{{3}})"
_CITIZEN_ID_WHOLE = re.compile(_CITIZEN_ID)
_CITIZEN_ID_IN_TEXT = re.compile(rf"(?<![0-9A-Za-z]){_CITIZEN_ID}(?![0-9A-Za-z])")

# Rules whose subject is a person's bank account (银行账号): masked like a citizen ID.
PERSONAL_ACCOUNT_RULES = ("SHARED_ACCOUNT",)


def mask_id(value: str) -> str:
    """A citizen ID (or a personal account) with all but its first 6 and last 4 characters starred."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def is_citizen_id(value: str) -> bool:
    """True when value is shaped like a citizen ID (18-character or legacy 15-digit form)."""
    return _CITIZEN_ID_WHOLE.fullmatch(value) is not None


def mask_ids_in_text(text: str) -> str:
    """Every citizen ID standing alone in a free text, masked."""
    return _CITIZEN_ID_IN_TEXT.sub(lambda match: mask_id(match.group(0)), text)


def is_personal_subject(case: Mapping[str, object]) -> bool:
    """Whether a finding's subject_id is personal data: the person's ID, an ID-shaped key, a personal account."""
    subject = str(case["subject_id"])
    return subject == case.get("person_id") or is_citizen_id(subject) or case.get("rule") in PERSONAL_ACCOUNT_RULES


def shown_subject(case: Mapping[str, object]) -> str:
    """A finding's subject as a person may read it: masked when it is personal data."""
    subject = str(case["subject_id"])
    return mask_id(subject) if is_personal_subject(case) else subject
