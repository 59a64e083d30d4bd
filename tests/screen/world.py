"""A small published world for screening tests: a DuckDB file holding the datasets screening reads, written from
plain rows, with or without the screening lookup (`pipelines.screen.facts.build`), and batches built as records.

IDs are synthetic with valid GB 11643 check digits (`person(n)`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from pipelines.screen import facts
from pipelines.screen.batch import Batch, from_records
from pipelines.synth.ids import check_digit
from pipelines.warehouse.session import connect

AS_OF = dt.date(2026, 11, 27)
D = dt.date
LONG_AGO = dt.date(2000, 1, 1)


def person(n: int, born: str = "19550101", region: str = "330102") -> str:
    body = f"{region}{born}{n:03d}"
    return body + check_digit(body)


def publish(path: Path, tables: Mapping[str, Sequence[Mapping[str, object]]], *, lookup: bool) -> Path:
    """Write `tables` (dataset -> rows of its contract columns) into a new DuckDB file at `path`."""
    con = connect(path)
    try:
        for dataset, rows in tables.items():
            if not rows:
                continue
            frame = pl.DataFrame(list(rows), infer_schema_length=None).with_columns(
                pl.lit("test.csv").alias("source_file"), pl.lit(1).alias("source_line"), pl.lit("r1").alias("run_id")
            )
            con.register("_rows", frame.to_arrow())
            con.execute(f"INSERT INTO {dataset} BY NAME SELECT * FROM _rows")
            con.unregister("_rows")
        con.execute(
            "INSERT INTO runs (run_id, as_of, started_at, finished_at, status) "
            "VALUES ('r1', DATE '2026-11-27', now(), now(), 'succeeded')"
        )
        if lookup:
            facts.build(con)
    finally:
        con.close()
    return path


def open_world(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def pay(
    n: int,
    who: str,
    period: str,
    amount: str = "3210.00",
    *,
    kind: str = "pension",
    scheme: str = "110",
    account: str | None = None,
    region: str = "330100",
) -> dict[str, object]:
    """A benefit payment (paid, in the published file: Decimal amount; a batch record: text)."""
    return {
        "payment_id": f"P{n}",
        "person_id": who,
        "region_code": region,
        "scheme": scheme,
        "benefit_type": kind,
        "period": period,
        "amount": Decimal(amount),
        "bank_account": account or f"62170000{n:08d}",
        "pay_date": None,
        "batch_id": None,
    }


def enrol(
    who: str,
    scheme: str = "110",
    start: dt.date = LONG_AGO,
    end: dt.date | None = None,
    employer: str | None = None,
    n: int = 1,
    name: str = "张三",
) -> dict[str, object]:
    return {
        "enrollment_id": f"E{who[-6:]}{n}",
        "person_id": who,
        "name": name,
        "gender": None,
        "birth_date": None,
        "region_code": "330100",
        "scheme": scheme,
        "employer_id": employer,
        "start_date": start,
        "end_date": end,
    }


def batch_of(rows: Sequence[Mapping[str, object]]) -> Batch:
    """Batch records (amounts as text, as a file carries them), lines 2, 3, … as in a file with a header."""
    records = [{k: (str(v) if v is not None else None) for k, v in r.items()} for r in rows]
    return from_records([(i + 2, r) for i, r in enumerate(records)], AS_OF, "0" * 64)
