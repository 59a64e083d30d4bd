"""DECEASED_PAID 死亡后继续领取 — benefits paid for months after the person died.

Contract (section 3): payments for a period after the month of death (the
earliest death_date recorded for the person, from any source), excluding
`funeral` and `survivor`; amount at risk = their sum. subject_id = person_id.

Grain: one row per person with at least one such payment.
"""

from __future__ import annotations

import polars as pl

from pipelines.rules.common import MONEY, evidence_rows, finding, labels, period_of, period_zh, yuan

# Paid *because* of the death (丧葬补助金, 遗属待遇/抚恤金): never at risk here.
PAID_BECAUSE_OF_DEATH = ("funeral", "survivor")


def first_death(death_records: pl.LazyFrame) -> pl.LazyFrame:
    """One row per person: the earliest death_date of any source (`death_date`, `death_source`, `death_period`).

    On one date reported by several sources, the first source by code names it.
    """
    return (
        death_records.sort("death_date", "source")
        .group_by("person_id")
        .agg(pl.col("death_date").first(), pl.col("source").first().alias("death_source"))
        .with_columns(period_of(pl.col("death_date")).alias("death_period"))
    )


def paid_after_death(payments: pl.LazyFrame, deaths: pl.LazyFrame) -> pl.LazyFrame:
    """The payments that may not be made to a dead person, with their person's `first_death` columns: a period
    after the month of death, a benefit not paid because of the death. The one statement of it, shared by this
    rule and pre-payment screening (reason DECEASED, `pipelines.screen`)."""
    return payments.join(deaths, on="person_id", how="inner").filter(
        (pl.col("period") > pl.col("death_period")) & ~pl.col("benefit_type").is_in(PAID_BECAUSE_OF_DEATH)
    )


def detect(benefit_payments: pl.LazyFrame, death_records: pl.LazyFrame) -> pl.LazyFrame:
    late = paid_after_death(benefit_payments, first_death(death_records))
    per_person = late.group_by("person_id").agg(
        pl.col("amount").sum().cast(MONEY).alias("amount_at_risk"),
        pl.col("period").min().alias("period_from"),
        pl.col("period").max().alias("period_to"),
        pl.col("period").n_unique().alias("months"),
        pl.col("region_code").sort_by("period", "payment_id").last(),
        pl.col("benefit_type").replace_strict(labels("benefit_type")).unique().sort().str.join("、").alias("types"),
        pl.col("death_period").first(),
        pl.col("death_date").first(),
        pl.col("death_source").first(),
        evidence_rows("payment_id", "period", "benefit_type", "amount", "pay_date", "bank_account"),
    )
    summary = pl.format(
        "{}死亡（{}，{}），其后仍发放{}{}个月，共计{}元",
        period_zh(pl.col("death_period")),
        pl.col("death_source").replace_strict(labels("death_source")),
        pl.col("death_date").dt.strftime("%Y-%m-%d"),
        pl.col("types"),
        pl.col("months"),
        yuan(pl.col("amount_at_risk")),
    )
    return per_person.select(
        finding(
            "DECEASED_PAID",
            subject_id=pl.col("person_id"),
            person_id=pl.col("person_id"),
            region_code=pl.col("region_code"),
            period_from=pl.col("period_from"),
            period_to=pl.col("period_to"),
            amount_at_risk=pl.col("amount_at_risk"),
            summary=summary,
            evidence_rows=pl.col("evidence_rows"),
        )
    )
