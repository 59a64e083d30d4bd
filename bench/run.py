"""`make bench`: fundwatch against the hand-written SQL peer, per province size (issues 6 and 17).

For each size (default 100k, 1M and 10M persons) and each kind of run asked (`--kinds`, default all):

1. the inboxes are generated once with `fundwatch synth --seed 1` and cached under `bench/cache/<kind>-<persons>/`
   (the generator's own time and peak memory kept beside them): `clean` (--clean), `dirty` (the default: mixed
   encodings, bad rows, mistyped IDs) and `dense` (--clean --finding-share 0.07: findings planted for about 7% of
   persons, a bad year; about 9× the generator's own density of ~0.76%);
2. the kinds, back to back: `peer` (bench/peer.py: DuckDB `read_csv` + the plain-SQL rules of `sql/rules/`, on
   the clean inbox), `clean` (`fundwatch run` on it into a fresh DuckDB file), `rerun` (`fundwatch run` again with
   nothing new), `dirty` (fundwatch on the dirty inbox), `dense` (the peer on the dense inbox, then fundwatch);
3. each timed end to end with `/usr/bin/time -v` (wall seconds, peak resident memory); fundwatch's per-phase
   seconds read from its `runs` table; the run's fixed cost = wall − the sum of its phases (interpreter start-up,
   Prefect and its temporary server, the summary, exit);
4. at 1M, on the clean run's published file: the workbench's pages (bench/web_pages.py), pre-payment screening
   (bench/screening.py, batch and API), unless --no-pages; at 1M and 10M the identity resolution and DUP_IDENTITY
   beside its SQL twin (bench/identity.py), unless --no-identity.

fundwatch runs **as a user runs it from the README**: no Prefect server configured (PREFECT_API_URL is removed
from the child's environment), so each run starts Prefect's temporary server and pays for it. Prefect's home is
the bench's own (a scratch folder), warmed by one run on an empty inbox first, as a user's is after a first run.
Beside it, the served path: the same empty-inbox run against a Prefect server started here (`fixed_cost`), and
with --served the clean run once more against that server (`clean_served`).

results.json is merged run by run: a size's runs not measured in this invocation keep their earlier numbers, each
run with its own `measured_at` (so `--sizes 10000000 --kinds clean` re-measures 10M clean alone and keeps the rest).
A results.json of the issue 6 format is kept whole under `history.issue6` (its targets table rendered as history).

    python bench/run.py [--sizes 100000 1000000 10000000] [--kinds peer clean rerun dirty dense] [--served]
                        [--no-pages] [--no-identity] [--work DIR] [--fresh]
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE = ROOT / "bench" / "cache"
FUNDWATCH = ROOT / ".venv" / "bin" / "fundwatch"
PYTHON = ROOT / ".venv" / "bin" / "python"
RESULTS = ROOT / "bench" / "results.json"
AS_OF = "2026-11-27"
SEED = 1
DEFAULT_SIZES = (100_000, 1_000_000, 10_000_000)
KINDS = ("peer", "clean", "rerun", "dirty", "dense")
DENSE_SHARE = 0.07  # issue 17: findings for about 7% of persons
PHASES = ("prepare", "ingest", "rules", "cases", "publish")
PAGES_PERSONS = 1_000_000  # the size the workbench's pages and screening are timed at (issues 13, 15)
IDENTITY_SIZES = (1_000_000, 10_000_000)  # the identity resolution and DUP_IDENTITY (issue 17)
SCHEMA = 17


def now() -> str:
    return dt.datetime.now().isoformat("T", "minutes")


def timed(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> dict:
    """Run cmd under /usr/bin/time -v: wall seconds, peak RSS (GB), exit status; output to `log`."""
    load = os.getloadavg()[0]  # the machine is shared: how busy it was when the run started
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
        "load_1m": round(load, 1),
    }


def synth_args(kind: str, persons: int, path: Path) -> list[str]:
    """The `fundwatch synth` command of a cached inbox of `kind`."""
    args = [str(FUNDWATCH), "synth", "--persons", str(persons), "--seed", str(SEED), "--out", str(path)]
    if kind in ("clean", "dense"):
        args.append("--clean")
    if kind == "dense":
        args += ["--finding-share", str(DENSE_SHARE)]
    return args


def inbox(kind: str, persons: int) -> Path:
    """The cached inbox of `kind` (clean, dirty, dense), generated on first use."""
    path = CACHE / f"{kind}-{persons}"
    if not (path / "_truth" / "summary.json").is_file():
        path.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} ...", flush=True)
        synth = timed(synth_args(kind, persons, path), CACHE / f"{kind}-{persons}.synth.log")
        if synth["exit"] != 0:
            raise SystemExit(f"synth failed, see {CACHE / f'{kind}-{persons}.synth.log'}")
        (CACHE / f"{kind}-{persons}.synth.json").write_text(json.dumps(synth) + "\n")
    return path


def inbox_facts(kind: str, path: Path) -> dict:
    summary = json.loads((path / "_truth" / "summary.json").read_text(encoding="utf-8"))
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and "_truth" not in p.parts)
    facts = {"rows": sum(summary["rows"].values()), "bytes": size, "findings": sum(summary["findings"].values())}
    synth = CACHE / f"{path.name}.synth.json"
    if synth.is_file():
        facts["synth"] = json.loads(synth.read_text())
    return facts


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


def fixed_seconds(run: dict) -> float:
    """Wall time of a run outside its phases: interpreter start-up, Prefect (its temporary server), summary, exit."""
    return round(run["wall_seconds"] - sum(run.get(f"{p}_seconds") or 0 for p in PHASES), 2)


def fundwatch_run(inbox_path: Path, db: Path, log: Path, env: dict[str, str], mode: str) -> dict:
    result = timed([str(FUNDWATCH), "run", "--inbox", str(inbox_path), "--db", str(db), "--as-of", AS_OF], log, env)
    if result["exit"] not in (0, 1):  # 1 = bad input reported (the dirty inbox)
        raise SystemExit(f"fundwatch run failed ({result['exit']}), see {log}")
    record = {**result, **run_record(db), "mode": mode}
    return {**record, "fixed_seconds": fixed_seconds(record), "measured_at": now()}


def peer_run(inbox_path: Path, work: Path, tag: str) -> dict:
    db, out = work / f"{tag}.duckdb", work / f"{tag}.json"
    fresh(db)
    cmd = [
        str(PYTHON),
        str(ROOT / "bench" / "peer.py"),
        "--inbox",
        str(inbox_path),
        "--db",
        str(db),
        "--json",
        str(out),
    ]
    result = timed(cmd, work / f"{tag}.log")
    if result["exit"] != 0:
        raise SystemExit(f"peer failed, see {work / f'{tag}.log'}")
    fresh(db)
    return {**result, **json.loads(out.read_text()), "measured_at": now()}


def fresh(db: Path) -> None:
    for p in db.parent.glob(db.name + "*"):
        p.unlink()
    for p in db.parent.glob(db.stem + ".cases*"):
        p.unlink()


def readme_env(home: Path) -> dict[str, str]:
    """The environment of a user following the README: no Prefect server configured."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return {**env, "PREFECT_HOME": str(home)}


def empty_runs(work: Path, envs: dict[str, dict[str, str]]) -> dict:
    """`fundwatch run` on an empty inbox per mode: its whole wall time is the fixed cost (the first README-mode
    run, which creates Prefect's home database, is a warm-up and not counted)."""
    empty = work / "empty-inbox"
    empty.mkdir(exist_ok=True)
    out: dict = {}
    for mode, env in envs.items():
        for attempt in ("warm-up", "measured") if mode == "readme" else ("measured",):
            db = work / "empty.duckdb"
            fresh(db)
            result = timed([str(FUNDWATCH), "run", "--inbox", str(empty), "--db", str(db)], work / "empty.log", env)
            if attempt == "measured":
                out[f"empty_{mode}_seconds"] = result["wall_seconds"]
    if "empty_served_seconds" in out:
        out["temporary_server_seconds"] = round(out["empty_readme_seconds"] - out["empty_served_seconds"], 2)
    return {**out, "measured_at": now()}


def bench_size(
    persons: int,
    kinds: list[str],
    work: Path,
    envs: dict[str, dict[str, str]],
    opts: dict,
    save: Callable[[dict], None],
) -> dict:
    """The runs of one size: {"persons", "inboxes": {kind: facts}, "runs": {name: record}, ...}, handed to `save`
    after every run (a run that fails stops the bench, and what was measured before it is kept)."""
    tag = f"{persons}"
    inboxes: dict[str, dict] = {}
    runs: dict[str, dict] = {}

    def record(name: str, run: dict) -> None:
        runs[name] = run
        save({"persons": persons, "inboxes": dict(inboxes), "runs": {name: run}})

    if "peer" in kinds or "clean" in kinds:
        clean = inbox("clean", persons)
        inboxes["clean"] = inbox_facts("clean", clean)
    if "peer" in kinds:
        print(f"[{persons:,}] peer ...", flush=True)
        record("peer", peer_run(clean, work, f"peer-{tag}"))
    if "clean" in kinds:
        print(f"[{persons:,}] fundwatch clean (as the README runs it) ...", flush=True)
        db = work / f"fw-clean-{tag}.duckdb"
        fresh(db)
        record("clean", fundwatch_run(clean, db, work / f"fw-clean-{tag}.log", envs["readme"], "readme"))
        if "rerun" in kinds:
            print(f"[{persons:,}] fundwatch rerun ...", flush=True)
            record("rerun", fundwatch_run(clean, db, work / f"fw-rerun-{tag}.log", envs["readme"], "readme"))
        extra = {"db_gb": round(db.stat().st_size / 1024**3, 2), **on_published(persons, db, work, opts)}
        save({"persons": persons, "inboxes": dict(inboxes), "runs": {}, **extra})
        fresh(db)
        if "served" in envs and opts["served"]:
            print(f"[{persons:,}] fundwatch clean (served) ...", flush=True)
            record("clean_served", fundwatch_run(clean, db, work / f"fw-served-{tag}.log", envs["served"], "served"))
            fresh(db)
    if "dirty" in kinds:
        dirty = inbox("dirty", persons)
        inboxes["dirty"] = inbox_facts("dirty", dirty)
        print(f"[{persons:,}] fundwatch dirty ...", flush=True)
        db = work / f"fw-dirty-{tag}.duckdb"
        fresh(db)
        record("dirty", fundwatch_run(dirty, db, work / f"fw-dirty-{tag}.log", envs["readme"], "readme"))
        fresh(db)
    if "dense" in kinds:
        dense = inbox("dense", persons)
        inboxes["dense"] = inbox_facts("dense", dense)
        print(f"[{persons:,}] peer dense ...", flush=True)
        record("peer_dense", peer_run(dense, work, f"peer-dense-{tag}"))
        print(f"[{persons:,}] fundwatch dense ...", flush=True)
        db = work / f"fw-dense-{tag}.duckdb"
        fresh(db)
        record("dense", fundwatch_run(dense, db, work / f"fw-dense-{tag}.log", envs["readme"], "readme"))
        fresh(db)
    print(f"[{persons:,}] " + ", ".join(f"{k} {r['wall_seconds']} s" for k, r in runs.items()), flush=True)
    return {"persons": persons, "inboxes": inboxes, "runs": dict(runs)}


def on_published(persons: int, db: Path, work: Path, opts: dict) -> dict:
    """What is timed on the clean run's published file while it exists: pages, screening, identity."""
    from pipelines.cases.register import register_path_for

    out: dict = {}
    register = register_path_for(db)
    if persons == PAGES_PERSONS and opts["pages"]:
        from bench import screening, web_pages

        print(f"[{persons:,}] workbench pages ...", flush=True)
        out["web_pages"] = web_pages.measure(db, register, work / f"web-{persons}", persons=persons)
        print(f"[{persons:,}] pre-payment screening ...", flush=True)
        out["screening"] = screening.measure(db, register, work / f"screen-{persons}", persons=persons)
    if persons in opts["identity_sizes"]:
        print(f"[{persons:,}] identity resolution and DUP_IDENTITY ...", flush=True)
        log = work / f"identity-{persons}.log"
        out_json = work / f"identity-{persons}.json"
        cmd = [str(PYTHON), str(ROOT / "bench" / "identity.py"), "--db", str(db), "--json", str(out_json)]
        result = timed(cmd, log)
        if result["exit"] != 0:
            raise SystemExit(f"identity bench failed, see {log}")
        out["identity"] = {**json.loads(out_json.read_text()), "peak_gb": result["peak_gb"], "measured_at": now()}
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


def load_previous(path: Path) -> dict:
    """The results to merge into: results.json as it is; one of the issue 6 format kept whole as history."""
    if not path.is_file():
        return {"schema": SCHEMA, "sizes": []}
    earlier = json.loads(path.read_text(encoding="utf-8"))
    if earlier.get("schema") == SCHEMA:
        return earlier
    keep = {k: earlier[k] for k in ("web_pages", "screening", "machine", "date") if earlier.get(k)}  # until re-timed
    issue6 = {k: v for k, v in earlier.items() if k not in keep}
    return {"schema": SCHEMA, "sizes": [], **keep, "history": {"issue6": issue6}}


def merge(results: dict, size: dict) -> dict:
    """`size` merged into results: its runs, inboxes and measurements replace those of the same name, the
    others stay (each with its measured_at)."""
    by = {s["persons"]: s for s in results["sizes"]}
    old = by.get(size["persons"], {"persons": size["persons"], "inboxes": {}, "runs": {}})
    new = {**old, **{k: v for k, v in size.items() if k not in ("inboxes", "runs")}}
    new["inboxes"] = {**old.get("inboxes", {}), **size["inboxes"]}
    new["runs"] = {**old.get("runs", {}), **size["runs"]}
    by[size["persons"]] = new
    return {**results, "sizes": [by[p] for p in sorted(by)]}


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="persons (any, e.g. 20000)")
    ap.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    ap.add_argument("--work", type=Path, default=None, help="scratch folder for the DuckDB files (default: a temp dir)")
    ap.add_argument("--fresh", action="store_true", help="drop the earlier results of sizes and runs not measured now")
    ap.add_argument("--served", action="store_true", help="also run the clean inbox against a running Prefect server")
    ap.add_argument(
        "--no-pages", action="store_true", help=f"skip the workbench's pages and screening (at {PAGES_PERSONS:,})"
    )
    ap.add_argument("--no-identity", action="store_true", help="skip the identity resolution and DUP_IDENTITY")
    ap.add_argument(
        "--identity-sizes", type=int, nargs="*", default=list(IDENTITY_SIZES), help="sizes the identity is timed at"
    )
    ap.add_argument("--results", type=Path, default=RESULTS, help="results.json to merge into (results.md beside it)")
    args = ap.parse_args(argv)
    if "rerun" in args.kinds and "clean" not in args.kinds:
        ap.error("--kinds rerun needs clean (a rerun is of the clean run's file)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from pipelines.app import prefect_server as serve

    CACHE.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="fundwatch-bench-", dir=CACHE))
    work.mkdir(parents=True, exist_ok=True)
    results = {"schema": SCHEMA, "sizes": []} if args.fresh else load_previous(args.results)
    results |= {"date": dt.date.today().isoformat(), "machine": machine()}
    opts = {
        "pages": not args.no_pages,
        "identity_sizes": [] if args.no_identity else args.identity_sizes,
        "served": args.served,
    }
    envs = {"readme": readme_env(work / "prefect-readme")}
    port = serve.free_port()
    home = work / "prefect-served"
    server = serve.start_server(port, home, work / "prefect-server.log")
    try:
        serve.wait_for_health(serve.api_url_for(port), server)
        envs["served"] = {**os.environ, "PREFECT_API_URL": serve.api_url_for(port), "PREFECT_HOME": str(home)}
        results["fixed_cost"] = empty_runs(work, envs)
        if not args.served:  # the measured runs are the README's: no server running beside them
            serve.stop_process(server)
            server = None

        def save(size: dict) -> None:
            nonlocal results
            size = dict(size)
            for section in ("web_pages", "screening"):
                if section in size:
                    notes = (results.get(section) or {}).get("notes")  # the analysis written after a run
                    results[section] = {**size.pop(section), **({"notes": notes} if notes else {})}
            if "identity" in size:
                results.setdefault("identity", {})[str(size["persons"])] = size.pop("identity")
            results = merge(results, size)
            write_results(results, args.results)

        for persons in args.sizes:
            bench_size(persons, args.kinds, work, envs, opts, save)
    finally:
        if server is not None:
            serve.stop_process(server)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    write_results(results, args.results)
    print(args.results.with_suffix(".md").read_text(encoding="utf-8"))
    return 0


def write_results(results: dict, path: Path = RESULTS) -> None:
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    path.with_suffix(".md").write_text(render(results), encoding="utf-8")


def render(results: dict) -> str:
    """results.md: the run's tables (bench/report.py), then the workbench's pages (bench/web_pages.py) and
    pre-payment screening (bench/screening.py), then the history."""
    from bench.report import render_history, render_markdown
    from bench.screening import render_markdown as render_screening
    from bench.web_pages import render_markdown as render_pages

    return (
        render_markdown(results)
        + render_pages(results.get("web_pages"))
        + render_screening(results.get("screening"))
        + render_history(results)
    )


if __name__ == "__main__":
    raise SystemExit(main())
