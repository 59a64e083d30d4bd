"""DUP_BENEFIT 重复领取待遇 — the same benefit paid twice (or more) for one month.

Contract (section 3): two or more payments to one person of the same benefit type
for the same period (pension types from 110/120/170 count as one type); amount at
risk = all but the largest. subject_id = person_id.

Payments are grouped by (person_id, benefit_type, period): benefit_type is
`pension` whichever of 110/120/170 paid it, so the scheme does not split a group,
nor does the paying region. Per group, all but the largest payment is at risk
(sum − max); the finding sums that over the person's groups. period_from /
period_to = the first and last duplicated period; region_code = the region of the
first duplicated payment (by period, then payment_id), where the person is paid
from in the first place.

Grain: one row per person with at least one duplicated (benefit_type, period).
"""

from __future__ import annotations

import polars as pl

from pipelines.rules.common import MONEY, evidence_rows, finding, label, months_zh, yuan

DUPLICATE_KEY = ("person_id", "benefit_type", "period")


def detect(benefit_payments: pl.LazyFrame) -> pl.LazyFrame:
    duplicated = benefit_payments.filter(pl.len().over(DUPLICATE_KEY) > 1)
    groups = duplicated.group_by(DUPLICATE_KEY).agg(
        (pl.col("amount").sum() - pl.col("amount").max()).alias("excess"),  # contract: all but the largest
    )
    per_person = duplicated.group_by("person_id").agg(
        pl.col("period").min().alias("period_from"),
        pl.col("period").max().alias("period_to"),
        pl.col("period").n_unique().alias("months"),
        pl.len().alias("payments"),
        pl.col("region_code").sort_by("period", "payment_id").first(),
        label("benefit_type", pl.col("benefit_type")).unique().sort().str.join("、").alias("types"),
        evidence_rows(
            "payment_id", "period", "benefit_type", "scheme", "region_code", "amount", "pay_date", "bank_account"
        ),
    )
    at_risk = groups.group_by("person_id").agg(pl.col("excess").sum().cast(MONEY).alias("amount_at_risk"))
    when = months_zh(pl.col("period_from"), pl.col("period_to"), pl.col("months"), "个所属期")
    summary = pl.format(
        "{}{}重复发放，共{}笔，多发{}元", pl.col("types"), when, pl.col("payments"), yuan(pl.col("amount_at_risk"))
    )
    return per_person.join(at_risk, on="person_id", how="inner").select(
        finding(
            "DUP_BENEFIT",
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
