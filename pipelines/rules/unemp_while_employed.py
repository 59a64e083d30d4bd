"""UNEMP_WHILE_EMPLOYED 就业期间领取失业金 — unemployment benefit for a month the person was working.

Contract (section 3): an `unemployment` payment for a period in which the person
has payroll withholding with wage_income > 0, or a 110/120 enrollment with an
employer that is active on any day of that month; amount at risk = those
payments. subject_id = person_id.

A spell is active on some day of the month when start_date ≤ the month's last day
and end_date (an open spell: `as_of`) ≥ its first day. Resident pension (170) has
no employer and proves no job; a zero-wage declaration proves no wage. Each payment
counts once, whichever and however many grounds it has. period_from / period_to =
the first and last flagged period; region_code = the region of the last flagged
payment (by period, then payment_id), the one paying now.

Grain: one row per person with at least one such payment.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.rules.common import MONEY, evidence_rows, finding, month_start, period_zh, yuan

# Contract: only employee pension schemes (企业职工 110, 机关事业 120) with an employer show a job.
EMPLOYEE_PENSION_SCHEMES = ("110", "120")


def employment_grounds(
    unemployment: pl.LazyFrame, payroll_withholding: pl.LazyFrame, enrollment: pl.LazyFrame, *, as_of: dt.date
) -> pl.LazyFrame:
    """One row per (person_id, payment_id) of the `unemployment` payments given that were paid for a month the
    person worked: `grounds` (the wage declarations and the spells, in Chinese), `by_wage`, `by_job`. An open
    spell runs until `as_of`. The one statement of it, shared by this rule and pre-payment screening (reason
    EMPLOYED, `pipelines.screen`)."""
    unemployment = unemployment.filter(pl.col("benefit_type") == "unemployment")
    months = unemployment.select(
        "person_id",
        "payment_id",
        month_start(pl.col("period")).alias("month_first_day"),
        month_start(pl.col("period")).dt.month_end().alias("month_last_day"),
    )
    by_wage = unemployment.join(
        payroll_withholding.filter(pl.col("wage_income") > 0), on=["person_id", "period"], how="inner"
    ).select(
        "person_id",
        "payment_id",
        pl.lit("wage").alias("ground"),
        pl.format("单位{}申报工资{}元", pl.col("employer_id"), yuan(pl.col("wage_income"))).alias("detail"),
    )
    jobs = enrollment.filter(
        pl.col("scheme").is_in(EMPLOYEE_PENSION_SCHEMES) & pl.col("employer_id").is_not_null()
    ).select("person_id", "enrollment_id", "scheme", "employer_id", "start_date", "end_date")
    by_job = (
        months.join(jobs, on="person_id", how="inner")
        .filter(
            (pl.col("start_date") <= pl.col("month_last_day"))
            & (pl.col("end_date").fill_null(pl.lit(as_of)) >= pl.col("month_first_day"))
        )
        .select(
            "person_id",
            "payment_id",
            pl.lit("job").alias("ground"),
            pl.format(
                "单位{}参保{}（{}，{}起{}）",
                pl.col("employer_id"),
                pl.col("scheme"),
                pl.col("enrollment_id"),
                pl.col("start_date").dt.strftime("%Y-%m-%d"),
                pl.when(pl.col("end_date").is_null())
                .then(pl.lit(""))
                .otherwise(pl.format("至{}", pl.col("end_date").dt.strftime("%Y-%m-%d"))),
            ).alias("detail"),
        )
    )
    return (
        pl.concat([by_wage, by_job])
        .group_by("person_id", "payment_id")
        .agg(
            pl.col("detail").unique().sort().str.join("；").alias("grounds"),
            (pl.col("ground") == "wage").any().alias("by_wage"),
            (pl.col("ground") == "job").any().alias("by_job"),
        )
    )


def detect(
    benefit_payments: pl.LazyFrame, payroll_withholding: pl.LazyFrame, enrollment: pl.LazyFrame, *, as_of: dt.date
) -> pl.LazyFrame:
    unemployment = benefit_payments.filter(pl.col("benefit_type") == "unemployment")
    grounds = employment_grounds(unemployment, payroll_withholding, enrollment, as_of=as_of)
    flagged = unemployment.join(grounds, on=["person_id", "payment_id"], how="inner")
    per_person = flagged.group_by("person_id").agg(
        pl.col("amount").sum().cast(MONEY).alias("amount_at_risk"),
        pl.col("period").min().alias("period_from"),
        pl.col("period").max().alias("period_to"),
        pl.col("period").n_unique().alias("months"),
        pl.len().alias("payments"),
        pl.col("region_code").sort_by("period", "payment_id").last(),
        pl.col("by_wage").any(),
        pl.col("by_job").any(),
        evidence_rows("payment_id", "period", "amount", "region_code", "pay_date", "grounds"),
    )
    when = (
        pl.when(pl.col("months") == 1)
        .then(period_zh(pl.col("period_from")))
        .otherwise(
            pl.format(
                "{}至{}间{}个月", period_zh(pl.col("period_from")), period_zh(pl.col("period_to")), pl.col("months")
            )
        )
    )
    kinds = (
        pl.when(pl.col("by_wage") & pl.col("by_job"))
        .then(pl.lit("工资薪金申报和单位职工参保"))
        .when(pl.col("by_wage"))
        .then(pl.lit("工资薪金申报"))
        .otherwise(pl.lit("单位职工参保"))
    )
    summary = pl.format(
        "{}领取失业保险金期间仍有{}，涉及{}笔，共计{}元",
        when,
        kinds,
        pl.col("payments"),
        yuan(pl.col("amount_at_risk")),
    )
    return per_person.select(
        finding(
            "UNEMP_WHILE_EMPLOYED",
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
