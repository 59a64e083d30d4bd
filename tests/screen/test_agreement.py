"""The nightly rules and screening say the same of the same rows.

The sample's published payments (every row in force of benefit_payments) are screened as a batch against the file
they were published in: a payment the nightly rule names in its evidence is held for the reason that mirrors the
rule, and no other payment is. (ALREADY_PAID is left out: every row of that batch is, by construction, paid
already.) The run's `as_of` is the screening's, so an open job runs until the same day in both.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import polars as pl
import pytest

from pipelines.screen import batch as screen_batch
from pipelines.screen import service
from tests.sample_run import AS_OF, sample_database

pytestmark = pytest.mark.slow

# screening reason -> the nightly rule whose evidence names the same payments
MIRRORS = {
    "DECEASED": "DECEASED_PAID",
    "IN_CUSTODY": "PRISONER_PAID",
    "EMPLOYED": "UNEMP_WHILE_EMPLOYED",
    "PENSIONER": "UNEMP_WITH_PENSION",
    "SHARED_ACCOUNT": "SHARED_ACCOUNT",
}


@pytest.fixture(scope="module")
def screened(tmp_path_factory) -> tuple[pl.DataFrame, dict[str, set[str]]]:
    db = sample_database(tmp_path_factory)
    with duckdb.connect(str(db), read_only=True) as con:
        paid = con.sql("SELECT * FROM benefit_payments").pl()
        named: dict[str, set[str]] = {}
        for rule, evidence in con.execute("SELECT rule, evidence_rows FROM suspects WHERE active").fetchall():
            for row in json.loads(evidence):
                if row.get("payment_id") and row.get("dataset", "benefit_payments") == "benefit_payments":
                    named.setdefault(rule, set()).add(row["payment_id"])
        # UNEMP_WITH_PENSION's evidence shows the pensions beside the unemployment payments it flags
        flagged = paid.filter(pl.col("benefit_type") == "unemployment")["payment_id"].to_list()
        named["UNEMP_WITH_PENSION"] = named.get("UNEMP_WITH_PENSION", set()) & set(flagged)
        records = [
            (i + 2, {k: (None if v is None else str(v)) for k, v in r.items() if k in screen_batch.COLUMNS})
            for i, r in enumerate(paid.iter_rows(named=True))
        ]
        batch = screen_batch.from_records(records, dt.date.fromisoformat(AS_OF), "0" * 64)
        assert batch.invalid.height == 0
        results = service.screen(batch, con, pl.DataFrame(schema=service.BLACKLIST), dt.date.fromisoformat(AS_OF))
    return results.results, named


@pytest.mark.parametrize(("reason", "rule"), MIRRORS.items())
def test_screening_holds_what_the_rule_finds(screened, reason, rule):
    results, named = screened
    held = set(results.filter(pl.col("reasons").str.split(";").list.contains(reason))["payment_id"])
    assert named.get(rule), f"the sample has no {rule} finding to compare with"
    assert held == named[rule]
