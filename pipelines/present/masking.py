"""Masking of personal data wherever a person reads it: citizen IDs (公民身份号码) and personal bank accounts.

One policy everywhere a person reads (CLI, exports, reports, the analyst views `v_*`):

* a citizen ID keeps its first 6 and last 4 characters, 330102********123X (`mask_id`): a reader can still
  tell two IDs of one region apart, and nobody can rebuild one;
* a bank account keeps its last 4 digits, ************1234 (`mask_account`);
* free text (a finding's summary, an error) has every ID and every account-like run of digits masked
  (`mask_text`).

Showing data in full is an explicit request of a named staff member, written to a different file name and
recorded in the register's access log (docs/adr/0015-case-work.md). The analyst views mask in SQL with the
same shapes (sql/views/000_masking.sql).
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

# Rules whose subject is a bank account (银行账号): shown with its last 4 digits. A shared receiving account is
# a person's; an unregistered one may be anybody's until verified — both are masked.
PERSONAL_ACCOUNT_RULES = ("SHARED_ACCOUNT", "UNREGISTERED_ACCOUNT")


def mask_id(value: str) -> str:
    """A citizen ID (or a personal account) with all but its first 6 and last 4 characters starred."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_account(value: str) -> str:
    """A bank account with all but its last 4 characters starred: ************1234."""
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


# An account number standing alone in a text: 10 to 32 digits (IDs are matched first).
_ACCOUNT_IN_TEXT = re.compile(r"(?<![0-9A-Za-z*])\d{10,32}(?![0-9A-Za-z*])")


def mask_text(text: str) -> str:
    """Every citizen ID and every account-like run of 10+ digits standing alone in a free text, masked."""
    return _ACCOUNT_IN_TEXT.sub(lambda match: mask_account(match.group(0)), mask_ids_in_text(text))


def is_citizen_id(value: str) -> bool:
    """True when value is shaped like a citizen ID (18-character or legacy 15-digit form)."""
    return _CITIZEN_ID_WHOLE.fullmatch(value) is not None


def mask_ids_in_text(text: str) -> str:
    """Every citizen ID standing alone in a free text, masked."""
    return _CITIZEN_ID_IN_TEXT.sub(lambda match: mask_id(match.group(0)), text)


def is_personal_subject(case: Mapping[str, object]) -> bool:
    """Whether a finding's subject_id is personal data: the person's ID, an ID-shaped key, a personal account."""
    subject = str(case["subject_id"])
    return (
        subject == case.get("person_id")
        or is_citizen_id(subject)
        or case.get("rule") in PERSONAL_ACCOUNT_RULES
        or any(is_citizen_id(part) for part in subject.split(SUBJECT_PARTS))
    )


# A subject of several parts: `employer|scheme|period` (RECON_CONTRIB), the IDs of one person (DUP_IDENTITY).
SUBJECT_PARTS = "|"


def shown_subject(case: Mapping[str, object]) -> str:
    """A finding's subject as a person may read it: an account keeps its last 4 digits, an ID is masked, and so
    is every ID among the parts of a subject of several (DUP_IDENTITY's `id|id`)."""
    subject = str(case["subject_id"])
    if case.get("rule") in PERSONAL_ACCOUNT_RULES:
        return mask_account(subject)
    if subject == case.get("person_id") or is_citizen_id(subject):
        return mask_id(subject)
    return SUBJECT_PARTS.join(mask_id(p) if is_citizen_id(p) else p for p in subject.split(SUBJECT_PARTS))
