"""Citizen IDs (公民身份号码, GB 11643): check digit, 15-digit legacy form, typos, vectorised builders."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Iterable

import polars as pl

from .constants import YEAR

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
DIGITS = "0123456789"


def check_digit(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def is_valid_id(pid: str) -> bool:
    """True when pid is an 18-character ID with a correct check character."""
    return len(pid) == 18 and pid[:17].isdigit() and check_digit(pid[:17]) == pid[17]


def wrong_check(pid: str) -> str:
    """The same ID with a wrong (but well-formed) check character."""
    good = CHECK_CHARS.index(pid[17])
    return pid[:17] + CHECK_CHARS[(good + 1) % 11]


def with_check(first17: str) -> str:
    """The valid 18-character ID of 17 digits."""
    return first17 + check_digit(first17)


def birth_of(pid: str) -> dt.date | None:
    """The birth date an ID encodes (characters 7-14), or None when they are not a date."""
    try:
        return dt.date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
    except ValueError:
        return None


def gender_of(pid: str) -> str:
    """The gender code an ID encodes: the 17th digit odd for a man ('1'), even for a woman ('2')."""
    return "1" if int(pid[16]) % 2 == 1 else "2"


def substitute(pid: str, pos: int, char: str) -> str:
    """pid with the character at pos replaced."""
    return pid[:pos] + char + pid[pos + 1 :]


def swap_adjacent(pid: str, pos: int) -> str:
    """pid with the characters at pos and pos + 1 swapped."""
    return pid[:pos] + pid[pos + 1] + pid[pos] + pid[pos + 2 :]


def one_edit_away(raw: str) -> set[str]:
    """Every valid ID that differs from raw by one substituted character or one swap of two adjacent
    characters (CONTRACT section 6: the candidates a mistyped ID may be resolved to)."""
    forms: set[str] = set()
    for pos, c in enumerate(raw):
        for a in CHECK_CHARS if pos == 17 else DIGITS:
            if a != c:
                forms.add(substitute(raw, pos, a))
    for pos in range(len(raw) - 1):
        if raw[pos] != raw[pos + 1]:
            forms.add(swap_adjacent(raw, pos))
    return {f for f in forms if is_valid_id(f)}


def off_year(raw: str, born: tuple[int, int]) -> bool:
    """raw encodes a possible birth date (1900 to YEAR) in a year outside `born`, the years persons are born in."""
    birth = birth_of(raw)
    return birth is not None and 1900 <= birth.year <= YEAR and not born[0] <= birth.year <= born[1]


def year_typos(pid: str, kind: str, born: tuple[int, int]) -> list[str]:
    """pid mistyped in its year of birth (kind `substitution`: one digit of the decade or the year; `swap`: those
    two digits swapped) into a possible year nobody is born in; the sequence number stays pid's.

    Why the year: an ID one edit away from such a typo either encodes that year (nobody's) or has pid's
    sequence number.  The parts of a province generated in parts have disjoint sequence ranges, so the
    candidates of a typo all lie in its own part, where they can be checked."""
    if kind == "substitution":
        forms = [substitute(pid, pos, d) for pos in (8, 9) for d in DIGITS if d != pid[pos]]
    else:
        forms = [swap_adjacent(pid, 8)] if pid[8] != pid[9] else []
    return [f for f in forms if off_year(f, born) and not is_valid_id(f)]


def unresolvable(pid: str, taken: IdSet | set[str], py: random.Random, born: tuple[int, int]) -> str:
    """A mistyped form of pid no ID of `taken` is one edit away from: a digit of its year of birth substituted
    (`year_typos`) and a wrong check character other than pid's, so pid itself is two edits away."""
    forms = year_typos(pid, "substitution", born)
    py.shuffle(forms)
    for form in forms:
        first17 = form[:17]
        raw = first17 + py.choice([c for c in CHECK_CHARS if c not in (check_digit(first17), pid[17])])
        if not one_edit_away(raw) & taken:
            return raw
    raise RuntimeError(f"no unresolvable typo of {pid} found")


class IdSet:
    """A set of citizen IDs held as one sorted Arrow column (a Python set of a million IDs would cost some
    150 MB), plus the few IDs added later; `ids & taken` and `taken & ids` give the IDs in both."""

    def __init__(self, ids: pl.Series) -> None:
        self.sorted = ids.unique().sort()
        self.added: set[str] = set()

    def add(self, pid: str) -> None:
        self.added.add(pid)

    def __contains__(self, pid: str) -> bool:
        return bool(self & {pid})

    def __and__(self, other: Iterable[str]) -> set[str]:
        probe = pl.Series(sorted(set(other)), dtype=pl.String)
        if probe.is_empty() or self.sorted.is_empty():
            return set(probe.to_list()) & self.added
        at = self.sorted.search_sorted(probe, side="left").clip(0, self.sorted.len() - 1)
        hits = probe.filter(self.sorted.gather(at) == probe)
        return set(hits.to_list()) | (set(probe.to_list()) & self.added)

    __rand__ = __and__


def name_key(name: str | None) -> str:
    """A name as compared when resolving an ID: full-width forms folded, every space removed."""
    return "".join(unicodedata.normalize("NFKC", name or "").split())


def to_15(pid: str) -> str:
    """Legacy 15-digit form of an 18-digit ID born 19xx: drop the century and the check digit."""
    return pid[:6] + pid[8:17]


def check_digit_expr(first17: pl.Expr) -> pl.Expr:
    """Vectorised check character of a 17-digit string column."""
    total = sum(first17.str.slice(i, 1).cast(pl.Int64) * w for i, w in enumerate(WEIGHTS))
    return (total % 11).replace_strict(list(range(11)), list(CHECK_CHARS), return_dtype=pl.String)


def wrong_check_expr(pid: pl.Expr) -> pl.Expr:
    """Vectorised: the ID with its check character shifted to a wrong one."""
    shifted = pid.str.slice(17, 1).replace_strict(
        list(CHECK_CHARS), list(CHECK_CHARS[1:] + CHECK_CHARS[0]), return_dtype=pl.String
    )
    return pid.str.slice(0, 17) + shifted
