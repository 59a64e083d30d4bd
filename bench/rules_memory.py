"""Peak memory and time of each detection rule, one process per (rule, engine, shards) (issue 17, ADR 0029).

Three steps, each its own command:

    # 1. stage a cached clean inbox as a run stages it (DuckDB read_csv into the run's own tables, then
    #    pipelines.detect.stage.stage_datasets): the Arrow IPC files the rules read
    python bench/rules_memory.py stage --inbox bench/cache/clean-1000000 --out /tmp/stage-1m

    # 2. every rule under /usr/bin/time -v, in-memory vs streaming, one pass vs sharded (JSON lines appended)
    python bench/rules_memory.py measure --stage /tmp/stage-1m --out /tmp/rules-1m.jsonl \
        [--rules RECON_PAYMENT ...] [--modes in-memory/1 streaming/1 streaming/auto]

    # 3. the Markdown table of a measurement file
    python bench/rules_memory.py table /tmp/rules-1m.jsonl

A mode is `<engine>/<shards>`: engine `in-memory` or `streaming` (Polars' collect engine), shards a number or
`auto` (engine.shard_count: the product's choice). `run` (what `measure` starts) runs one rule through
engine.run_rule and prints its seconds, findings and a digest of the findings (md5 of their CSV), so that the
modes are checked finding for finding at every size, not only in the tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PYTHON = ROOT / ".venv" / "bin" / "python"
AS_OF = dt.date(2026, 11, 27)
THRESHOLD = Decimal("100000.00")
DEFAULT_MODES = ("in-memory/1", "streaming/1", "streaming/auto")
LOAD_MEMORY_LIMIT = "4GB"


def stage(inbox: Path, out: Path) -> None:
    """The inbox's datasets loaded with DuckDB's read_csv into the tables a run creates (same DDL, so the same
    column types and order; lineage filled with placeholders, which staging drops), then staged as a run does."""
    from pipelines.detect.stage import stage_datasets
    from pipelines.warehouse.session import connect
    from schemas.datasets import DATASETS, DUCKDB_TYPES

    out.mkdir(parents=True, exist_ok=True)
    db = out / "load.duckdb"
    db.unlink(missing_ok=True)
    started = time.monotonic()
    con = connect(db, memory_limit=LOAD_MEMORY_LIMIT)
    try:
        for spec in DATASETS:
            files = sorted((inbox / spec.name).glob("*.csv"))
            if not files:  # staged empty, as a run stages a dataset never delivered
                stage_datasets(con, out, [spec.name])
                continue
            names = ", ".join(f'"{c.name}"' for c in spec.columns)
            types = ", ".join(f"'{c.name}': '{DUCKDB_TYPES[c.kind]}'" for c in spec.columns)
            listing = ", ".join(f"'{f.as_posix()}'" for f in files)
            # Names and types come from the fixed contract spec, file names from the cached inbox.
            con.execute(
                f"INSERT INTO \"{spec.name}\" ({names}, source_file, run_id) SELECT {names}, 'bench', 'bench' "
                f"FROM read_csv([{listing}], header = true, columns = {{{types}}}, dateformat = '%Y-%m-%d', "
                "timestampformat = '%Y-%m-%d %H:%M:%S')"
            )
            # staged at once and emptied, so that the database file holds one dataset at a time (10M: 15 GB of CSV)
            stage_datasets(con, out, [spec.name])
            con.execute(f'DELETE FROM "{spec.name}"')
            con.execute("CHECKPOINT")
            print(f"staged {spec.name} ({time.monotonic() - started:.0f} s)", flush=True)
    finally:
        con.close()
    db.unlink(missing_ok=True)
    print(f"staged {out} in {time.monotonic() - started:.1f} s", flush=True)


def run(stage_dir: Path, code: str, engine: str, shards: str) -> dict:
    """One rule, one mode, in this process (started by `measure` under /usr/bin/time -v)."""
    from pipelines.detect.engine import run_rule, shard_count
    from pipelines.rules import BY_CODE

    rule = BY_CODE[code]
    count = shard_count(rule, stage_dir) if shards == "auto" else int(shards)
    sampler = RssSampler()
    sampler.start()
    started = time.monotonic()
    found = run_rule(rule, stage_dir, AS_OF, THRESHOLD, shards=count, engine=engine)
    seconds = time.monotonic() - started
    sampler.stop()
    digest = hashlib.md5(found.write_csv().encode()).hexdigest()
    return {
        "rule": code,
        "engine": engine,
        "shards": count,
        "seconds": round(seconds, 2),
        "findings": found.height,
        "digest": digest,
        **sampler.peaks(),
    }


class RssSampler(threading.Thread):
    """Samples /proc/self/status every 50 ms: the peak of anonymous memory (what the process allocated) and of
    file pages (the memory-mapped Arrow files a scan touched, which the kernel may drop), apart. Peak RSS from
    /usr/bin/time is at most their sum."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.anon = self.file = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
            self.anon = max(self.anon, int(fields["RssAnon"].split()[0]))
            self.file = max(self.file, int(fields["RssFile"].split()[0]))

    def stop(self) -> None:
        self.done.set()
        self.join()

    def peaks(self) -> dict:
        return {"anon_peak_gb": round(self.anon / 1024 / 1024, 2), "file_peak_gb": round(self.file / 1024 / 1024, 2)}


def measure(stage_dir: Path, out: Path, codes: list[str], modes: list[str], label: str) -> None:
    from pipelines.rules import RULES

    for code in codes or [r.code for r in RULES]:
        for mode in modes:
            engine, shards = mode.split("/")
            cmd = [
                str(PYTHON),
                __file__,
                "run",
                "--stage",
                str(stage_dir),
                "--rule",
                code,
                "--engine",
                engine,
                "--shards",
                shards,
            ]
            proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
            peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
            wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", proc.stderr)
            if proc.returncode != 0:
                record = {"rule": code, "engine": engine, "shards": shards, "error": proc.stderr[-2000:]}
            else:
                record = json.loads(proc.stdout.strip().splitlines()[-1])
            record.update(
                mode=mode,
                label=label,
                peak_gb=round(int(peak.group(1)) / 1024 / 1024, 2) if peak else None,
                process_wall=wall.group(1) if wall else None,
                measured_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            )
            with out.open("a") as f:
                f.write(json.dumps(record) + "\n")
            shown = {k: record.get(k) for k in ("rule", "mode", "shards", "seconds", "peak_gb", "findings")}
            print(json.dumps(shown), flush=True)


def table(path: Path) -> str:
    """Rule by rule: peak GB / seconds per mode, and whether every mode gave the same findings."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    modes = list(dict.fromkeys(r["mode"] for r in records))
    rules = list(dict.fromkeys(r["rule"] for r in records))
    head = "| rule | " + " | ".join(f"{m} peak GB / s" for m in modes) + " | shards (auto) | findings | same |"
    lines = [head, "|---|" + "---:|" * len(modes) + "---:|---:|---|"]
    for code in rules:
        mine = {r["mode"]: r for r in records if r["rule"] == code}
        cells = []
        for m in modes:
            r = mine.get(m)
            cells.append("—" if r is None else "error" if "error" in r else f"{r['peak_gb']:.2f} / {r['seconds']:.1f}")
        digests = {r["digest"] for r in mine.values() if "digest" in r}
        found = {r["findings"] for r in mine.values() if "findings" in r}
        auto = next((r["shards"] for r in mine.values() if r["mode"].endswith("/auto") and "shards" in r), "—")
        same = "yes" if len(digests) == 1 else "NO"
        lines.append(f"| {code} | " + " | ".join(cells) + f" | {auto} | {', '.join(map(str, found))} | {same} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("stage")
    p.add_argument("--inbox", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("run")
    p.add_argument("--stage", type=Path, required=True)
    p.add_argument("--rule", required=True)
    p.add_argument("--engine", default="streaming")
    p.add_argument("--shards", default="auto")
    p = sub.add_parser("measure")
    p.add_argument("--stage", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--rules", nargs="*", default=[])
    p.add_argument("--modes", nargs="*", default=list(DEFAULT_MODES))
    p.add_argument("--label", default="")
    p = sub.add_parser("table")
    p.add_argument("path", type=Path)
    args = ap.parse_args(argv)
    if args.command == "stage":
        stage(args.inbox, args.out)
    elif args.command == "run":
        print(json.dumps(run(args.stage, args.rule, args.engine, args.shards)))
    elif args.command == "measure":
        measure(args.stage, args.out, args.rules, args.modes, args.label)
    else:
        print(table(args.path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
