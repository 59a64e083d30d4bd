"""SHARED_ACCOUNT 多人共用收款账户 — one bank account collecting several people's benefits.

Contract (section 3): one bank account receiving benefit payments for 3 or more
different persons in one period. subject_id = bank_account.

A period counts when at least 3 distinct person_ids were paid into the account
for it (two spouses sharing an account are normal; one person paid twice counts
once). amount_at_risk = every payment into the account in those shared periods;
period_from / period_to = the first and last shared period; region_code = the
region most of those payments came from (a tie goes to the smallest code);
person_id is NULL (the finding concerns an account, not one person).

Grain: one row per bank account shared in at least one period.
"""

from __future__ import annotations

import polars as pl

from pipelines.rules.common import MONEY, evidence_rows, finding, period_zh, yuan

# Contract: "3 or more different persons in one period".
MIN_PERSONS = 3


def shared_periods(payments: pl.LazyFrame) -> pl.LazyFrame:
    """(bank_account, period, persons_in_period) where the account receives payments for 3 or more different
    persons in that period. The one statement of it, shared by this rule and pre-payment screening (reason
    SHARED_ACCOUNT, `pipelines.screen`: the paid payments and the batch together)."""
    return (
        payments.group_by("bank_account", "period")
        .agg(pl.col("person_id").n_unique().alias("persons_in_period"))
        .filter(pl.col("persons_in_period") >= MIN_PERSONS)
    )


def detect(benefit_payments: pl.LazyFrame) -> pl.LazyFrame:
    periods = shared_periods(benefit_payments)
    shared = benefit_payments.join(periods, on=["bank_account", "period"], how="inner")
    per_account = shared.group_by("bank_account").agg(
        pl.col("amount").sum().cast(MONEY).alias("amount_at_risk"),
        pl.col("period").min().alias("period_from"),
        pl.col("period").max().alias("period_to"),
        pl.col("period").n_unique().alias("months"),
        pl.col("person_id").n_unique().alias("persons"),
        pl.col("persons_in_period").max().alias("most_in_one_period"),
        pl.len().alias("payments"),
        # most frequent region of the shared payments; on a tie, the smallest code
        pl.col("region_code").mode().min().alias("region_code"),
        evidence_rows("payment_id", "person_id", "period", "benefit_type", "amount", "region_code", "pay_date"),
    )
    months = pl.when(pl.col("period_from") == pl.col("period_to")).then(period_zh(pl.col("period_from")))
    months = months.otherwise(
        pl.format("{}至{}间{}个月", period_zh(pl.col("period_from")), period_zh(pl.col("period_to")), pl.col("months"))
    )
    summary = pl.format(
        "银行账号{}在{}收到3人及以上的待遇发放（共{}人，单月最多{}人），涉及{}笔、共计{}元",
        pl.col("bank_account"),
        months,
        pl.col("persons"),
        pl.col("most_in_one_period"),
        pl.col("payments"),
        yuan(pl.col("amount_at_risk")),
    )
    return per_account.select(
        finding(
            "SHARED_ACCOUNT",
            subject_id=pl.col("bank_account"),
            region_code=pl.col("region_code"),
            period_from=pl.col("period_from"),
            period_to=pl.col("period_to"),
            amount_at_risk=pl.col("amount_at_risk"),
            summary=summary,
            evidence_rows=pl.col("evidence_rows"),
        )
    )
