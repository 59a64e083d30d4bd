"""RECON_CONTRIB 征缴对账差异 — what the agency assessed against what the tax bureau collected.

Contract (section 3): assessed (contributions) and collected (tax_collections)
differ by more than 0.01 yuan for that key, including one side missing; amount =
the absolute difference. subject_id = `employer_id|scheme|period`.

assessed = the sum of contributions.amount_due and collected = the sum of
tax_collections.amount_collected for the key (split vouchers add up); a missing
side counts as 0.00. period_from = period_to = the period; person_id is NULL.
region_code: neither dataset carries a region, so it is read from the employer
number, which like the 统一社会信用代码 carries the registering region's 6-digit
division code in characters 3 to 8 (`DW330100…` -> 330100); NULL when it does not.

Grain: one row per employer, scheme and period whose two sides do not agree.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from pipelines.rules.common import MONEY, evidence_rows, finding, labels, period_zh, yuan

# Contract: "differ by more than 0.01 yuan" — one fen of rounding is tolerated.
TOLERANCE = Decimal("0.01")
# Characters 3-8 of the employer number: the division code (as in a 统一社会信用代码).
EMPLOYER_REGION = r"^[0-9A-Za-z]{2}([1-8][0-9]{5})"
KEY = ("employer_id", "scheme", "period")


def detect(contributions: pl.LazyFrame, tax_collections: pl.LazyFrame) -> pl.LazyFrame:
    # Both sides as one list of lines, so that one group_by sees the key whichever side is missing.
    lines = pl.concat(
        [
            contributions.select(
                *KEY,
                pl.lit("contributions").alias("dataset"),
                pl.lit(None, dtype=pl.String).alias("voucher_no"),
                pl.col("amount_due").cast(MONEY).alias("amount"),
                pl.col("headcount").cast(pl.Int64),
                pl.lit(None, dtype=pl.Date).alias("collected_date"),
            ),
            tax_collections.select(
                *KEY,
                pl.lit("tax_collections").alias("dataset"),
                pl.col("voucher_no"),
                pl.col("amount_collected").cast(MONEY).alias("amount"),
                pl.lit(None, dtype=pl.Int64).alias("headcount"),
                pl.col("collected_date"),
            ),
        ]
    )
    assessed_line = pl.col("dataset") == "contributions"
    differing = (
        lines.group_by(*KEY)
        .agg(
            pl.col("amount").filter(assessed_line).sum().cast(MONEY).alias("assessed"),
            pl.col("amount").filter(~assessed_line).sum().cast(MONEY).alias("collected"),
            assessed_line.sum().alias("assessments"),
            (~assessed_line).sum().alias("vouchers"),
        )
        .with_columns((pl.col("assessed") - pl.col("collected")).abs().cast(MONEY).alias("difference"))
        .filter(pl.col("difference") > TOLERANCE)
    )
    # Evidence only for the keys that differ: rendering every key's lines as JSON is most of the cost.
    evidence = (
        lines.join(differing.select(KEY), on=list(KEY), how="semi")
        .group_by(*KEY)
        .agg(evidence_rows("dataset", "voucher_no", "amount", "headcount", "collected_date"))
    )
    per_key = differing.join(evidence, on=list(KEY), how="left", nulls_equal=True)
    assessed_text = (
        pl.when(pl.col("assessments") == 0)
        .then(pl.lit("无缴费核定记录"))
        .otherwise(pl.format("核定应缴{}元", yuan(pl.col("assessed"))))
    )
    collected_text = (
        pl.when(pl.col("vouchers") == 0)
        .then(pl.lit("税务无征收入库记录"))
        .otherwise(pl.format("实缴入库{}元（税票{}张）", yuan(pl.col("collected")), pl.col("vouchers")))
    )
    summary = pl.format(
        "单位{}（{}，{}）：{}，{}，差额{}元",
        pl.col("employer_id"),
        period_zh(pl.col("period")),
        pl.col("scheme").replace_strict(labels("scheme"), default=pl.col("scheme")),
        assessed_text,
        collected_text,
        yuan(pl.col("difference")),
    )
    return per_key.select(
        finding(
            "RECON_CONTRIB",
            subject_id=pl.concat_str(list(KEY), separator="|"),
            region_code=pl.col("employer_id").str.extract(EMPLOYER_REGION, 1),
            period_from=pl.col("period"),
            period_to=pl.col("period"),
            amount_at_risk=pl.col("difference"),
            summary=summary,
            evidence_rows=pl.col("evidence_rows"),
        )
    )
