"""The identity work of a run, timed on a published file (issue 17, CONTRACT section 6 and DUP_IDENTITY):

1. resolution: `--typos` enrolled citizen IDs, each mistyped by one substituted digit (which always breaks the
   GB 11643 check digit), resolved against the file's enrollment exactly as ingestion does it
   (`pipelines.ingest.resolve.resolve` with `enrolled_with`: the variants in numpy, the join in DuckDB). No
   peer exists: the hand-written SQL alternative has no resolution at all.
2. DUP_IDENTITY (一人多号): the Polars rule over the file's enrollment and benefit_payments (scanned lazily out
   of DuckDB, the reading included), one pass, beside its SQL twin (`sql/rules/dup_identity.sql`, what the peer
   runs) on the same tables; both must find the same number of findings.

    .venv/bin/python bench/identity.py --db FILE.duckdb [--typos 10000] [--json out.json]

`make bench` runs it at 1M and 10M on the clean run's published file (bench/run.py).
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
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.detect.engine import detect_polars, detect_sql  # noqa: E402
from pipelines.ingest.resolve import enrolled_with, resolve  # noqa: E402
from pipelines.rules import RULES  # noqa: E402

AS_OF = dt.date(2026, 11, 27)
THRESHOLD = Decimal("100000.00")
RULE = "DUP_IDENTITY"


def mistype(ids: list[str]) -> list[str]:
    """Each ID with one body digit replaced by the next digit (position varying): the weighted sum changes by
    w·(±1..9), never a multiple of 11, so every result has a wrong check digit and resolves to its ID unless
    another enrolled ID is one edit away."""
    out = []
    for i, pid in enumerate(ids):
        pos = 14 + i % 3  # the sequence digits: birth date untouched, as most counter typos
        out.append(pid[:pos] + str((int(pid[pos]) + 1) % 10) + pid[pos + 1 :])
    return out


def time_resolution(con: duckdb.DuckDBPyConnection, typos: int) -> dict:
    ids = [
        r[0]
        for r in con.execute(
            "SELECT person_id FROM (SELECT DISTINCT person_id FROM enrollment) ORDER BY hash(person_id) LIMIT ?",
            [typos],
        ).fetchall()
    ]
    enrolled = con.execute("SELECT count(DISTINCT person_id) FROM enrollment").fetchall()[0][0]
    mistyped = pl.DataFrame({"typed_id": mistype(ids), "name_key": pl.Series([None] * len(ids), dtype=pl.String)})
    started = time.monotonic()
    found = resolve(mistyped, enrolled_with(con))
    seconds = time.monotonic() - started
    resolved = found.with_columns(pl.Series("expected", ids)).filter(pl.col("resolved_person_id") == pl.col("expected"))
    return {
        "typos": len(ids),
        "enrolled_persons": enrolled,
        "seconds": round(seconds, 3),
        "per_second": round(len(ids) / seconds) if seconds else None,
        "resolved_to_their_person": resolved.height,
        "ambiguous": found.filter(pl.col("id_candidates") > 1).height,
    }


def time_dup_identity(con: duckdb.DuckDBPyConnection) -> dict:
    rule = next(r for r in RULES if r.code == RULE)
    # Lazy scans of the DuckDB tables (names from the registry): Polars reads only the columns the rule needs,
    # as the flow's staged Arrow files are scanned, so the input is not held whole (10M: ~67M rows).
    tables = {name: con.sql(f'SELECT * FROM "{name}"').pl(lazy=True) for name in rule.inputs}
    started = time.monotonic()
    by_polars = detect_polars(rule, tables, AS_OF, THRESHOLD)
    polars_done = time.monotonic()
    del tables
    sql_started = time.monotonic()
    by_sql = detect_sql(con, rule, AS_OF, THRESHOLD)
    sql_done = time.monotonic()
    if by_polars.height != by_sql.height:
        raise SystemExit(f"{RULE}: Polars found {by_polars.height}, its SQL twin {by_sql.height}")
    return {
        "input_rows": {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0] for n in rule.inputs},
        "polars_seconds": round(polars_done - started, 2),
        "sql_twin_seconds": round(sql_done - sql_started, 2),
        "findings": by_polars.height,
    }


def measure(db: Path, typos: int = 10_000) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {"resolution": time_resolution(con, typos), "dup_identity": time_dup_identity(con)}
    finally:
        con.close()


def render_markdown(identity: dict | None, peer_seconds: dict[int, float] | None = None) -> str:
    """The "Identity" section of results.md: per size, resolution and DUP_IDENTITY beside its SQL twin and the
    peer's own DUP_IDENTITY seconds in its full run (`peer_seconds`, per size, where the peer ran)."""
    if not identity:
        return ""
    lines = [
        "",
        "## 身份 Identity: mistyped IDs resolved (CONTRACT section 6) and 一人多号 DUP_IDENTITY",
        "",
        "On the clean run's published file (bench/identity.py). Resolution: enrolled IDs mistyped by one digit, "
        "resolved as ingestion does (no peer: the SQL peer has no resolution). DUP_IDENTITY: the Polars rule "
        "in one pass over its inputs scanned out of DuckDB (the reading included), beside its SQL twin on the "
        "same file, and the peer's DUP_IDENTITY in its own run (bench/peer.py: the same SQL over its `read_csv` "
        "tables).",
        "",
        "| persons | enrolled IDs | typos | resolve s | IDs/s | resolved | DUP_IDENTITY polars s | SQL twin (peer) s "
        "| peer run's DUP_IDENTITY s | findings | peak GB | measured |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for persons in sorted(identity, key=int):
        m = identity[persons]
        r, d = m["resolution"], m["dup_identity"]
        peer = (peer_seconds or {}).get(int(persons))
        lines.append(
            f"| {int(persons):,} | {r['enrolled_persons']:,} | {r['typos']:,} | {r['seconds']:.2f} | "
            f"{r['per_second'] or 0:,} | {r['resolved_to_their_person']:,} | {d['polars_seconds']:.2f} | "
            f"{d['sql_twin_seconds']:.2f} | {'—' if peer is None else f'{peer:.2f}'} | {d['findings']:,} | "
            f"{m.get('peak_gb') if m.get('peak_gb') is not None else '—'} | {m.get('measured_at', '—')} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--typos", type=int, default=10_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    out = measure(args.db, args.typos)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
