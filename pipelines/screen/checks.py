"""The reasons to hold a payment (CONTRACT.md section 7), each computed with the nightly rule's own statement.

A reason is never a second copy of a rule: DECEASED asks `deceased_paid.paid_after_death`, IN_CUSTODY
`prisoner_paid.pensions_in_custody`, ALREADY_PAID groups by `dup_benefit.DUPLICATE_KEY`, EMPLOYED asks
`unemp_while_employed.employment_grounds`, PENSIONER `unemp_with_pension.unemployment_with_pension`,
SHARED_ACCOUNT `shared_account.shared_periods` — over the batch's rows beside the published rows. Change a rule's
definition and screening follows it; tests/screen/test_agreement.py holds the two to the same rows.

Every check takes the valid rows of the batch (`line` and the benefit_payments columns) and returns one row per
held line: (`line`, `reason`, `clause`) — `clause` a part of the Chinese sentence that explains it, naming no
citizen ID and masking accounts. Inside, each line is a payment whose `payment_id` is `#<line>`: a batch may
repeat a payment_id, or carry one already paid, and the rules key payments by it.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.present.labels import SCREEN_REASON_ZH, SCREEN_REASONS
from pipelines.present.masking import mask_account
from pipelines.rules import (
    deceased_paid,
    dup_benefit,
    prisoner_paid,
    shared_account,
    unemp_while_employed,
    unemp_with_pension,
)
from pipelines.rules.common import label, period_zh, yuan
from pipelines.screen import facts as facts_module
from pipelines.screen.facts import Facts

# The contract's order of the reasons (section 7), and their Chinese: one statement, in pipelines.present.labels.
REASONS = SCREEN_REASONS
REASON_ZH = SCREEN_REASON_ZH
HELD = pl.Schema({"line": pl.Int64, "reason": pl.String, "clause": pl.String})


def _probe(batch: pl.DataFrame) -> pl.LazyFrame:
    """The batch as payments the rules can read: payment_id `#<line>` (unique; the real one kept)."""
    return batch.lazy().with_columns(
        pl.col("payment_id").alias("batch_payment_id"), pl.format("#{}", pl.col("line")).alias("payment_id")
    )


def _line() -> pl.Expr:
    return pl.col("payment_id").str.strip_prefix("#").cast(pl.Int64).alias("line")


def _paying() -> pl.Expr:
    """'2025年5月基本养老金3,210.00元' of a batch row."""
    return pl.format(
        "{}{}{}元", period_zh(pl.col("period")), label("benefit_type", pl.col("benefit_type")), yuan(pl.col("amount"))
    )


def _held(frame: pl.LazyFrame, reason: str, clause: pl.Expr) -> pl.LazyFrame:
    return frame.select(_line(), pl.lit(reason).alias("reason"), clause.alias("clause"))


def deceased(probe: pl.LazyFrame, death_records: pl.LazyFrame) -> pl.LazyFrame:
    deaths = deceased_paid.first_death(death_records)
    late = deceased_paid.paid_after_death(probe, deaths)
    clause = pl.format(
        "{}死亡（{}，{}），本批次仍发放{}",
        period_zh(pl.col("death_period")),
        label("death_source", pl.col("death_source")),
        pl.col("death_date").dt.strftime("%Y-%m-%d"),
        _paying(),
    )
    return _held(late, "DECEASED", clause)


def in_custody(probe: pl.LazyFrame, custody_records: pl.LazyFrame) -> pl.LazyFrame:
    spells = prisoner_paid.stopping_spells(custody_records)
    covered = prisoner_paid.pensions_in_custody(probe, spells)
    # the spell that started first names it (a payment covered by two overlapping spells is held once)
    first = covered.sort("start_date", "sentence_type").group_by("payment_id").first()
    clause = pl.format(
        "{}起服刑（{}），本批次仍发放{}", period_zh(pl.col("start_period")), prisoner_paid.spell_text(), _paying()
    )
    return _held(first, "IN_CUSTODY", clause)


def already_paid(probe: pl.LazyFrame, paid: pl.LazyFrame) -> pl.LazyFrame:
    key = list(dup_benefit.DUPLICATE_KEY)
    earlier = paid.group_by(key).agg(
        pl.col("payment_id").min().alias("paid_id"),
        pl.col("amount").sort_by("payment_id").first().alias("paid"),
        pl.len().alias("times"),
    )
    by_paid = _held(
        probe.join(earlier, on=key),
        "ALREADY_PAID",
        pl.format(
            "{}{}已发放（发放流水号{}，{}元{}）",
            period_zh(pl.col("period")),
            label("benefit_type", pl.col("benefit_type")),
            pl.col("paid_id"),
            yuan(pl.col("paid")),
            pl.when(pl.col("times") > 1).then(pl.format("，共{}笔", pl.col("times"))).otherwise(pl.lit("")),
        ),
    )
    first_line = probe.select(*key, _line()).group_by(key).agg(pl.col("line").min().alias("first_line"))
    repeated = probe.join(first_line, on=key).filter(_line() > pl.col("first_line"))
    by_batch = _held(
        repeated,
        "ALREADY_PAID",
        pl.format(
            "与本批次第{}行重复（同一人{}{}）",
            pl.col("first_line"),
            period_zh(pl.col("period")),
            label("benefit_type", pl.col("benefit_type")),
        ),
    )
    # a line both paid already and repeated in the batch: one clause, the paid one
    return pl.concat([by_paid, by_batch]).unique(subset=["line"], keep="first", maintain_order=True)


def employed(probe: pl.LazyFrame, wages: pl.LazyFrame, enrollment: pl.LazyFrame, horizon: dt.date) -> pl.LazyFrame:
    grounds = unemp_while_employed.employment_grounds(probe, wages, enrollment, as_of=horizon)
    flagged = probe.join(grounds, on=["person_id", "payment_id"], how="inner")
    clause = pl.format(
        "{}仍有就业（{}），不应发放失业保险金{}元",
        period_zh(pl.col("period")),
        pl.col("grounds"),
        yuan(pl.col("amount")),
    )
    return _held(flagged, "EMPLOYED", clause)


def pensioner(probe: pl.LazyFrame, paid: pl.LazyFrame) -> pl.LazyFrame:
    in_batch = (
        unemp_with_pension.unemployment_with_pension(probe, probe)
        .select("payment_id")
        .with_columns(pl.lit(True).alias("in_batch"))
    )
    from_paid = (
        unemp_with_pension.unemployment_with_pension(probe, paid)
        .select("payment_id")
        .with_columns(pl.lit(True).alias("from_paid"))
    )
    flagged = (
        probe.join(in_batch, on="payment_id", how="left")
        .join(from_paid, on="payment_id", how="left")
        .filter(pl.col("in_batch").is_not_null() | pl.col("from_paid").is_not_null())
    )
    where = (
        pl.when(pl.col("from_paid").is_not_null() & pl.col("in_batch").is_not_null())
        .then(pl.lit("已发放且本批次另有发放"))
        .when(pl.col("from_paid").is_not_null())
        .then(pl.lit("已发放"))
        .otherwise(pl.lit("本批次另有发放"))
    )
    clause = pl.format(
        "{}基本养老金{}，不应同时发放失业保险金{}元", period_zh(pl.col("period")), where, yuan(pl.col("amount"))
    )
    return _held(flagged, "PENSIONER", clause)


def shared(probe: pl.LazyFrame, paid: pl.LazyFrame) -> pl.LazyFrame:
    together = pl.concat(
        [paid.select("bank_account", "period", "person_id"), probe.select(paid.collect_schema().names())]
    )
    periods = shared_account.shared_periods(together)
    flagged = probe.join(periods, on=["bank_account", "period"], how="inner")
    account = pl.col("bank_account").map_elements(mask_account, return_dtype=pl.String)
    clause = pl.format(
        "账户{}在{}将收到{}人的待遇（{}人及以上共用一个账户）",
        account,
        period_zh(pl.col("period")),
        pl.col("persons_in_period"),
        pl.lit(shared_account.MIN_PERSONS),
    )
    return _held(flagged, "SHARED_ACCOUNT", clause)


def blacklisted(probe: pl.LazyFrame, blacklist: pl.DataFrame) -> pl.LazyFrame:
    entries = blacklist.lazy().select("kind", "key", "reason", pl.col("added_at").str.slice(0, 10).alias("since"))
    listed = pl.format("已列入黑名单（{}，{}列入）", pl.col("reason"), pl.col("since"))
    persons = probe.join(
        entries.filter(pl.col("kind") == "person").select(pl.col("key").alias("person_id"), listed.alias("p")),
        on="person_id",
    ).select("payment_id", pl.format("收款人{}", pl.col("p")).alias("text"))
    accounts = probe.join(
        entries.filter(pl.col("kind") == "account").select(pl.col("key").alias("bank_account"), listed.alias("a")),
        on="bank_account",
    ).select("payment_id", pl.format("收款账户{}", pl.col("a")).alias("text"))
    hits = pl.concat([persons, accounts]).group_by("payment_id").agg(pl.col("text").sort().str.join("；"))
    return _held(hits, "BLACKLISTED", pl.col("text"))


def unknown_person(probe: pl.LazyFrame, enrollment: pl.LazyFrame) -> pl.LazyFrame:
    enrolled = enrollment.select("person_id").unique()
    nobody = probe.join(enrolled, on="person_id", how="anti")
    return _held(nobody, "UNKNOWN_PERSON", pl.lit("无任何参保登记记录"))


def horizon_of(batch: pl.DataFrame, as_of: dt.date) -> dt.date:
    """Until when an open enrollment spell runs, for EMPLOYED: `as_of`, or the end of the batch's latest month if
    later — a batch for next month is screened before it begins, and a job still open is a job then too."""
    latest = batch.select(pl.col("period").max()).item()
    if latest is None:
        return as_of
    year, month = int(latest[:4]), int(latest[4:6])
    month_end = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return max(as_of, month_end)


def holds(batch: pl.DataFrame, facts: Facts, blacklist: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """(line, reason, clause) for every reason every valid line of `batch` is held for, in no order.

    A check with nothing to look at is not planned at all (no death notice of these persons, no custody, no
    unemployment payment in the batch, an empty blacklist): the same answer, without the cost of planning and running
    a query over empty frames — what makes one payment cheap enough for the service (issue 15: ≤ 100 ms).
    """
    if batch.height == 0:
        return pl.DataFrame(schema=HELD)
    probe = _probe(batch)
    persons = batch.select("person_id")  # `Facts` asks each key once
    unemployment = "unemployment" in batch.get_column("benefit_type").to_list()
    asked = {name: persons for name in ("payments", "enrollment", "deaths", "custody")}
    asked["account_payments"] = batch.select("bank_account", "period")
    if unemployment:
        asked["wages"] = persons
    of = facts.read_all(asked)
    payments, enrollment = of["payments"].lazy(), of["enrollment"].lazy()
    parts = [
        already_paid(probe, payments),
        shared(probe, of["account_payments"].lazy()),
        unknown_person(probe, enrollment),
    ]
    if of["deaths"].height:
        parts.append(deceased(probe, of["deaths"].lazy()))
    if of["custody"].height:
        parts.append(in_custody(probe, of["custody"].lazy()))
    if unemployment:
        parts += [employed(probe, of["wages"].lazy(), enrollment, horizon_of(batch, as_of)), pensioner(probe, payments)]
    if blacklist.height:
        parts.append(blacklisted(probe, blacklist))
    # A few lines: Polars' optimiser costs more than it saves on frames of a few rows (the same answer either way).
    small = batch.height <= facts_module.LITERAL_KEYS
    flags = pl.QueryOptFlags.none() if small else pl.QueryOptFlags()
    return pl.concat([p.cast(HELD) for p in parts]).collect(optimizations=flags)
