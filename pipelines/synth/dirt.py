"""Value forms as people type them (CONTRACT section 1), as vectorised polars expressions.

Each renderer takes the canonical column and a uniform [0, 1) column ``u`` that
picks the form per row; rows with ``u`` above the dirty share keep the
canonical form.  Code labels come from ``schemas/codes.yaml``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl
import yaml

CODES_FILE = Path(__file__).resolve().parents[2] / "schemas" / "codes.yaml"
DIGITS = [str(i) for i in range(10)]
FULL_DIGITS = [chr(0xFF10 + i) for i in range(10)]

# Which label a dataset's direction column uses: the ledger writes 收/支, the bank 贷/借.
DIRECTION_LABEL = {"finance_ledger": 0, "bank_statements": 1}


@cache
def code_labels() -> dict[str, dict[str, list[str]]]:
    raw = yaml.safe_load(CODES_FILE.read_text(encoding="utf-8"))
    return {k: {str(c): [str(x) for x in v] for c, v in codes.items()} for k, codes in raw.items()}


def fullwidth_digits(e: pl.Expr) -> pl.Expr:
    return e.str.replace_many(DIGITS, FULL_DIGITS)


def render_id(col: pl.Expr, u: pl.Expr) -> pl.Expr:
    """Citizen ID forms: lower-case x, full-width digits, stray spaces, legacy 15 digits (born 19xx)."""
    born_19 = col.str.slice(6, 2) == "19"
    spaced = (
        pl.when(u < 0.09)
        .then(pl.lit(" ") + col)
        .when(u < 0.10)
        .then(col + pl.lit("  "))
        .otherwise(col.str.slice(0, 6) + pl.lit(" ") + col.str.slice(6, 8) + pl.lit(" ") + col.str.slice(14))
    )
    return (
        pl.when((u < 0.04) & col.str.ends_with("X"))
        .then(col.str.to_lowercase())
        .when(u < 0.06)
        .then(fullwidth_digits(col))
        .when(u < 0.11)
        .then(spaced)
        .when((u < 0.16) & born_19)
        .then(col.str.slice(0, 6) + col.str.slice(8, 9))
        .otherwise(col)
    )


def render_date(col: pl.Expr, u: pl.Expr) -> pl.Expr:
    """Dates: 2024-03-05, 2024/3/5, 20240305, 2024年3月5日."""
    y = col.dt.year().cast(pl.String)
    m = col.dt.month().cast(pl.String)
    d = col.dt.day().cast(pl.String)
    return (
        pl.when(u < 0.08)
        .then(y + "/" + m + "/" + d)
        .when(u < 0.16)
        .then(col.dt.strftime("%Y%m%d"))
        .when(u < 0.24)
        .then(y + "年" + m + "月" + d + "日")
        .otherwise(col.dt.strftime("%Y-%m-%d"))
    )


def render_period(col: pl.Expr, u: pl.Expr) -> pl.Expr:
    """Periods: 202403, 2024-03, 2024年3月."""
    y = (col // 100).cast(pl.String)
    m = (col % 100).cast(pl.String)
    return (
        pl.when(u < 0.12)
        .then(y + "-" + m.str.zfill(2))
        .when(u < 0.24)
        .then(y + "年" + m + "月")
        .otherwise(col.cast(pl.String))
    )


def money_canonical(fen: pl.Expr) -> pl.Expr:
    """'1234.50' from integer fen (sign kept)."""
    a = fen.abs()
    sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return sign + (a // 100).cast(pl.String) + "." + (a % 100).cast(pl.String).str.zfill(2)


def _with_commas(yuan: pl.Expr) -> pl.Expr:
    g = [(yuan // 10**k) % 1000 for k in (9, 6, 3, 0)]
    s = [x.cast(pl.String) for x in g]
    z = [x.cast(pl.String).str.zfill(3) for x in g]
    return (
        pl.when(yuan >= 10**9)
        .then(s[0] + "," + z[1] + "," + z[2] + "," + z[3])
        .when(yuan >= 10**6)
        .then(s[1] + "," + z[2] + "," + z[3])
        .when(yuan >= 10**3)
        .then(s[2] + "," + z[3])
        .otherwise(s[3])
    )


def render_money(fen: pl.Expr, u: pl.Expr) -> pl.Expr:
    """Money: 1234.5 (trailing zeros dropped), 1,234.50, full-width digits, 1234.50."""
    a = fen.abs()
    sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    yuan, cents = a // 100, a % 100
    short = yuan.cast(pl.String) + pl.when(cents == 0).then(pl.lit("")).when(cents % 10 == 0).then(
        pl.lit(".") + (cents // 10).cast(pl.String)
    ).otherwise(pl.lit(".") + cents.cast(pl.String).str.zfill(2))
    canonical = money_canonical(fen)
    return (
        pl.when(u < 0.10)
        .then(sign + short)
        .when(u < 0.18)
        .then(sign + _with_commas(yuan) + "." + cents.cast(pl.String).str.zfill(2))
        .when(u < 0.22)
        .then(fullwidth_digits(canonical))
        .otherwise(canonical)
    )


def render_code(col: pl.Expr, u: pl.Expr, code_set: str, dataset: str) -> pl.Expr:
    """Codes: padded with spaces, or replaced by a Chinese label from codes.yaml."""
    labels = code_labels()[code_set]
    pick = DIRECTION_LABEL.get(dataset, 0) if code_set == "direction" else 0
    first = {c: v[min(pick, len(v) - 1)] for c, v in labels.items()}
    alt = {c: v[-1] for c, v in labels.items()}
    return (
        pl.when(u < 0.08)
        .then(col.replace(first))
        .when(u < 0.10)
        .then(col.replace(alt))
        .when(u < 0.14)
        .then(pl.lit(" ") + col + pl.lit(" "))
        .otherwise(col)
    )
