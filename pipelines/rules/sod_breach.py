"""SOD_BREACH 不相容岗位混岗 — incompatible workflow duties held by one person.

Contract (section 3): one operator performing two different stages of one business
(经办业务日志 business_log), or an `admin` operator (系统管理员) performing any stage.
subject_id = business_id.

An operator missing from operators has an unknown role (not admin); an operator
registered as admin in any row counts as admin. amount_at_risk = the business
amount (largest business_log.amount of the business, 0.00 if none); person_id = the
business's person (earliest non-empty); region_code = the registered region of the
first offending operator (by their first step in the business); period = month of
the business's first step.

Grain: one row per business with at least one offending operator.
"""

from __future__ import annotations

import polars as pl

from pipelines.rules.common import MONEY, finding, labels, operator_facts, period_of, step_evidence, yuan
from schemas.datasets import code_sets

# Workflow order of the stages (accept → review → recheck → approve → pay), as codes.yaml lists them.
STAGE_ORDER = {stage: i for i, stage in enumerate(code_sets()["stage"])}


def detect(business_log: pl.LazyFrame, operators: pl.LazyFrame) -> pl.LazyFrame:
    steps = business_log.join(operator_facts(operators), on="operator_id", how="left").with_columns(
        pl.col("is_admin").fill_null(False),
        pl.col("role_zh").fill_null("未登记"),
        pl.col("stage").replace_strict(STAGE_ORDER, return_dtype=pl.Int8).alias("stage_no"),
    )
    per_operator = (
        steps.group_by("business_id", "operator_id")
        .agg(
            pl.col("operated_at").min().alias("first_step_at"),
            pl.col("stage_no").unique().sort().alias("stage_nos"),
            pl.col("is_admin", "role_zh", "region_code").first(),
        )
        .filter((pl.col("stage_nos").list.len() > 1) | pl.col("is_admin"))
    )
    offences = per_operator.group_by("business_id").agg(
        pl.col("region_code").sort_by("first_step_at", "operator_id").drop_nulls().first(),
        pl.format(
            "{}（{}）{}{}",
            pl.col("operator_id"),
            pl.col("role_zh"),
            pl.when(pl.col("stage_nos").list.len() > 1).then(pl.lit("一人办理")).otherwise(pl.lit("办理")),
            pl.col("stage_nos")
            .list.eval(pl.element().replace_strict({i: labels("stage")[s] for s, i in STAGE_ORDER.items()}))
            .list.join("、"),
        )
        .sort_by("first_step_at", "operator_id")
        .str.join("；")
        .alias("offences"),
    )
    # The evidence is built for the offending businesses only, not for every business of the log.
    businesses = (
        steps.join(per_operator.select("business_id").unique(), on="business_id", how="semi")
        .group_by("business_id")
        .agg(
            pl.col("amount").max().fill_null(0).cast(MONEY).alias("amount_at_risk"),
            pl.col("person_id").sort_by("operated_at", "person_id").drop_nulls().first(),
            pl.col("operated_at").min().alias("first_at"),
            step_evidence(),
        )
    )
    summary = pl.format("不相容岗位混岗：{}，业务金额{}元", pl.col("offences"), yuan(pl.col("amount_at_risk")))
    return offences.join(businesses, on="business_id").select(
        finding(
            "SOD_BREACH",
            subject_id=pl.col("business_id"),
            person_id=pl.col("person_id"),
            region_code=pl.col("region_code"),
            period_from=period_of(pl.col("first_at")),
            period_to=period_of(pl.col("first_at")),
            amount_at_risk=pl.col("amount_at_risk"),
            summary=summary,
            evidence_rows=pl.col("evidence_rows"),
        )
    )
