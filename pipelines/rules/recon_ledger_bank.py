"""RECON_LEDGER_BANK 专户账实不符 — the special account's books and the bank do not agree.

Contract (section 3): a finance_ledger entry (财政专户明细账) with no bank_statements
movement (银行对账单) on the same account, same direction and amount, within ±3 days —
or a bank movement on an account registered as `special` (财政专户) in fund_accounts
with no such ledger entry; each line is matched at most once.
subject_id = `ledger:<entry_id>` or `bank:<txn_id>`.

Matching is greedy and deterministic: candidate pairs are taken in the order
(|date gap|, entry_id, txn_id), each line at most once. It is computed as the fixed
point of "match every pair that is the best remaining pair of both its lines" (the
same matching as the greedy pass); pairs without a rival are matched in the first step.
A ledger entry may match a bank movement on any account; only unmatched bank
movements on special accounts are findings.

amount_at_risk = the line's amount; period = month of the line's date; person_id is
null. region_code is the province (330000): the special account is kept at province
level and carries no pooling region in the data.

Grain: one row per unmatched line (per entry_id / txn_id; lines sharing an id are
summed into one finding).
"""

from __future__ import annotations

import polars as pl

from pipelines.rules.common import MONEY, date_zh, evidence_rows, finding, label, period_of, yuan

WINDOW_DAYS = 3  # contract: "within ±3 days", both ends counted
# 财政专户 is kept by the provincial finance department: the province verifies it itself.
PROVINCE_CODE = "330000"
MATCH_KEY = ("account_no", "direction", "amount")


def _numbered(lines: pl.LazyFrame, line_id: str, line_date: str, number: str) -> pl.DataFrame:
    """The lines with a line number in (id, account, date, direction, amount) order.

    Numbers, not ids, identify lines, so a voucher number booked twice is still two lines.
    """
    return (
        lines.sort(line_id, "account_no", line_date, "direction", "amount", maintain_order=True)
        .with_row_index(number, offset=1)
        .collect()
    )


def _greedy_matching(candidates: pl.DataFrame) -> pl.DataFrame:
    """(l_no, b_no) pairs matched greedily by the candidates' rank `k` (lower is better)."""
    lone = (pl.len().over("l_no") == 1) & (pl.len().over("b_no") == 1)
    matched = [candidates.filter(lone).select("l_no", "b_no")]
    rest = candidates.filter(~lone)
    while rest.height:
        rest = rest.with_columns(
            ((pl.col("k") == pl.col("k").min().over("l_no")) & (pl.col("k") == pl.col("k").min().over("b_no"))).alias(
                "mutual"
            )
        )
        matched.append(rest.filter("mutual").select("l_no", "b_no"))
        rest = rest.filter(~pl.col("mutual").any().over("l_no") & ~pl.col("mutual").any().over("b_no")).drop("mutual")
    return pl.concat(matched)


def detect(finance_ledger: pl.LazyFrame, bank_statements: pl.LazyFrame, fund_accounts: pl.LazyFrame) -> pl.LazyFrame:
    ledger = _numbered(finance_ledger, "entry_id", "entry_date", "l_no")
    bank = _numbered(bank_statements, "txn_id", "txn_date", "b_no")
    candidates = (
        ledger.select("l_no", "entry_id", "entry_date", *MATCH_KEY)
        .join(bank.select("b_no", "txn_id", "txn_date", *MATCH_KEY), on=list(MATCH_KEY))
        .with_columns((pl.col("entry_date") - pl.col("txn_date")).dt.total_days().abs().alias("gap"))
        .filter(pl.col("gap") <= WINDOW_DAYS)
        .sort("gap", "l_no", "b_no")
        .with_row_index("k")
    )
    matched = _greedy_matching(candidates)

    # Lines within the window that were taken by another line: what an analyst checks first.
    rivals_of_ledger = candidates.group_by("l_no").agg(pl.col("txn_id").unique().sort().str.join(",").alias("rivals"))
    rivals_of_bank = candidates.group_by("b_no").agg(pl.col("entry_id").unique().sort().str.join(",").alias("rivals"))
    special = fund_accounts.filter(pl.col("account_type") == "special").select("account_no").unique().collect()

    unmatched_ledger = (
        ledger.join(matched, on="l_no", how="anti")
        .join(rivals_of_ledger, on="l_no", how="left")
        .select(
            pl.lit("ledger").alias("side"),
            pl.col("entry_id").alias("line_id"),
            "account_no",
            pl.col("entry_date").alias("line_date"),
            "direction",
            "amount",
            pl.col("summary").alias("memo"),
            "counterparty_account",
            "rivals",
        )
    )
    unmatched_bank = (
        bank.join(special, on="account_no", how="semi")
        .join(matched, on="b_no", how="anti")
        .join(rivals_of_bank, on="b_no", how="left")
        .select(
            pl.lit("bank").alias("side"),
            pl.col("txn_id").alias("line_id"),
            "account_no",
            pl.col("txn_date").alias("line_date"),
            "direction",
            "amount",
            pl.col("summary").alias("memo"),
            "counterparty_account",
            "rivals",
        )
    )
    lines = pl.concat([unmatched_ledger, unmatched_bank]).with_columns(
        pl.concat_str([pl.col("side"), pl.lit(":"), pl.col("line_id")]).alias("subject_id")
    )
    per_subject = (
        lines.lazy()
        .group_by("subject_id")
        .agg(
            pl.col("side", "line_id").first(),
            pl.col("account_no").sort().first(),
            pl.col("direction").sort().first(),
            pl.col("line_date").min().alias("first_date"),
            pl.col("line_date").max().alias("last_date"),
            pl.col("amount").sum().cast(MONEY).alias("amount_at_risk"),
            pl.len().alias("n_lines"),
            pl.col("rivals").drop_nulls().sort().str.join(",").alias("rivals"),
            evidence_rows(
                "side",
                "line_id",
                "account_no",
                "line_date",
                "direction",
                "amount",
                "memo",
                "counterparty_account",
                pl.col("rivals").alias("matched_elsewhere"),
            ),
        )
    )
    direction_zh = label("direction", pl.col("direction"))
    line_words = (
        pl.when(pl.col("side") == "ledger").then(pl.lit("财政专户明细账凭证")).otherwise(pl.lit("财政专户银行流水"))
    )
    missing_on = (
        pl.when(pl.col("side") == "ledger")
        .then(pl.lit("银行对账单无前后3日内同账户、同方向、同金额的流水"))
        .otherwise(pl.lit("明细账无前后3日内同账户、同方向、同金额的记账"))
    )
    several = (
        pl.when(pl.col("n_lines") > 1).then(pl.format("（同一编号共{}笔）", pl.col("n_lines"))).otherwise(pl.lit(""))
    )
    rivals = (
        pl.when(pl.col("rivals") != "")
        .then(pl.format("；窗口内的{}已与其他记录配对", pl.col("rivals")))
        .otherwise(pl.lit(""))
    )
    summary = pl.format(
        "{}{}{}：{}账号{}{}{}元，{}{}",
        line_words,
        pl.col("line_id"),
        several,
        date_zh(pl.col("first_date")),
        pl.col("account_no"),
        direction_zh,
        yuan(pl.col("amount_at_risk")),
        missing_on,
        rivals,
    )
    return per_subject.select(
        finding(
            "RECON_LEDGER_BANK",
            subject_id=pl.col("subject_id"),
            region_code=pl.lit(PROVINCE_CODE),
            period_from=period_of(pl.col("first_date")),
            period_to=period_of(pl.col("last_date")),
            amount_at_risk=pl.col("amount_at_risk"),
            summary=summary,
            evidence_rows=pl.col("evidence_rows"),
        )
    )
