"""DUP_ENROLL 重复参保 — one person enrolled twice in the same insurance at the same time.

Contract (section 3): two enrollment spells of one person that overlap by more
than 30 days (days in both spells, counting both ends; a spell without end_date
is still open), where both are the same scheme in different regions, or the
same scheme twice in one region, or two schemes of one family (pension
110/120/170; medical 310/390). subject_id = person_id.

An open spell runs until `as_of` (the data date). The contract defines no money
for this rule: amount_at_risk = 0.00. period_from / period_to = the months of the
first and last overlapping day over all the person's overlapping pairs;
region_code = the region of the later-starting spell of the first overlapping
pair (by first overlapping day, then enrollment_id): the region that enrolled
the person a second time verifies it.

Grain: one row per person with at least one such pair.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipelines.rules.common import MEDICAL_SCHEMES, MONEY, PENSION_SCHEMES, evidence_rows, finding, label, period_of

# Contract: "overlap by more than 30 days", both ends counted.
MAX_TOLERATED_OVERLAP_DAYS = 30

# Contract: schemes of one family insure the same risk (养老 / 医疗); one person may hold only one.
SCHEME_FAMILY = {s: "pension" for s in PENSION_SCHEMES} | {s: "medical" for s in MEDICAL_SCHEMES}

SPELL_FIELDS = ("enrollment_id", "scheme", "region_code", "employer_id", "start_date", "end_date")


def _summary(as_of: dt.date) -> pl.Expr:
    """One sentence on the first overlapping pair, e.g. 企业职工基本养老保险在330100与330200两地参保重叠150天（…）."""
    earlier, later = label("scheme", pl.col("earlier_scheme")), label("scheme", pl.col("later_scheme"))
    same_scheme = pl.col("earlier_scheme") == pl.col("later_scheme")
    same_region = pl.col("earlier_region") == pl.col("later_region")
    who = (
        pl.when(same_scheme & same_region)
        .then(pl.format("{}在{}重复参保，", earlier, pl.col("earlier_region")))
        .when(same_scheme)
        .then(pl.format("{}在{}与{}两地参保", earlier, pl.col("earlier_region"), pl.col("later_region")))
        .otherwise(
            pl.format("{}（{}）与{}（{}）同时参保", earlier, pl.col("earlier_region"), later, pl.col("later_region"))
        )
    )
    first_day = pl.col("first_overlap_from").dt.strftime("%Y-%m-%d")
    last_day = pl.col("first_overlap_to").dt.strftime("%Y-%m-%d")
    when = (
        pl.when(pl.col("first_still_open"))
        .then(pl.format("（{}起至今，计至{}）", first_day, pl.lit(as_of.isoformat())))
        .otherwise(pl.format("（{}至{}）", first_day, last_day))
    )
    more = pl.when(pl.col("pairs") > 1).then(pl.format("；另有{}组参保重叠", pl.col("pairs") - 1)).otherwise(pl.lit(""))
    return pl.concat_str([who, pl.lit("重叠"), pl.col("first_days").cast(pl.String), pl.lit("天"), when, more])


def detect(enrollment: pl.LazyFrame, *, as_of: dt.date) -> pl.LazyFrame:
    spells = enrollment.select(
        "person_id",
        *SPELL_FIELDS,
        pl.col("end_date").fill_null(pl.lit(as_of)).alias("last_day"),  # an open spell runs until the data date
        pl.col("scheme").replace_strict(SCHEME_FAMILY, default=None, return_dtype=pl.String).alias("family"),
    )
    pairs = (
        spells.join(spells, on="person_id", suffix="_b")
        .filter(pl.col("enrollment_id") < pl.col("enrollment_id_b"))
        .filter((pl.col("scheme") == pl.col("scheme_b")) | (pl.col("family") == pl.col("family_b")))
        .with_columns(
            pl.max_horizontal("start_date", "start_date_b").alias("overlap_from"),
            pl.min_horizontal("last_day", "last_day_b").alias("overlap_to"),
        )
        .with_columns(((pl.col("overlap_to") - pl.col("overlap_from")).dt.total_days() + 1).alias("overlap_days"))
        .filter(pl.col("overlap_days") > MAX_TOLERATED_OVERLAP_DAYS)
    )
    # Within a pair the spell with the larger enrollment_id is side b: on equal start dates it counts as later.
    b_later = pl.col("start_date_b") >= pl.col("start_date")
    pairs = pairs.with_columns(
        pl.when(b_later).then(pl.col("scheme")).otherwise(pl.col("scheme_b")).alias("earlier_scheme"),
        pl.when(b_later).then(pl.col("region_code")).otherwise(pl.col("region_code_b")).alias("earlier_region"),
        pl.when(b_later).then(pl.col("scheme_b")).otherwise(pl.col("scheme")).alias("later_scheme"),
        pl.when(b_later).then(pl.col("region_code_b")).otherwise(pl.col("region_code")).alias("later_region"),
        (pl.col("end_date").is_null() & pl.col("end_date_b").is_null()).alias("still_open"),
    )
    first_pair = ("overlap_from", "enrollment_id", "enrollment_id_b")

    def of_first_pair(column: str, alias: str) -> pl.Expr:
        return pl.col(column).sort_by(*first_pair).first().alias(alias)

    per_person = pairs.group_by("person_id").agg(
        pl.col("overlap_from").min().alias("overlap_from"),
        pl.col("overlap_to").max().alias("overlap_to"),
        pl.len().alias("pairs"),
        *(of_first_pair(c, c) for c in ("earlier_scheme", "earlier_region", "later_scheme", "later_region")),
        of_first_pair("overlap_from", "first_overlap_from"),
        of_first_pair("overlap_to", "first_overlap_to"),
        of_first_pair("overlap_days", "first_days"),
        of_first_pair("still_open", "first_still_open"),
    )
    involved = pl.concat(
        [
            pairs.select("person_id", *SPELL_FIELDS),
            pairs.select("person_id", *(pl.col(f"{c}_b").alias(c) for c in SPELL_FIELDS)),
        ]
    ).unique()
    evidence = involved.group_by("person_id").agg(evidence_rows(*SPELL_FIELDS))
    return per_person.join(evidence, on="person_id", how="inner").select(
        finding(
            "DUP_ENROLL",
            subject_id=pl.col("person_id"),
            person_id=pl.col("person_id"),
            region_code=pl.col("later_region"),
            period_from=period_of(pl.col("overlap_from")),
            period_to=period_of(pl.col("overlap_to")),
            amount_at_risk=pl.lit(0).cast(MONEY),  # the contract defines no money for a double enrollment
            summary=_summary(as_of),
            evidence_rows=pl.col("evidence_rows"),
        )
    )
