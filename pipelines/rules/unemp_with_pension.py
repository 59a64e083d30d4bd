"""UNEMP_WITH_PENSION 领取养老金期间领取失业金 — unemployment benefit for a month a pension is paid for.

Contract (section 3): an `unemployment` payment for a period for which the same
person is also paid a `pension`; amount at risk = those unemployment payments.
subject_id = person_id.

A pensioner is out of the labour market: unemployment insurance stops when the
recipient starts drawing a basic pension (失业保险条例 第十五条). `pension` covers every
pension scheme (110/120/170). Each unemployment payment counts once, however many
pension payments share its month. period_from / period_to = the first and last
flagged period; region_code = the region of the last flagged unemployment payment
(by period, then payment_id), the one paying now. Evidence: the flagged unemployment
payments and the pension payments for the same months.

Grain: one row per person with at least one such payment.
"""

from __future__ import annotations

import polars as pl

from pipelines.rules.common import MONEY, evidence_rows, finding, months_zh, yuan

PAYMENT_FIELDS = (
    "payment_id",
    "person_id",
    "period",
    "benefit_type",
    "scheme",
    "region_code",
    "amount",
    "pay_date",
    "bank_account",
)


def unemployment_with_pension(payments: pl.LazyFrame, pensions_from: pl.LazyFrame) -> pl.LazyFrame:
    """The `unemployment` payments of `payments` for a month for which `pensions_from` pays the same person a
    `pension`. The one statement of it, shared by this rule (both arguments the same payments) and pre-payment
    screening (reason PENSIONER, `pipelines.screen`: the batch against the paid payments and the batch)."""
    pension_months = pensions_from.filter(pl.col("benefit_type") == "pension").select("person_id", "period").unique()
    return payments.filter(pl.col("benefit_type") == "unemployment").join(
        pension_months, on=["person_id", "period"], how="semi"
    )


def detect(benefit_payments: pl.LazyFrame) -> pl.LazyFrame:
    payments = benefit_payments.select(*PAYMENT_FIELDS)
    flagged = unemployment_with_pension(payments, payments)
    flagged_months = flagged.select("person_id", "period").unique()
    concurrent_pensions = payments.filter(pl.col("benefit_type") == "pension").join(
        flagged_months, on=["person_id", "period"], how="semi"
    )
    per_person = flagged.group_by("person_id").agg(
        pl.col("amount").sum().cast(MONEY).alias("amount_at_risk"),
        pl.col("period").min().alias("period_from"),
        pl.col("period").max().alias("period_to"),
        pl.col("period").n_unique().alias("months"),
        pl.len().alias("payments"),
        pl.col("region_code").sort_by("period", "payment_id").last(),
    )
    evidence = pl.concat([flagged, concurrent_pensions]).group_by("person_id").agg(evidence_rows(*PAYMENT_FIELDS))
    when = months_zh(pl.col("period_from"), pl.col("period_to"), pl.col("months"))
    summary = pl.format(
        "{}同时领取基本养老金和失业保险金，失业保险金{}笔，共计{}元",
        when,
        pl.col("payments"),
        yuan(pl.col("amount_at_risk")),
    )
    return per_person.join(evidence, on="person_id", how="inner").select(
        finding(
            "UNEMP_WITH_PENSION",
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
