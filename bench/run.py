"""`make bench`: fundwatch against the hand-written SQL peer, per province size (issue 6).

For each size (default 100k, 1M and 10M persons):

1. the clean and the dirty inbox are generated once with `fundwatch synth` and cached under
   `bench/cache/` (seed 1; the generator's own time and peak memory are kept beside them);
2. the peer (`bench/peer.py`: DuckDB `read_csv` + the plain-SQL rules of `sql/rules/`) runs on
   the clean inbox, then, back to back, `fundwatch run` on the same clean inbox into a fresh
   DuckDB file, then `fundwatch run` again with nothing new (the rerun), then `fundwatch run`
   on the dirty inbox into another fresh file;
3. each is timed end to end with `/usr/bin/time -v` (wall seconds, peak resident memory), and the
   per-phase seconds of fundwatch are read from its `runs` table;
4. at 1M, while the clean run's published file exists, the workbench's pages are timed on it
   (`bench/web_pages.py`: `fundwatch web` started for real, a client logged in as a chief and a verifier;
   issue 13's targets), unless --no-pages.

fundwatch runs against a Prefect server started here once (as `fundwatch serve` runs in the
office), so no run pays for the temporary server Prefect starts when none is configured; that
fixed cost is measured once on its own and reported (`temporary_server_seconds`).

The table goes to `bench/results.md`, the raw numbers to `bench/results.json` (the pages: `web_pages`, and
the "Workbench pages" section).

    python bench/run.py [--sizes 100000 1000000 10000000] [--keep] [--no-pages]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "bench" / "cache"
FUNDWATCH = ROOT / ".venv" / "bin" / "fundwatch"
PYTHON = ROOT / ".venv" / "bin" / "python"
AS_OF = "2026-11-27"
SEED = 1
DEFAULT_SIZES = (100_000, 1_000_000, 10_000_000)
PHASES = ("prepare", "ingest", "rules", "cases", "publish")

# Issue 6 targets.
TARGET_CLEAN_RATIO = 2.0  # fundwatch clean 1M / peer clean 1M
TARGET_DIRTY_RATIO = 3.0  # fundwatch dirty 1M / peer clean 1M
TARGET_PEAK_1M_GB = 6.0
TARGET_RERUN_SHARE = 0.10  # rerun / full run
TARGET_SCALING = 1.3  # time per person at 10M / at 1M
TARGET_PEAK_10M_GB = 16.0
PAGES_PERSONS = 1_000_000  # the size the workbench's pages are timed at (issue 13)


def timed(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> dict:
    """Run cmd under /usr/bin/time -v: wall seconds, peak RSS (GB), exit status; output to `log`."""
    with log.open("w") as out:
        started = time.monotonic()
        proc = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=out, stderr=subprocess.STDOUT, env=env)
        wall = time.monotonic() - started
    text = log.read_text(encoding="utf-8", errors="replace")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return {
        "wall_seconds": round(wall, 2),
        "peak_gb": round(int(peak.group(1)) / 1024 / 1024, 2) if peak else None,
        "exit": proc.returncode,
    }


def inbox(kind: str, persons: int) -> Path:
    """The cached inbox (generated on first use)."""
    path = CACHE / f"{kind}-{persons}"
    if not (path / "_truth" / "summary.json").is_file():
        path.mkdir(parents=True, exist_ok=True)
        args = [str(FUNDWATCH), "synth", "--persons", str(persons), "--seed", str(SEED), "--out", str(path)]
        if kind == "clean":
            args.append("--clean")
        print(f"generating {path.name} ...", flush=True)
        synth = timed(args, CACHE / f"{kind}-{persons}.synth.log")
        if synth["exit"] != 0:
            raise SystemExit(f"synth failed, see {CACHE / f'{kind}-{persons}.synth.log'}")
        (CACHE / f"{kind}-{persons}.synth.json").write_text(json.dumps(synth) + "\n")
    return path


def inbox_facts(path: Path) -> dict:
    summary = json.loads((path / "_truth" / "summary.json").read_text(encoding="utf-8"))
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "_truth" not in p.parts)
    return {"rows": sum(summary["rows"].values()), "bytes": size, "findings": sum(summary["findings"].values())}


def run_record(db: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "SELECT status, rows_loaded, rows_quarantined, findings, prepare_seconds, ingest_seconds, rules_seconds, "
            "cases_seconds, publish_seconds, rules_skipped FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchall()[0]
    finally:
        con.close()
    keys = ("status", "rows_loaded", "rows_quarantined", "findings", *[f"{p}_seconds" for p in PHASES])
    record = dict(zip(keys, row[:9], strict=True))
    record["rules_skipped"] = row[9]
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in record.items()}


def fundwatch_run(inbox_path: Path, db: Path, log: Path, env: dict[str, str]) -> dict:
    result = timed([str(FUNDWATCH), "run", "--inbox", str(inbox_path), "--db", str(db), "--as-of", AS_OF], log, env)
    if result["exit"] not in (0, 1):  # 1 = bad input reported (the dirty inbox)
        raise SystemExit(f"fundwatch run failed ({result['exit']}), see {log}")
    return {**result, **run_record(db)}


def fresh(db: Path) -> None:
    for p in db.parent.glob(db.name + "*"):
        p.unlink()
    for p in db.parent.glob(db.stem + ".cases*"):
        p.unlink()


def temporary_server_seconds(work: Path) -> float:
    """Wall time of a `fundwatch run` on an empty inbox with and without a running server: Prefect's
    temporary server costs the difference."""
    empty = work / "empty-inbox"
    empty.mkdir(exist_ok=True)
    env_tmp = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    walls = []
    for env in (env_tmp, dict(os.environ)):
        db = work / "empty.duckdb"
        fresh(db)
        walls.append(timed([str(FUNDWATCH), "run", "--inbox", str(empty), "--db", str(db)], work / "empty.log", env))
    return round(walls[0]["wall_seconds"] - walls[1]["wall_seconds"], 2)


def bench_size(persons: int, work: Path, env: dict[str, str], pages: bool = False) -> dict:
    clean, dirty = inbox("clean", persons), inbox("dirty", persons)
    out: dict = {"persons": persons, "clean_inbox": inbox_facts(clean), "dirty_inbox": inbox_facts(dirty)}
    for kind in ("clean", "dirty"):
        synth = CACHE / f"{kind}-{persons}.synth.json"
        if synth.is_file():
            out[f"synth_{kind}"] = json.loads(synth.read_text())
    tag = f"{persons}"
    print(f"[{persons:,}] peer ...", flush=True)
    peer_db, peer_json = work / f"peer-{tag}.duckdb", work / f"peer-{tag}.json"
    fresh(peer_db)
    peer = timed(
        [
            str(PYTHON),
            str(ROOT / "bench" / "peer.py"),
            "--inbox",
            str(clean),
            "--db",
            str(peer_db),
            "--json",
            str(peer_json),
        ],
        work / f"peer-{tag}.log",
    )
    if peer["exit"] != 0:
        raise SystemExit(f"peer failed, see {work / f'peer-{tag}.log'}")
    out["peer"] = {**peer, **json.loads(peer_json.read_text())}
    fresh(peer_db)

    print(f"[{persons:,}] fundwatch clean ...", flush=True)
    db = work / f"fw-clean-{tag}.duckdb"
    fresh(db)
    out["clean"] = fundwatch_run(clean, db, work / f"fw-clean-{tag}.log", env)
    print(f"[{persons:,}] fundwatch rerun ...", flush=True)
    out["rerun"] = fundwatch_run(clean, db, work / f"fw-rerun-{tag}.log", env)
    out["db_gb"] = round(db.stat().st_size / 1024**3, 2)
    if pages:
        from bench import web_pages
        from pipelines.cases.register import register_path_for

        print(f"[{persons:,}] workbench pages ...", flush=True)
        register = register_path_for(db)
        out["web_pages"] = web_pages.measure(db, register, work / f"web-{tag}", persons=persons)
        from bench import screening

        print(f"[{persons:,}] pre-payment screening ...", flush=True)
        out["screening"] = screening.measure(db, register, work / f"screen-{tag}", persons=persons)
    fresh(db)

    print(f"[{persons:,}] fundwatch dirty ...", flush=True)
    db = work / f"fw-dirty-{tag}.duckdb"
    fresh(db)
    out["dirty"] = fundwatch_run(dirty, db, work / f"fw-dirty-{tag}.log", env)
    fresh(db)
    out["ratio_clean"] = round(out["clean"]["wall_seconds"] / out["peer"]["wall_seconds"], 2)
    out["ratio_dirty"] = round(out["dirty"]["wall_seconds"] / out["peer"]["wall_seconds"], 2)
    out["rerun_share"] = round(out["rerun"]["wall_seconds"] / out["clean"]["wall_seconds"], 3)
    out["us_per_person_clean"] = round(out["clean"]["wall_seconds"] / persons * 1e6, 2)
    out["us_per_person_dirty"] = round(out["dirty"]["wall_seconds"] / persons * 1e6, 2)
    print(
        f"[{persons:,}] peer {out['peer']['wall_seconds']} s, fundwatch clean {out['clean']['wall_seconds']} s "
        f"({out['ratio_clean']}x), rerun {out['rerun']['wall_seconds']} s, dirty {out['dirty']['wall_seconds']} s",
        flush=True,
    )
    return out


def machine() -> dict:
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(int(mem) / 1024**2, 1),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    ap.add_argument("--work", type=Path, default=None, help="scratch folder for the DuckDB files (default: a temp dir)")
    ap.add_argument("--fresh", action="store_true", help="drop the earlier results of sizes not measured now")
    ap.add_argument("--no-pages", action="store_true", help=f"skip the workbench's pages (timed at {PAGES_PERSONS:,})")
    args = ap.parse_args(argv)

    from pipelines.app import prefect_server as serve

    CACHE.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="fundwatch-bench-", dir=CACHE))
    work.mkdir(parents=True, exist_ok=True)
    port = serve.free_port()
    home = work / "prefect"
    server = serve.start_server(port, home, work / "prefect-server.log")
    env = {**os.environ, "PREFECT_API_URL": serve.api_url_for(port), "PREFECT_HOME": str(home)}
    results: dict = {"date": dt.date.today().isoformat(), "machine": machine(), "sizes": []}
    previous = ROOT / "bench" / "results.json"
    kept = []
    if previous.is_file() and not args.fresh:  # sizes not measured now keep their earlier numbers
        earlier = json.loads(previous.read_text(encoding="utf-8"))
        kept = [s for s in earlier["sizes"] if s["persons"] not in args.sizes]
        for section in ("web_pages", "screening"):  # so do the pages and screening until they are timed again
            if earlier.get(section):
                results[section] = earlier[section]
    try:
        serve.wait_for_health(serve.api_url_for(port), server)
        os.environ.update(PREFECT_API_URL=env["PREFECT_API_URL"], PREFECT_HOME=env["PREFECT_HOME"])
        results["temporary_server_seconds"] = temporary_server_seconds(work)
        measured: list[dict] = []
        for persons in args.sizes:
            pages = persons == PAGES_PERSONS and not args.no_pages
            size = bench_size(persons, work, env, pages)
            if "web_pages" in size:
                notes = (results.get("web_pages") or {}).get("notes")  # the analysis written after a run
                results["web_pages"] = {**size.pop("web_pages"), **({"notes": notes} if notes else {})}
            if "screening" in size:
                results["screening"] = size.pop("screening")
            measured.append({**size, "measured_at": dt.datetime.now().isoformat("T", "minutes")})
            results["sizes"] = sorted(kept + measured, key=lambda s: s["persons"])
            write_results(results)
    finally:
        serve.stop_process(server)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    write_results(results)
    print((ROOT / "bench" / "results.md").read_text(encoding="utf-8"))
    return 0


def write_results(results: dict) -> None:
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (ROOT / "bench" / "results.md").write_text(render(results), encoding="utf-8")


def render(results: dict) -> str:
    """results.md: the run's tables (bench/report.py), then the workbench's pages (bench/web_pages.py) and
    pre-payment screening (bench/screening.py)."""
    from bench.report import render_markdown
    from bench.screening import render_markdown as render_screening
    from bench.web_pages import render_markdown as render_pages

    return (
        render_markdown(results) + render_pages(results.get("web_pages")) + render_screening(results.get("screening"))
    )


if __name__ == "__main__":
    raise SystemExit(main())
