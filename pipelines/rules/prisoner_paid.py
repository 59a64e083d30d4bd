"""PRISONER_PAID 服刑期间领取养老金 — a pension paid for months the pensioner was in custody.

Contract (section 3): `pension` payments for a period strictly after the month in
which a stopping custody spell starts and strictly before the month in which it
ends (no end_date: every later period); amount at risk = their sum. subject_id =
person_id. Stopping custody (section 2, 服刑期间停发基本养老金): sentence_type
`detention` 拘役, `imprisonment` 有期徒刑, `life` 无期徒刑, `death_suspended` 死刑缓期执行; a
`suspended` sentence 缓刑 or `surveillance` 管制 does not stop a pension.

The month of admission and the month of release are paid in full (the pension stops
from the month after admission and resumes in the month of release), so neither is at
risk. A payment covered by two overlapping spells counts once. period_from / period_to
= the first and last flagged period; region_code = the region of the last flagged
payment (by period, then payment_id), the one paying now. Evidence: the flagged
payments and the stopping spells that cover them, told apart by `dataset`.

Grain: one row per person with at least one such payment.
"""

from __future__ import annotations

import polars as pl

from pipelines.rules.common import MONEY, evidence_rows, finding, label, period_of, period_zh, yuan

# Contract section 2: custody that stops a pension; `suspended` (缓刑) and `surveillance` (管制) do not.
STOPPING_SENTENCES = ("detention", "imprisonment", "life", "death_suspended")
PAYMENTS = "benefit_payments"
CUSTODY = "custody_records"
SPELL = ("person_id", "sentence_type", "start_date", "end_date")
PAYMENT_FIELDS = ("payment_id", "person_id", "region_code", "scheme", "period", "amount", "pay_date", "bank_account")


def stopping_spells(custody_records: pl.LazyFrame) -> pl.LazyFrame:
    """The custody spells that stop a pension, once each, with their first and last month (`start_period`,
    `end_period`, null while still in custody)."""
    return (
        custody_records.filter(pl.col("sentence_type").is_in(STOPPING_SENTENCES))
        .select(*SPELL)
        .unique()
        .with_columns(
            period_of(pl.col("start_date")).alias("start_period"), period_of(pl.col("end_date")).alias("end_period")
        )
    )


def pensions_in_custody(payments: pl.LazyFrame, spells: pl.LazyFrame) -> pl.LazyFrame:
    """Every (pension payment, stopping spell) pair where the spell stops that payment: a period strictly after
    the month of admission and strictly before the month of release (none: every later month). The one statement
    of it, shared by this rule and pre-payment screening (reason IN_CUSTODY, `pipelines.screen`)."""
    return (
        payments.filter(pl.col("benefit_type") == "pension")
        .join(spells, on="person_id", how="inner")
        .filter(
            (pl.col("period") > pl.col("start_period"))
            & (pl.col("end_period").is_null() | (pl.col("period") < pl.col("end_period")))
        )
    )


def spell_text() -> pl.Expr:
    """A custody spell: '有期徒刑，2025-03-10至2025-08-01', '无期徒刑，2024-05-02收监，未释放'."""
    start = pl.col("start_date").dt.strftime("%Y-%m-%d")
    return pl.format(
        "{}，{}",
        label("sentence_type", pl.col("sentence_type")),
        pl.when(pl.col("end_date").is_null())
        .then(pl.format("{}收监，未释放", start))
        .otherwise(pl.format("{}至{}", start, pl.col("end_date").dt.strftime("%Y-%m-%d"))),
    )


def detect(benefit_payments: pl.LazyFrame, custody_records: pl.LazyFrame) -> pl.LazyFrame:
    spells = stopping_spells(custody_records)
    pensions = benefit_payments.filter(pl.col("benefit_type") == "pension").select(*PAYMENT_FIELDS)
    covering = pensions_in_custody(benefit_payments.select(*PAYMENT_FIELDS, "benefit_type"), spells)
    # each payment once, however many spells cover it
    flagged = pensions.join(covering.select("payment_id", "person_id").unique(), on=["person_id", "payment_id"])
    used_spells = covering.select(*SPELL).unique()

    per_person = flagged.group_by("person_id").agg(
        pl.col("amount").sum().cast(MONEY).alias("amount_at_risk"),
        pl.col("period").min().alias("period_from"),
        pl.col("period").max().alias("period_to"),
        pl.col("period").n_unique().alias("months"),
        pl.col("region_code").sort_by("period", "payment_id").last(),
    )
    custody = used_spells.group_by("person_id").agg(
        pl.col("start_date").min().alias("first_start"),
        pl.len().alias("spells"),
        spell_text()
        .sort_by(pl.col("start_date"), pl.col("end_date"), pl.col("sentence_type"))
        .str.join("；")
        .alias("custody"),
    )
    no_text = pl.lit(None, dtype=pl.String)
    no_date = pl.lit(None, dtype=pl.Date)
    lines = pl.concat(
        [
            flagged.select(
                pl.lit(PAYMENTS).alias("dataset"),
                "payment_id",
                "person_id",
                "period",
                "scheme",
                "region_code",
                pl.col("amount").cast(MONEY),
                "pay_date",
                "bank_account",
                no_text.alias("sentence_type"),
                no_date.alias("start_date"),
                no_date.alias("end_date"),
            ),
            used_spells.select(
                pl.lit(CUSTODY).alias("dataset"),
                no_text.alias("payment_id"),
                "person_id",
                no_text.alias("period"),
                no_text.alias("scheme"),
                no_text.alias("region_code"),
                pl.lit(None, dtype=MONEY).alias("amount"),
                no_date.alias("pay_date"),
                no_text.alias("bank_account"),
                "sentence_type",
                "start_date",
                "end_date",
            ),
        ]
    )
    evidence = lines.group_by("person_id").agg(
        evidence_rows(
            "dataset",
            "payment_id",
            "person_id",
            "period",
            "scheme",
            "region_code",
            "amount",
            "pay_date",
            "bank_account",
            "sentence_type",
            "start_date",
            "end_date",
        )
    )
    summary = pl.format(
        "{}起服刑{}（{}），期间仍发放基本养老金{}个月，共计{}元",
        period_zh(period_of(pl.col("first_start"))),
        pl.when(pl.col("spells") > 1).then(pl.format("{}次", pl.col("spells"))).otherwise(pl.lit("")),
        pl.col("custody"),
        pl.col("months"),
        yuan(pl.col("amount_at_risk")),
    )
    return (
        per_person.join(custody, on="person_id", how="inner")
        .join(evidence, on="person_id", how="inner")
        .select(
            finding(
                "PRISONER_PAID",
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
    )
