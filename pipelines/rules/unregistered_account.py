"""UNREGISTERED_ACCOUNT 未登记账户（多头开户） — fund money moving on an account finance does not allow.

Contract (section 3): a bank_statements account not in fund_accounts, or used
after its closed_date. subject_id = account_no.

The offending movements are every movement of an account that fund_accounts does
not list, and every movement dated after the closed_date of a listed one (a
movement on the closed_date itself is the closing transfer, allowed). An account
listed more than once counts as closed only when every listing has a closed_date,
and then from the latest one. amount_at_risk = the sum of the offending movements,
in and out; period_from / period_to = the months of the first and last of them.
person_id and region_code are NULL: neither dataset says which pooling region an
account belongs to, so the supervision office itself verifies it.

Grain: one row per account with at least one offending movement.
"""

from __future__ import annotations

import polars as pl

from pipelines.rules.common import MONEY, date_zh, evidence_rows, finding, period_of, yuan


def detect(bank_statements: pl.LazyFrame, fund_accounts: pl.LazyFrame) -> pl.LazyFrame:
    registered = fund_accounts.group_by("account_no").agg(
        # closed only if every listing is closed: a null closed_date means the account is still open
        pl.when(pl.col("closed_date").is_null().any())
        .then(None)
        .otherwise(pl.col("closed_date").max())
        .alias("closed_date"),
        pl.lit(True).alias("registered"),
    )
    movements = bank_statements.join(registered, on="account_no", how="left").with_columns(
        pl.col("registered").fill_null(False)
    )
    offending = movements.filter(~pl.col("registered") | (pl.col("txn_date") > pl.col("closed_date")).fill_null(False))
    per_account = offending.group_by("account_no").agg(
        pl.col("amount").sum().cast(MONEY).alias("amount_at_risk"),
        pl.col("txn_date").min().alias("first_date"),
        pl.col("txn_date").max().alias("last_date"),
        pl.len().alias("movements"),
        pl.col("registered").first(),
        pl.col("closed_date").first(),
        evidence_rows("txn_id", "txn_date", "direction", "amount", "counterparty_account", "counterparty_name"),
    )
    why = (
        pl.when(pl.col("registered"))
        .then(pl.format("已于{}销户，其后仍发生", date_zh(pl.col("closed_date"))))
        .otherwise(pl.lit("未在基金账户登记中，却发生"))
    )
    dates = (
        pl.when(pl.col("first_date") == pl.col("last_date"))
        .then(date_zh(pl.col("first_date")))
        .otherwise(pl.format("{}至{}", date_zh(pl.col("first_date")), date_zh(pl.col("last_date"))))
    )
    summary = pl.format(
        "账号{}{}资金收付{}笔（{}），共计{}元",
        pl.col("account_no"),
        why,
        pl.col("movements"),
        dates,
        yuan(pl.col("amount_at_risk")),
    )
    return per_account.select(
        finding(
            "UNREGISTERED_ACCOUNT",
            subject_id=pl.col("account_no"),
            period_from=period_of(pl.col("first_date")),
            period_to=period_of(pl.col("last_date")),
            amount_at_risk=pl.col("amount_at_risk"),
            summary=summary,
            evidence_rows=pl.col("evidence_rows"),
        )
    )
