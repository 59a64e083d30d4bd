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

Near misses (账实不符，仅日期超窗): an unmatched ledger line and an unmatched special-account
bank line with the same account, direction and amount, more than 3 but at most
`NEAR_MISS_DAYS` days apart, are most likely one movement booked late. Both stay findings
(each side must be worked: the books or the bank is wrong), linked: they are paired
greedily like the matching above (by gap, then line), and each paired line's evidence row
names its pair (`pair_key` = "ledger:<entry_id>|bank:<txn_id>", `paired_with` = the other
finding's subject_id, `paired_suspect_id` = its suspect_id, `pair_gap_days`); the summary
says so. The money of a pair is at risk once: every total of amount at risk counts a pair
once (the reports: one case of the pair carries it, docs/adr/0019-report-time-base.md).

amount_at_risk = the line's amount; period = month of the line's date; person_id is
null. region_code is the province (330000): the special account is kept at province
level and carries no pooling region in the data.

Grain: one row per unmatched line (per entry_id / txn_id; lines sharing an id are
summed into one finding).
"""

from __future__ import annotations

import hashlib

import polars as pl

from pipelines.rules.common import MONEY, date_zh, evidence_rows, finding, label, period_of, yuan

WINDOW_DAYS = 3  # contract: "within ±3 days", both ends counted
# A pair further apart than the window but within a month is a late booking of one movement, not two
# movements: linked so that totals count its money once (issue 12). Beyond a month, two lines of equal
# amount are as likely two different movements (monthly transfers of a fixed sum).
NEAR_MISS_DAYS = 31
RULE = "RECON_LEDGER_BANK"
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


def suspect_id_of(subject_id: str) -> str:
    """The suspect_id a finding of this rule gets in `suspects` (docs/adr/0006: derived, the same in every run)."""
    return "SP-" + hashlib.md5(f"{RULE}|{subject_id}".encode()).hexdigest()[:16]


def _near_miss_pairs(ledger: pl.DataFrame, bank: pl.DataFrame) -> pl.DataFrame:
    """Unmatched ledger and special-account bank lines that differ only by the date window, paired greedily.

    One row per pair: l_no, b_no, entry_id, txn_id, gap (days), pair_key.
    """
    candidates = (
        ledger.select("l_no", "entry_id", "entry_date", *MATCH_KEY)
        .join(bank.select("b_no", "txn_id", "txn_date", *MATCH_KEY), on=list(MATCH_KEY))
        .with_columns((pl.col("entry_date") - pl.col("txn_date")).dt.total_days().abs().alias("gap"))
        .filter((pl.col("gap") > WINDOW_DAYS) & (pl.col("gap") <= NEAR_MISS_DAYS))
        .sort("gap", "l_no", "b_no")
        .with_row_index("k")
    )
    pairs = _greedy_matching(candidates).join(candidates, on=["l_no", "b_no"]).sort("l_no")
    return pairs.select(
        "l_no",
        "b_no",
        "entry_id",
        "txn_id",
        "gap",
        pl.concat_str([pl.lit("ledger:"), pl.col("entry_id"), pl.lit("|bank:"), pl.col("txn_id")]).alias("pair_key"),
    )


def _pair_columns(lines: pl.DataFrame, pairs: pl.DataFrame, number: str, other_side: str, other_id: str):
    """The lines with their pair's columns (null where unpaired): pair_key, paired_with, paired_suspect_id, gap."""
    other = [f"{other_side}:{line_id}" for line_id in pairs[other_id].to_list()]
    linked = pairs.select(
        number,
        "pair_key",
        pl.Series("paired_with", other, dtype=pl.String),
        pl.Series("paired_suspect_id", [suspect_id_of(s) for s in other], dtype=pl.String),
        pl.col("gap").alias("pair_gap_days"),
    )
    return lines.join(linked, on=number, how="left")


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

    left_ledger = ledger.join(matched, on="l_no", how="anti")
    left_bank = bank.join(special, on="account_no", how="semi").join(matched, on="b_no", how="anti")
    pairs = _near_miss_pairs(left_ledger, left_bank)

    line_columns = [
        "account_no",
        "direction",
        "amount",
        pl.col("summary").alias("memo"),
        "counterparty_account",
        "rivals",
        "pair_key",
        "paired_with",
        "paired_suspect_id",
        "pair_gap_days",
    ]
    unmatched_ledger = (
        _pair_columns(left_ledger, pairs, "l_no", "bank", "txn_id")
        .join(rivals_of_ledger, on="l_no", how="left")
        .select(
            pl.lit("ledger").alias("side"),
            pl.col("entry_id").alias("line_id"),
            pl.col("entry_date").alias("line_date"),
            *line_columns,
        )
    )
    unmatched_bank = (
        _pair_columns(left_bank, pairs, "b_no", "ledger", "entry_id")
        .join(rivals_of_bank, on="b_no", how="left")
        .select(
            pl.lit("bank").alias("side"),
            pl.col("txn_id").alias("line_id"),
            pl.col("txn_date").alias("line_date"),
            *line_columns,
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
            pl.format(
                "{}（疑点{}）", pl.col("paired_with").str.replace(r"^(ledger|bank):", ""), pl.col("paired_suspect_id")
            )
            .drop_nulls()
            .sort()
            .str.join("、")
            .alias("paired_with"),
            pl.col("pair_gap_days").drop_nulls().sort().cast(pl.String).str.join("、").alias("pair_gaps"),
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
                "pair_key",
                "paired_with",
                "paired_suspect_id",
                "pair_gap_days",
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
    # The pair of a near miss, named in both findings: one movement booked late, at risk once.
    partner_words = pl.when(pl.col("side") == "ledger").then(pl.lit("银行流水")).otherwise(pl.lit("明细账凭证"))
    paired = (
        pl.when(pl.col("paired_with") != "")
        .then(
            pl.format(
                "；与{}{}仅日期相差{}日（超出前后3日），疑为同一笔款项：两条疑点均须核查，涉及金额在合计中只计一次",
                partner_words,
                pl.col("paired_with"),
                pl.col("pair_gaps"),
            )
        )
        .otherwise(pl.lit(""))
    )
    summary = pl.format(
        "{}{}{}：{}账号{}{}{}元，{}{}{}",
        line_words,
        pl.col("line_id"),
        several,
        date_zh(pl.col("first_date")),
        pl.col("account_no"),
        direction_zh,
        yuan(pl.col("amount_at_risk")),
        missing_on,
        rivals,
        paired,
    )
    return per_subject.select(
        finding(
            RULE,
            subject_id=pl.col("subject_id"),
            region_code=pl.lit(PROVINCE_CODE),
            period_from=period_of(pl.col("first_date")),
            period_to=period_of(pl.col("last_date")),
            amount_at_risk=pl.col("amount_at_risk"),
            summary=summary,
            evidence_rows=pl.col("evidence_rows"),
        )
    )
