"""LARGE_PAYMENT_UNAPPROVED 大额支付未经负责人审批 — large payments without a leader's approval.

Contract (section 3): a business (经办业务日志 business_log) with amount ≥ the
large-payment threshold (option `large_payment_threshold`, default 100,000.00 yuan)
that has no `approve` stage (审批) by a `leader` (负责人). subject_id = business_id.

The business amount is the largest business_log.amount of the business. An approval
counts only when its operator is registered as leader (in any operators row); an
approval by a business operator, an auditor or an unregistered operator does not.
amount_at_risk = the business amount; person_id = the business's person (earliest
non-empty); region_code = the registered region of the operator of the first step
that has one (the handling office); period = month of the first step.

Grain: one row per business.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from pipelines.rules.common import MONEY, finding, operator_facts, period_of, step_evidence, yuan

DEFAULT_THRESHOLD = Decimal("100000.00")


def detect(
    business_log: pl.LazyFrame, operators: pl.LazyFrame, *, large_payment_threshold: Decimal = DEFAULT_THRESHOLD
) -> pl.LazyFrame:
    steps = business_log.join(operator_facts(operators), on="operator_id", how="left").with_columns(
        pl.col("is_leader").fill_null(False),
        pl.col("role_zh").fill_null("未登记"),
    )
    approve = pl.col("stage") == "approve"
    threshold = pl.lit(large_payment_threshold).cast(MONEY)
    # Which businesses are flagged is decided on two cheap aggregates; the descriptive columns and
    # the evidence are built for those few only (not for every business of the log).
    flagged = (
        steps.group_by("business_id")
        .agg(
            pl.col("amount").max().cast(MONEY).alias("amount_at_risk"),
            (approve & pl.col("is_leader")).any().alias("leader_approved"),
        )
        .filter((pl.col("amount_at_risk") >= threshold) & ~pl.col("leader_approved"))
    )
    unapproved = (
        steps.join(flagged.select("business_id"), on="business_id", how="semi")
        .group_by("business_id")
        .agg(
            pl.col("amount").max().cast(MONEY).alias("amount_at_risk"),
            pl.format("{}（{}）", pl.col("operator_id"), pl.col("role_zh"))
            .filter(approve)
            .unique()
            .sort()
            .str.join("、")
            .alias("approvers"),
            pl.col("person_id").sort_by("operated_at", "person_id").drop_nulls().first(),
            pl.col("region_code").sort_by("operated_at", "operator_id").drop_nulls().first(),
            pl.col("operated_at").min().alias("first_at"),
            step_evidence(),
        )
    )
    summary = pl.format(
        "大额支付{}元（标准{}元）未经负责人审批：{}",
        yuan(pl.col("amount_at_risk")),
        yuan(threshold),
        pl.when(pl.col("approvers") == "")
        .then(pl.lit("无审批环节"))
        .otherwise(pl.format("审批环节由{}办理", pl.col("approvers"))),
    )
    return unapproved.select(
        finding(
            "LARGE_PAYMENT_UNAPPROVED",
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
