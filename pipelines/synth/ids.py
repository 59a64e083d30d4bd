"""Citizen IDs (公民身份号码, GB 11643): check digit, 15-digit legacy form, vectorised builders."""

from __future__ import annotations

import polars as pl

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


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
