"""DUP_CLAIM 医保重复报销 — one medical bill reimbursed twice.

Contract (section 3): two or more claims with the same invoice number (ignoring
case, spaces and full-width forms), or the same person, hospital, service date and
total amount; amount at risk = fund_paid of every such claim but the first by
claim_id. subject_id = person_id.

A duplicate group is either all claims whose folded invoice number is equal
(across persons: one invoice pays once, whoever presents it) or all claims of one
person with equal hospital_id, service_date and total_amount. In each group the
claim with the smallest claim_id is kept; every other claim is at risk, once even
when it sits in two groups, and is charged to its own person. period_from /
period_to = the months of the service dates of all claims in the groups where the
person has a claim at risk (the kept claim included); region_code = the region of
the person's first claim at risk (by claim_id).

Folding an invoice number (identically in the SQL twin): full-width forms
U+FF01..U+FF5E to ASCII, ASCII letters to upper case, every Unicode white-space
character (the ideographic space U+3000 included) removed.

Grain: one row per person with at least one claim at risk.
"""

from __future__ import annotations

import string

import polars as pl

from pipelines.rules.common import MONEY, date_zh, evidence_rows, finding, period_of, yuan

# One character map, spelled out so that the SQL twin's translate() can use the very same one:
# full-width forms to (upper-case) ASCII, ASCII to upper case, Unicode White_Space removed.
_FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
_WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"
)
INVOICE_FOLD = (
    dict(zip(_FULL_WIDTH, "".join(chr(ord(c) - 0xFEE0) for c in _FULL_WIDTH).upper(), strict=True))
    | dict(zip(string.ascii_lowercase, string.ascii_uppercase, strict=True))
    | dict.fromkeys(_WHITE_SPACE, "")
)
CLAIM_FIELDS = ("claim_id", "person_id", "hospital_id", "invoice_no", "service_date", "total_amount", "fund_paid")


def invoice_key(invoice_no: pl.Expr) -> pl.Expr:
    """The invoice number as compared: 'zj 2025ｂ01' -> 'ZJ2025B01'."""
    return invoice_no.str.replace_many(INVOICE_FOLD)


VISIT = ("person_id", "hospital_id", "service_date", "total_amount")
# The two criteria's group keys; a claim without one (no invoice number, a part of the visit missing) is in no group.
INVOICE_GROUP = invoice_key(pl.col("invoice_no"))
VISIT_GROUP = pl.concat_str([pl.col(c).cast(pl.String) for c in VISIT], separator="|")
HAS_INVOICE = INVOICE_GROUP.is_not_null() & (INVOICE_GROUP != "")
HAS_VISIT = pl.all_horizontal(pl.col(c).is_not_null() for c in VISIT)


def _repeated_hashes(claims: pl.LazyFrame, key: pl.Expr, has_key: pl.Expr) -> pl.LazyFrame:
    """The 64-bit hashes of the group keys that more than one claim has."""
    counts = claims.filter(has_key).group_by(key.hash().alias("_h")).agg(pl.len().alias("_claims"))
    return counts.filter(pl.col("_claims") > 1).select("_h")


def candidates(medical_claims: pl.LazyFrame) -> pl.LazyFrame:
    """The claims that may be in a duplicate group: those whose invoice or visit key at least one other claim has.

    Read first, in two streamed passes, so that the rule's memory is bounded by the duplicates, not by every claim
    (docs/adr/0029): over all claims the window by group held every claim with its string keys (10.7 GB at 10M
    persons); a count per 64-bit hash of each key holds 16 bytes a key (0.6 GB), and the claims kept are nearly
    none. Exact: a claim left out is alone in both its groups, so it is neither at risk nor kept for another; a hash
    collision only lets a claim through, and the exact grouping after it finds it alone.
    """
    by_invoice, by_visit = pl.collect_all(
        [
            _repeated_hashes(medical_claims, INVOICE_GROUP, HAS_INVOICE),
            _repeated_hashes(medical_claims, VISIT_GROUP, HAS_VISIT),
        ],
        engine="streaming",
    )
    repeated = (HAS_INVOICE & INVOICE_GROUP.hash().is_in(by_invoice["_h"].implode())) | (
        HAS_VISIT & VISIT_GROUP.hash().is_in(by_visit["_h"].implode())
    )
    return medical_claims.filter(repeated).collect(engine="streaming").lazy()


def detect(medical_claims: pl.LazyFrame) -> pl.LazyFrame:
    claims = candidates(medical_claims).select(*CLAIM_FIELDS, "region_code", INVOICE_GROUP.alias("invoice_key"))
    same_invoice = claims.filter(pl.col("invoice_key").is_not_null() & (pl.col("invoice_key") != "")).with_columns(
        pl.lit("invoice").alias("criterion"), pl.col("invoice_key").alias("group_key")
    )
    same_visit = claims.filter(HAS_VISIT).with_columns(
        pl.lit("visit").alias("criterion"), VISIT_GROUP.alias("group_key")
    )
    group = ("criterion", "group_key")
    members = (
        pl.concat([same_invoice, same_visit])
        .with_columns(pl.col("claim_id").min().over(group).alias("kept_claim"))
        .with_columns((pl.col("claim_id") != pl.col("kept_claim")).alias("repeats"))
    )
    repeats = members.filter(pl.col("repeats"))
    at_risk = (
        repeats.group_by("person_id", "claim_id")
        .agg(
            pl.col("fund_paid").first(),
            pl.col("region_code").first(),
            (pl.col("criterion") == "invoice").any().alias("by_invoice"),
            (pl.col("criterion") == "visit").any().alias("by_visit"),
        )
        .group_by("person_id")
        .agg(
            pl.col("fund_paid").sum().cast(MONEY).alias("amount_at_risk"),
            pl.len().alias("claims_at_risk"),
            pl.col("region_code").sort_by("claim_id").first(),
            pl.col("by_invoice").any(),
            pl.col("by_visit").any(),
        )
    )
    repeated_claims = repeats.select("claim_id").unique().with_columns(pl.lit("重复").alias("role"))
    involved = (
        repeats.select(pl.col("person_id").alias("subject_id"), *group)
        .unique()
        .join(members.select(*group, *CLAIM_FIELDS), on=group, how="inner")
        .unique(["subject_id", "claim_id"])
        .join(repeated_claims, on="claim_id", how="left")
        .with_columns(pl.col("role").fill_null("保留"))
    )
    per_person = involved.group_by("subject_id").agg(
        pl.col("service_date").min().alias("first_service"),
        pl.col("service_date").max().alias("last_service"),
        evidence_rows(*CLAIM_FIELDS, "role"),
    )
    basis = (
        pl.when(pl.col("by_invoice") & pl.col("by_visit"))
        .then(pl.lit("同一发票号码，或同一人同一医院同日同金额"))
        .when(pl.col("by_invoice"))
        .then(pl.lit("同一发票号码"))
        .otherwise(pl.lit("同一人同一医院同日同金额"))
    )
    when = (
        pl.when(pl.col("first_service") == pl.col("last_service"))
        .then(date_zh(pl.col("first_service")))
        .otherwise(pl.format("{}至{}", date_zh(pl.col("first_service")), date_zh(pl.col("last_service"))))
    )
    summary = pl.format(
        "{}就诊的医保结算有{}笔与在先结算重复（{}），统筹基金重复支付{}元",
        when,
        pl.col("claims_at_risk"),
        basis,
        yuan(pl.col("amount_at_risk")),
    )
    return at_risk.join(per_person, left_on="person_id", right_on="subject_id", how="inner").select(
        finding(
            "DUP_CLAIM",
            subject_id=pl.col("person_id"),
            person_id=pl.col("person_id"),
            region_code=pl.col("region_code"),
            period_from=period_of(pl.col("first_service")),
            period_to=period_of(pl.col("last_service")),
            amount_at_risk=pl.col("amount_at_risk"),
            summary=summary,
            evidence_rows=pl.col("evidence_rows"),
        )
    )
