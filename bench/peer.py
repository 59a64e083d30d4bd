"""The peer: what an analyst who wrote the rules in SQL by hand would run.

Every dataset of a clean inbox is loaded with DuckDB's `read_csv` (types from the
contract), then every plain-SQL rule of `sql/rules/` runs and its findings are
materialised. No validation, no quarantine, no lineage, no case register: the
lower bound fundwatch is compared with (issue 6).

    python bench/peer.py --inbox bench/cache/clean-1000000 --db /tmp/peer.duckdb [--json out.json]

Prints (and optionally writes) the seconds of each phase and the findings per rule.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.detect.engine import rule_options  # noqa: E402
from pipelines.rules import RULES  # noqa: E402
from pipelines.warehouse.session import DEFAULT_MEMORY_LIMIT  # noqa: E402
from schemas.datasets import DATASETS, DUCKDB_TYPES  # noqa: E402


def load(con: duckdb.DuckDBPyConnection, inbox: Path) -> dict[str, int]:
    """One table per dataset from all its CSV files; returns rows per table."""
    rows = {}
    for spec in DATASETS:
        files = sorted((inbox / spec.name).glob("*.csv"))
        types = ", ".join(f"'{c.name}': '{DUCKDB_TYPES[c.kind]}'" for c in spec.columns)
        listing = ", ".join(f"'{f.as_posix()}'" for f in files)
        if not files:
            cols = ", ".join(f'"{c.name}" {DUCKDB_TYPES[c.kind]}' for c in spec.columns)
            con.execute(f'CREATE TABLE "{spec.name}" ({cols})')
            rows[spec.name] = 0
            continue
        con.execute(
            f'CREATE TABLE "{spec.name}" AS SELECT * FROM read_csv([{listing}], header = true, '
            f"columns = {{{types}}}, dateformat = '%Y-%m-%d', timestampformat = '%Y-%m-%d %H:%M:%S')"
        )
        rows[spec.name] = con.execute(f'SELECT count(*) FROM "{spec.name}"').fetchall()[0][0]
    return rows


def detect(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, threshold: Decimal, seconds: dict[str, float] | None = None
) -> dict[str, int]:
    """Every SQL rule materialised into a findings table; returns findings per rule (and fills `seconds`, when
    given, with each rule's seconds)."""
    found = {}
    for rule in RULES:
        started = time.monotonic()
        sql = rule.sql_file.read_text(encoding="utf-8").strip().rstrip(";")
        con.execute(f'CREATE TABLE "found_{rule.code}" AS {sql}', rule_options(rule, as_of, threshold))
        found[rule.code] = con.execute(f'SELECT count(*) FROM "found_{rule.code}"').fetchall()[0][0]
        if seconds is not None:
            seconds[rule.code] = round(time.monotonic() - started, 2)
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inbox", type=Path, required=True)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 27))
    ap.add_argument("--threshold", type=Decimal, default=Decimal("100000.00"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    for leftover in (args.db, args.db.with_name(args.db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    started = time.monotonic()
    con = duckdb.connect(str(args.db), config={"memory_limit": DEFAULT_MEMORY_LIMIT})
    rows = load(con, args.inbox)
    loaded = time.monotonic()
    rule_seconds: dict[str, float] = {}
    found = detect(con, args.as_of, args.threshold, rule_seconds)
    con.close()
    done = time.monotonic()
    out = {
        "load_seconds": round(loaded - started, 2),
        "rules_seconds": round(done - loaded, 2),
        "total_seconds": round(done - started, 2),
        "rows": sum(rows.values()),
        "findings": found,
        "rule_seconds": rule_seconds,
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
