"""DUP_IDENTITY 一人多号 — one person drawing a pension under two or more citizen IDs.

Contract (section 3): two or more different citizen IDs registered in enrollment
under the same name (spaces and full-width forms ignored) whose IDs encode the same
birth date and gender, each paid a `pension` for a period for which another of them
is paid too; subject = those IDs sorted ascending, joined by `|`; person_id = the one
whose first enrollment start_date is earliest (ties: the smaller ID); amount at risk
= for every such period, all their pension payments but the largest.

Reading of the contract, in detail:

* An identity is (folded name, birth date, gender). The name is folded as DUP_CLAIM
  folds invoice numbers, without the case: full-width forms U+FF01..U+FF5E to ASCII,
  every Unicode white-space character (the ideographic space U+3000 included) removed;
  identically in the SQL twin. The birth date is ID characters 7-14 (YYYYMMDD), the
  gender the parity of the 17th digit (odd male 1, even female 2); an ID's region
  part (its first six digits) may differ. An ID enrolled under two names has two
  identities.
* A shared period of an identity is a month for which two or more of its IDs are
  paid a pension. The finding's IDs are exactly those paid in a shared period: an ID
  of the same identity that is never paid alongside another is not part of it (three
  IDs where only two are ever paid in a common month: a finding of those two). IDs
  linked through different months (A with B in March, B with C in May) form one
  finding, since each is paid in a month another of them is.
* amount_at_risk = per shared period, the sum of the pension payments of those IDs
  for that period minus the largest one (all but the largest, exactly); summed.
* person_id = the ID with the earliest enrollment start_date of any of its spells
  (ties: the smaller ID); region_code = the region of that ID's last payment in a
  shared period (by period, then payment_id); period_from / period_to = the first and
  last shared period. Evidence: every pension payment of the IDs in the shared
  periods, each with its person_id.
* The same set of IDs found under two identities (IDs enrolled under two names each)
  is one finding. An ID enrolled under two names can be in two findings with
  different ID sets; each then counts its own payments.

Sharding: every ID of an identity encodes the same birth date and gender, so the rule
gives the same findings over shards of `shard_value(person_id)` (a hash of birth date
and gender: no identity is split, and every input carries person_id; the payments
carry no name). A coarser split than the identity itself, still well spread: some
60,000 (birth date, gender) values in a province's pensioners.

Grain: one row per set of IDs (subject_id).
"""

from __future__ import annotations

import polars as pl

from pipelines.rules.common import MONEY, evidence_rows, finding, months_zh, yuan

# Full-width forms to ASCII and Unicode White_Space removed: the characters an official types differently for
# one name. Spelled out so that the SQL twin's translate() uses the very same map (as DUP_CLAIM's INVOICE_FOLD).
_FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
_WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"
)
NAME_FOLD = dict(zip(_FULL_WIDTH, (chr(ord(c) - 0xFEE0) for c in _FULL_WIDTH), strict=True)) | dict.fromkeys(
    _WHITE_SPACE, ""
)
IDENTITY = ("name_key", "birth", "gender")
PAYMENT_FIELDS = ("payment_id", "person_id", "period", "scheme", "region_code", "amount", "pay_date", "bank_account")


def name_key(name: pl.Expr) -> pl.Expr:
    """The name as compared: '张　三' and ' 张三' -> '张三'."""
    return name.str.replace_many(NAME_FOLD)


def birth_of(person_id: pl.Expr) -> pl.Expr:
    """The birth date an ID encodes, as its characters 7-14: 'YYYYMMDD'."""
    return person_id.str.slice(6, 8)


def gender_of(person_id: pl.Expr) -> pl.Expr:
    """The gender an ID encodes (GB 11643: the 17th digit odd for a man), as the gender code: '1' male, '2' female."""
    return pl.when(person_id.str.slice(16, 1).cast(pl.Int32) % 2 == 1).then(pl.lit("1")).otherwise(pl.lit("2"))


def shard_value(person_id: pl.Expr) -> pl.Expr:
    """What the engine hashes to shard this rule: birth date and gender, the part of an identity an ID carries."""
    return pl.concat_str([birth_of(person_id), gender_of(person_id)])


def detect(enrollment: pl.LazyFrame, benefit_payments: pl.LazyFrame) -> pl.LazyFrame:
    identities = (
        enrollment.select(
            "person_id",
            name_key(pl.col("name")).alias("name_key"),
            birth_of(pl.col("person_id")).alias("birth"),
            gender_of(pl.col("person_id")).alias("gender"),
        )
        .filter(pl.col("name_key").is_not_null() & (pl.col("name_key") != ""))
        .unique()
    )
    pensions = benefit_payments.filter(pl.col("benefit_type") == "pension").select(*PAYMENT_FIELDS)
    first_enrolled = enrollment.group_by("person_id").agg(pl.col("start_date").min().alias("first_start"))
    # One straight pipeline, each step used once: Polars recomputed the shared months for every branch of a plan
    # that branched after them (2.4M payments: 15 s against 1.5 s).
    # (identity, ID, month) rows, unique: a month is shared when two or more of the identity's IDs are paid for it
    shared = (
        identities.join(pensions.select("person_id", "period").unique(), on="person_id", how="inner")
        .filter(pl.len().over(*IDENTITY, "period") > 1)
        .with_columns(pl.col("person_id").unique().sort().str.join("|").over(IDENTITY).alias("subject_id"))
        # one set of IDs found under two identities is one finding: its members and months are the same under both
        .with_columns(pl.col("name_key").min().over("subject_id"))
        .select("subject_id", "name_key", "person_id", "period")
        .unique()
    )
    mine = pl.col("person_id") == pl.col("chosen_id")
    per_subject = (
        shared.join(pensions, on=["person_id", "period"], how="inner")
        .join(first_enrolled, on="person_id", how="inner")
        .with_columns(
            pl.col("person_id").sort_by("first_start", "person_id").first().over("subject_id").alias("chosen_id"),
            pl.col("amount").max().over("subject_id", "period").alias("largest"),
        )
        .group_by("subject_id")
        .agg(
            # contract: per shared period all but the largest payment, i.e. the sum less each period's largest
            (pl.col("amount").sum() - pl.col("largest").filter(pl.col("period").is_first_distinct()).sum())
            .cast(MONEY)
            .alias("amount_at_risk"),
            pl.col("period").min().alias("period_from"),
            pl.col("period").max().alias("period_to"),
            pl.col("period").n_unique().alias("months"),
            pl.col("person_id").n_unique().alias("ids"),
            pl.col("name_key").first(),
            pl.col("chosen_id").first(),
            pl.col("region_code")
            .filter(mine)
            .sort_by(pl.col("period").filter(mine), pl.col("payment_id").filter(mine))
            .last(),
            evidence_rows(*PAYMENT_FIELDS),
        )
    )
    when = months_zh(pl.col("period_from"), pl.col("period_to"), pl.col("months"))
    summary = pl.format(
        "{}（{}-{}-{}出生，{}）名下{}个公民身份号码（{}）{}同时领取基本养老金，多发{}元",
        pl.col("name_key"),
        birth_of(pl.col("chosen_id")).str.slice(0, 4),
        birth_of(pl.col("chosen_id")).str.slice(4, 2),
        birth_of(pl.col("chosen_id")).str.slice(6, 2),
        pl.when(gender_of(pl.col("chosen_id")) == "1").then(pl.lit("男")).otherwise(pl.lit("女")),
        pl.col("ids"),
        pl.col("subject_id").str.replace_all("|", "、", literal=True),
        when,
        yuan(pl.col("amount_at_risk")),
    )
    return per_subject.select(
        finding(
            "DUP_IDENTITY",
            subject_id=pl.col("subject_id"),
            person_id=pl.col("chosen_id"),
            region_code=pl.col("region_code"),
            period_from=pl.col("period_from"),
            period_to=pl.col("period_to"),
            amount_at_risk=pl.col("amount_at_risk"),
            summary=summary,
            evidence_rows=pl.col("evidence_rows"),
        )
    )
