"""Building blocks shared by the rules: the suspects shape, money and period wording, evidence.

Every rule returns a LazyFrame of exactly `schemas.suspects.SUSPECT_SCHEMA` (validated by the
detection engine), built with `finding(...)` as its last `select`.
"""

from __future__ import annotations

import polars as pl

from schemas.datasets import code_sets
from schemas.suspects import MONEY, SUSPECT_SCHEMA

PENSION_SCHEMES = ("110", "120", "170")
MEDICAL_SCHEMES = ("310", "390")


def finding(
    rule: str,
    *,
    subject_id: pl.Expr,
    amount_at_risk: pl.Expr,
    summary: pl.Expr,
    evidence_rows: pl.Expr,
    person_id: pl.Expr | None = None,
    region_code: pl.Expr | None = None,
    period_from: pl.Expr | None = None,
    period_to: pl.Expr | None = None,
) -> list[pl.Expr]:
    """The select list that puts a rule's result into the suspects shape."""
    given = {
        "rule": pl.lit(rule),
        "subject_id": subject_id,
        "person_id": person_id,
        "region_code": region_code,
        "period_from": period_from,
        "period_to": period_to,
        "amount_at_risk": amount_at_risk,
        "summary": summary,
        "evidence_rows": evidence_rows,
    }
    return [
        (pl.lit(None) if expr is None else expr).cast(dtype).alias(name)
        for (name, dtype), expr in zip(SUSPECT_SCHEMA.items(), given.values(), strict=True)
    ]


def yuan(amount: pl.Expr) -> pl.Expr:
    """Money as Chinese officials write it: 41,220.00 (thousands separators, two decimals)."""
    text = amount.cast(MONEY).cast(pl.String)
    sign = pl.when(text.str.starts_with("-")).then(pl.lit("-")).otherwise(pl.lit(""))
    digits = text.str.strip_prefix("-")
    whole = digits.str.split_exact(".", 1).struct.field("field_0")
    cents = digits.str.split_exact(".", 1).struct.field("field_1").fill_null("00")
    grouped = whole.str.reverse().str.replace_all(r"(\d{3})", "$1,").str.reverse().str.strip_prefix(",")
    return pl.concat_str([sign, grouped, pl.lit("."), cents])


def period_zh(period: pl.Expr) -> pl.Expr:
    """'202503' -> '2025年3月'."""
    return pl.concat_str(
        [period.str.slice(0, 4), pl.lit("年"), period.str.slice(4, 2).cast(pl.Int32).cast(pl.String), pl.lit("月")]
    )


def months_zh(first: pl.Expr, last: pl.Expr, months: pl.Expr, unit: str = "个月") -> pl.Expr:
    """The months a finding spans: '2025年3月', or '2025年3月至2025年5月间3个月' (`unit` after the count)."""
    return (
        pl.when(months == 1)
        .then(period_zh(first))
        .otherwise(pl.format(f"{{}}至{{}}间{{}}{unit}", period_zh(first), period_zh(last), months))
    )


def date_zh(date: pl.Expr) -> pl.Expr:
    """A date -> '2025年3月5日'."""
    return pl.concat_str(
        [
            date.dt.year().cast(pl.String),
            pl.lit("年"),
            date.dt.month().cast(pl.String),
            pl.lit("月"),
            date.dt.day().cast(pl.String),
            pl.lit("日"),
        ]
    )


def evidence_rows(*fields: pl.Expr | str) -> pl.Expr:
    """Aggregation (inside `group_by(...).agg`): the group's rows as a sorted JSON array.

    Pass the fields an analyst needs (ids, dates, amounts). Money and dates are
    rendered as text so that the JSON carries them exactly.
    """
    exprs = [pl.col(f) if isinstance(f, str) else f for f in fields]
    as_text = [e.cast(pl.String) for e in exprs]
    rows = pl.struct(as_text).struct.json_encode().sort().str.join(", ")
    return pl.concat_str([pl.lit("["), rows, pl.lit("]")]).alias("evidence_rows")


def month_start(period: pl.Expr) -> pl.Expr:
    """'202503' -> 2025-03-01."""
    return pl.date(period.str.slice(0, 4).cast(pl.Int32), period.str.slice(4, 2).cast(pl.Int32), 1)


def period_of(date: pl.Expr) -> pl.Expr:
    """A date -> its month 'YYYYMM'."""
    return date.dt.strftime("%Y%m")


def labels(set_name: str) -> dict[str, str]:
    """code -> its official Chinese label (codes.yaml), for sentences an analyst reads."""
    return {code: names[0] for code, names in code_sets()[set_name].items()}


def label(set_name: str, code: pl.Expr) -> pl.Expr:
    """The Chinese label of a code column; an unknown code stays as it is."""
    return code.replace_strict(labels(set_name), default=code)


def step_evidence() -> pl.Expr:
    """Evidence of a business: its workflow steps (time, stage, operator and role, amount, person).

    Aggregated per business over business_log joined with `operator_facts` (column `role_zh`).
    """
    return evidence_rows(
        pl.col("operated_at").dt.strftime("%Y-%m-%d %H:%M:%S"),
        "stage",
        "operator_id",
        pl.col("role_zh").alias("role"),
        "amount",
        "person_id",
    )


def operator_facts(operators: pl.LazyFrame) -> pl.LazyFrame:
    """One row per operator_id: registered region, admin / leader or not, the role(s) in Chinese.

    An operator listed twice is an admin (or a leader) if any listing says so.
    """
    return operators.group_by("operator_id").agg(
        pl.col("region_code").min(),
        (pl.col("role") == "admin").any().alias("is_admin"),
        (pl.col("role") == "leader").any().alias("is_leader"),
        pl.col("role").replace_strict(labels("role")).unique().sort().str.join("、").alias("role_zh"),
    )
