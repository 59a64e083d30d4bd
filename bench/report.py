"""bench/results.md from the raw numbers of `bench/run.py` (bench/results.json).

python bench/report.py     # re-render results.md from results.json
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("prepare", "ingest", "rules", "cases", "publish")

# Issue 6 targets (also in bench/run.py's docstring).
TARGETS = {
    "clean_ratio": 2.0,
    "dirty_ratio": 3.0,
    "peak_1m_gb": 6.0,
    "rerun_share": 0.10,
    "scaling": 1.3,
    "peak_10m_gb": 16.0,
}


def _fmt(x: object, spec: str = ".1f") -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)):
        return format(x, spec)
    return str(x)


def _verdict(ok: bool | None) -> str:
    return "—（未测 not measured）" if ok is None else ("达标 met" if ok else "未达标 NOT met")


def targets(results: dict) -> list[tuple[str, str, str, bool | None]]:
    """(target, limit, measured, met) for each target of issue 6."""
    by = {s["persons"]: s for s in results["sizes"]}
    one, ten = by.get(1_000_000), by.get(10_000_000)
    rows: list[tuple[str, str, str, bool | None]] = []

    def add(name: str, limit: str, value: float | None, ok: bool | None, spec: str = ".2f") -> None:
        rows.append((name, limit, _fmt(value, spec), ok))

    if one:
        add(
            "1M 清洁 clean: fundwatch / peer",
            f"≤ {TARGETS['clean_ratio']}×",
            one["ratio_clean"],
            one["ratio_clean"] <= TARGETS["clean_ratio"],
        )
        add(
            "1M 清洁 clean: peak memory (GB)",
            f"≤ {TARGETS['peak_1m_gb']}",
            one["clean"]["peak_gb"],
            one["clean"]["peak_gb"] <= TARGETS["peak_1m_gb"],
        )
        add(
            "1M 脏数据 dirty: fundwatch / peer on clean",
            f"≤ {TARGETS['dirty_ratio']}×",
            one["ratio_dirty"],
            one["ratio_dirty"] <= TARGETS["dirty_ratio"],
        )
    for s in results["sizes"]:
        add(
            f"{s['persons']:,} rerun with no new files / full run",
            f"≤ {TARGETS['rerun_share']:.0%}",
            s["rerun_share"] * 100,
            s["rerun_share"] <= TARGETS["rerun_share"],
            ".1f",
        )
    if one and ten:
        for kind in ("clean", "dirty"):
            ratio = ten[f"us_per_person_{kind}"] / one[f"us_per_person_{kind}"]
            add(f"10M/1M time per person ({kind})", f"≤ {TARGETS['scaling']}", ratio, ratio <= TARGETS["scaling"])
        peak = max(ten["clean"]["peak_gb"], ten["dirty"]["peak_gb"])
        add("10M peak memory (GB)", f"≤ {TARGETS['peak_10m_gb']}", peak, peak <= TARGETS["peak_10m_gb"])
    else:
        rows.append(("10M/1M time per person; 10M peak memory", "≤ 1.3; ≤ 16 GB", "—", None))
    return rows


def render_markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# fundwatch benchmark 性能基准",
        "",
        f"Measured by `make bench` (bench/run.py; when, per size: `measured_at` in results.json) on "
        f"{m['cpus']} cores ({m['cpu']}), "
        f"{m['ram_gb']} GB RAM, Python {m['python']}. Inboxes from `fundwatch synth --seed 1` (cached in "
        "bench/cache/). Every number is one run, measured back to back on this machine; wall seconds and peak "
        "resident memory from `/usr/bin/time -v`, phases from the `runs` table.",
        "",
        "The peer (`bench/peer.py`) is the hand-written alternative: DuckDB `read_csv` of the clean CSV files "
        "with the contract's types, then the plain-SQL rules of `sql/rules/` materialised — no validation, "
        "quarantine, lineage, case register or publication.",
        "",
        f"fundwatch ran against a running Prefect server, as `fundwatch serve` runs it in the office. Without "
        f"one, `fundwatch run` first starts Prefect's temporary server: "
        f"{_fmt(results.get('temporary_server_seconds'))} s more per run, whatever the size.",
        "",
        "## 目标 Targets (issue 6)",
        "",
        "| 目标 target | 限值 limit | 实测 measured | 结论 verdict |",
        "|---|---|---|---|",
    ]
    lines += [f"| {n} | {limit} | {v} | {_verdict(ok)} |" for n, limit, v, ok in targets(results)]
    lines += [
        "",
        "## 端到端 End to end",
        "",
        "| persons | rows | peer s | clean s | ratio | rerun s | rerun share | dirty s | dirty ratio | "
        "peak GB peer / clean / dirty | µs per person clean / dirty |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for s in results["sizes"]:
        lines.append(
            f"| {s['persons']:,} | {s['clean_inbox']['rows']:,} | {_fmt(s['peer']['wall_seconds'])} | "
            f"{_fmt(s['clean']['wall_seconds'])} | {_fmt(s['ratio_clean'], '.2f')}× | "
            f"{_fmt(s['rerun']['wall_seconds'])} | {s['rerun_share']:.1%} | {_fmt(s['dirty']['wall_seconds'])} | "
            f"{_fmt(s['ratio_dirty'], '.2f')}× | {_fmt(s['peer']['peak_gb'], '.2f')} / "
            f"{_fmt(s['clean']['peak_gb'], '.2f')} / {_fmt(s['dirty']['peak_gb'], '.2f')} | "
            f"{_fmt(s['us_per_person_clean'], '.1f')} / {_fmt(s['us_per_person_dirty'], '.1f')} |"
        )
    lines += [
        "",
        "## 分阶段 Phases (seconds)",
        "",
        "| persons | run | " + " | ".join(PHASES) + " | rest (start-up, Prefect, exit) | rows loaded | quarantined | "
        "findings |",
        "|---:|---|" + "---:|" * (len(PHASES) + 4),
    ]
    for s in results["sizes"]:
        for kind in ("clean", "rerun", "dirty"):
            r = s[kind]
            phases = [r.get(f"{p}_seconds") for p in PHASES]
            rest = r["wall_seconds"] - sum(p or 0 for p in phases)
            note = " (rules carried forward)" if r.get("rules_skipped") else ""
            lines.append(
                f"| {s['persons']:,} | {kind}{note} | "
                + " | ".join(_fmt(p) for p in phases)
                + f" | {_fmt(rest)} | {r['rows_loaded']:,} | {r['rows_quarantined']:,} | {r['findings']:,} |"
            )
        p = s["peer"]
        lines.append(
            f"| {s['persons']:,} | peer | — | {_fmt(p['load_seconds'])} (read_csv) | {_fmt(p['rules_seconds'])} "
            f"| — | — | {_fmt(p['wall_seconds'] - p['total_seconds'])} | {p['rows']:,} | — | "
            f"{sum(p['findings'].values()):,} |"
        )
    lines += [
        "",
        "## 数据 Inboxes",
        "",
        "| persons | kind | rows | size GB | planted findings | synth s | synth peak GB |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for s in results["sizes"]:
        for kind in ("clean", "dirty"):
            facts, synth = s[f"{kind}_inbox"], s.get(f"synth_{kind}", {})
            lines.append(
                f"| {s['persons']:,} | {kind} | {facts['rows']:,} | {facts['bytes'] / 1024**3:.2f} | "
                f"{facts['findings']:,} | {_fmt(synth.get('wall_seconds'))} | {_fmt(synth.get('peak_gb'), '.2f')} |"
            )
    notes = ROOT / "bench" / "notes.md"  # the analysis of these numbers, written by hand
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").rstrip()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT))
    from bench.run import render  # the run's tables and the workbench's pages, as `make bench` writes them

    data = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    (ROOT / "bench" / "results.md").write_text(render(data), encoding="utf-8")
