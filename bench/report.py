"""bench/results.md from the raw numbers of `bench/run.py` (bench/results.json).

python bench/report.py     # re-render results.md from results.json
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("prepare", "ingest", "rules", "cases", "publish")
M, TEN_M, HUNDRED_K = 1_000_000, 10_000_000, 100_000

# Issue 17 targets: (key, target, today as the issue measured it, goal, limit).
TARGETS_17 = (
    ("clean_ratio", "1M 清洁 clean: fundwatch / peer, end to end", "2.03×", "≤ 1.5×", 1.5),
    ("dense_ratio", "1M 高密度 dense: fundwatch / peer on dense, end to end", "3.71×", "≤ 1.5×", 1.5),
    ("dirty_ratio", "1M 脏数据 dirty: fundwatch / peer on clean", "2.46×", "≤ 2.0×", 2.0),
    ("peak_10m", "10M peak memory (GB)", "16–17", "≤ 8", 8.0),
    ("fixed_cost", "fixed cost of one run (start-up, Prefect, summary), s", "~20", "≤ 5", 5.0),
    ("scaling", "10M / 1M time per person (clean)", "1.14", "≤ 1.1", 1.1),
    ("rerun_1m", "no-change rerun / full run at 1M", "9.5%", "≤ 5%", 0.05),
    ("rerun_100k", "100k rerun / full run", "28.9%", "≤ 15%", 0.15),
)
# Issue 6 targets (history: the table of an issue 6 results.json, `history.issue6`).
TARGETS_6 = {
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


def runs(results: dict, persons: int) -> dict[str, dict]:
    return next((s["runs"] for s in results["sizes"] if s["persons"] == persons), {})


def ratio(a: dict | None, b: dict | None) -> float | None:
    return a["wall_seconds"] / b["wall_seconds"] if a and b else None


def fixed_cost(results: dict) -> tuple[float | None, str]:
    """The largest fixed cost (wall − phases) of the README-mode runs measured, and which run it is."""
    worst: tuple[float | None, str] = (None, "")
    for s in results["sizes"]:
        for name, r in s["runs"].items():
            if r.get("mode") == "readme" and (worst[0] is None or r["fixed_seconds"] > worst[0]):
                worst = (r["fixed_seconds"], f"{s['persons']:,} {name}")
    return worst


def measured(results: dict) -> dict[str, tuple[float | None, str]]:
    """Per issue 17 target: (value, what it was measured on) or (None, why not)."""
    one, ten, small = runs(results, M), runs(results, TEN_M), runs(results, HUNDRED_K)
    out: dict[str, tuple[float | None, str]] = {
        "clean_ratio": (ratio(one.get("clean"), one.get("peer")), ""),
        "dense_ratio": (ratio(one.get("dense"), one.get("peer_dense")), ""),
        "dirty_ratio": (ratio(one.get("dirty"), one.get("peer")), ""),
        "rerun_1m": (ratio(one.get("rerun"), one.get("clean")), ""),
        "rerun_100k": (ratio(small.get("rerun"), small.get("clean")), ""),
        "fixed_cost": fixed_cost(results),
    }
    peaks = [r["peak_gb"] for k, r in ten.items() if not k.startswith("peer") and r.get("peak_gb") is not None]
    out["peak_10m"] = (
        (max(peaks), "worst of " + ", ".join(k for k in ten if not k.startswith("peer")))
        if peaks
        else (
            None,
            "",
        )
    )
    a, b = ten.get("clean"), one.get("clean")
    out["scaling"] = ((a["wall_seconds"] / TEN_M) / (b["wall_seconds"] / M), "") if a and b else (None, "")
    return out


def met(value: float | None, limit: float) -> bool | None:
    """Every goal of issue 17 is an upper limit; None: not measured."""
    return None if value is None else value <= limit


def verdict(value: float | None, limit: float, percent: bool = False) -> str:
    """达标 met, or 未达标 NOT met with by how much; 未测 not measured when there is no number."""
    ok = met(value, limit)
    if value is None or ok is None:
        return "未测 not measured"
    if ok:
        return "达标 met"
    over = value - limit
    by = f"{over:.1%} points" if percent else f"{over:.2f}"
    return f"未达标 NOT met, by {by} ({over / limit:.0%} over the goal)"


def targets(results: dict) -> list[tuple[str, str, str, str, str, bool | None]]:
    """(target, today, goal, measured, verdict, met) for each target of issue 17."""
    values = measured(results)
    rows = []
    for key, name, today, goal, limit in TARGETS_17:
        value, where = values[key]
        percent = key.startswith("rerun")
        shown = (
            "—" if value is None else (f"{value:.1%}" if percent else f"{value:.2f}") + (f" ({where})" if where else "")
        )
        if value is not None and key.endswith("ratio"):
            shown = f"{value:.2f}×"
        rows.append((name, today, goal, shown, verdict(value, limit, percent), met(value, limit)))
    return rows


def _cell(r: dict | None, key: str = "wall_seconds", spec: str = ".1f") -> str:
    return _fmt(r.get(key) if r else None, spec)


def _ratio_cell(a: dict | None, b: dict | None) -> str:
    x = ratio(a, b)
    return "—" if x is None else f"{x:.2f}×"


def render_markdown(results: dict) -> str:
    from bench.identity import render_markdown as render_identity

    m = results["machine"]
    fixed = results.get("fixed_cost", {})
    lines = [
        "# fundwatch benchmark 性能基准",
        "",
        f"Measured by `make bench` (bench/run.py) on {m['cpus']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, "
        f"Python {m['python']}. Inboxes from `fundwatch synth --seed 1` (cached in bench/cache/): clean, dirty, and "
        "dense (`--clean --finding-share 0.07`: findings for about 7% of persons, a bad year). Every number is one "
        "run, measured back to back on this machine; wall seconds and peak resident memory from `/usr/bin/time -v`, "
        "phases from the `runs` table. The machine may be shared: each run's 1-minute load average when it "
        "started is in the phases table (above the core count, its times are inflated).",
        "",
        "fundwatch ran **as a user runs it from the README**: no Prefect server configured, so every run starts "
        "Prefect's temporary server and pays for it. Fixed cost = wall − the sum of the run's phases (interpreter "
        "start-up, Prefect, the summary, exit). Beside it, the served path, on an empty inbox: "
        f"{_fmt(fixed.get('empty_readme_seconds'))} s as the README runs it, "
        f"{_fmt(fixed.get('empty_served_seconds'))} s against a running Prefect server (as `fundwatch serve` runs "
        f"it in the office): the temporary server costs {_fmt(fixed.get('temporary_server_seconds'))} s per run "
        f"(measured {fixed.get('measured_at', '—')}).",
        "",
        "The peer (`bench/peer.py`) is the hand-written alternative: DuckDB `read_csv` of the clean CSV files "
        "with the contract's types, then the plain-SQL rules of `sql/rules/` materialised — no validation, "
        "quarantine, lineage, case register or publication. On the dense inbox it runs on the dense files.",
        "",
        "results.json is merged run by run: a run not measured by the last `make bench` (e.g. `--sizes 10000000 "
        "--kinds clean` re-measures 10M clean alone) keeps its earlier numbers and its own `measured_at` (in the "
        "phases table); a ratio may so combine runs of different invocations — compare their `measured_at`. A "
        "target whose runs were never measured says so: nothing is estimated.",
        "",
        "## 目标 Targets (issue 17)",
        "",
        "| 目标 target | 立项时 today (issue 17) | 目标值 goal | 实测 measured | 结论 verdict |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {n} | {today} | {goal} | {v} | {verdict_} |" for n, today, goal, v, verdict_, _ in targets(results)]
    notes = ROOT / "bench" / "notes17.md"  # what the issue 17 numbers say, written by hand after the run
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").rstrip()]
    lines += [
        "",
        "## 端到端 End to end (seconds; fundwatch as the README runs it)",
        "",
        "| persons | rows | peer | clean | ratio | rerun | rerun share | dirty | dirty / peer | peer dense | dense "
        "| dense ratio | peak GB peer / clean / dirty / dense | µs per person clean |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for s in results["sizes"]:
        r = s["runs"]
        share = ratio(r.get("rerun"), r.get("clean"))
        rows = (s["inboxes"].get("clean") or s["inboxes"].get("dense") or s["inboxes"].get("dirty") or {}).get("rows")
        peaks = " / ".join(_cell(r.get(k), "peak_gb", ".2f") for k in ("peer", "clean", "dirty", "dense"))
        per_person = r["clean"]["wall_seconds"] / s["persons"] * 1e6 if r.get("clean") else None
        lines.append(
            f"| {s['persons']:,} | {_fmt(rows, ',')} | {_cell(r.get('peer'))} | {_cell(r.get('clean'))} | "
            f"{_ratio_cell(r.get('clean'), r.get('peer'))} | {_cell(r.get('rerun'))} | "
            f"{'—' if share is None else f'{share:.1%}'} | {_cell(r.get('dirty'))} | "
            f"{_ratio_cell(r.get('dirty'), r.get('peer'))} | {_cell(r.get('peer_dense'))} | {_cell(r.get('dense'))} | "
            f"{_ratio_cell(r.get('dense'), r.get('peer_dense'))} | {peaks} | {_fmt(per_person)} |"
        )
    lines += [
        "",
        "## 分阶段 Phases (seconds)",
        "",
        "| persons | run | " + " | ".join(PHASES) + " | fixed cost (start-up, Prefect, summary, exit) | wall | "
        "rows loaded | quarantined | findings | load (1 min) | measured |",
        "|---:|---|" + "---:|" * (len(PHASES) + 6) + "---|",
    ]
    order: tuple[tuple[str, Callable[[dict], str]], ...] = (
        ("clean", lambda r: "clean"),
        ("rerun", lambda r: "rerun" + (" (rules carried forward)" if r.get("rules_skipped") else "")),
        ("dirty", lambda r: "dirty"),
        ("dense", lambda r: "dense"),
        ("clean_served", lambda r: "clean, served (a running Prefect server)"),
    )
    for s in results["sizes"]:
        for key, label in order:
            r = s["runs"].get(key)
            if not r:
                continue
            lines.append(
                f"| {s['persons']:,} | {label(r)} | "
                + " | ".join(_fmt(r.get(f"{p}_seconds")) for p in PHASES)
                + f" | {_fmt(r['fixed_seconds'])} | {_fmt(r['wall_seconds'])} | {r['rows_loaded']:,} | "
                f"{r['rows_quarantined']:,} | {r['findings']:,} | {_fmt(r.get('load_1m'))} | "
                f"{r.get('measured_at', '—')} |"
            )
        for key in ("peer", "peer_dense"):
            p = s["runs"].get(key)
            if p:
                lines.append(
                    f"| {s['persons']:,} | {key.replace('_', ' ')} | — | {_fmt(p['load_seconds'])} (read_csv) | "
                    f"{_fmt(p['rules_seconds'])} | — | — | {_fmt(p['wall_seconds'] - p['total_seconds'])} | "
                    f"{_fmt(p['wall_seconds'])} | {p['rows']:,} | — | {sum(p['findings'].values()):,} | "
                    f"{_fmt(p.get('load_1m'))} | {p.get('measured_at', '—')} |"
                )
    lines += [
        "",
        "## 数据 Inboxes",
        "",
        "| persons | kind | rows | size GB | planted findings | findings per person | synth s | synth peak GB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in results["sizes"]:
        for kind, facts in s["inboxes"].items():
            synth = facts.get("synth", {})
            lines.append(
                f"| {s['persons']:,} | {kind} | {facts['rows']:,} | {facts['bytes'] / 1024**3:.2f} | "
                f"{facts['findings']:,} | {facts['findings'] / s['persons']:.2%} | {_fmt(synth.get('wall_seconds'))} | "
                f"{_fmt(synth.get('peak_gb'), '.2f')} |"
            )
    peer_seconds = {
        s["persons"]: s["runs"]["peer"]["rule_seconds"]["DUP_IDENTITY"]
        for s in results["sizes"]
        if "DUP_IDENTITY" in s["runs"].get("peer", {}).get("rule_seconds", {})
    }
    return "\n".join(lines) + "\n" + render_identity(results.get("identity"), peer_seconds)


def targets_issue6(results: dict) -> list[tuple[str, str, str, bool | None]]:
    """(target, limit, measured, met) for each target of issue 6, from an issue 6 results.json."""
    by = {s["persons"]: s for s in results["sizes"]}
    one, ten = by.get(M), by.get(TEN_M)
    rows: list[tuple[str, str, str, bool | None]] = []

    def add(name: str, limit: str, value: float | None, ok: bool | None, spec: str = ".2f") -> None:
        rows.append((name, limit, _fmt(value, spec), ok))

    if one:
        t = TARGETS_6
        add(
            "1M 清洁 clean: fundwatch / peer",
            f"≤ {t['clean_ratio']}×",
            one["ratio_clean"],
            one["ratio_clean"] <= t["clean_ratio"],
        )
        peak = one["clean"]["peak_gb"]
        add("1M 清洁 clean: peak memory (GB)", f"≤ {t['peak_1m_gb']}", peak, peak <= t["peak_1m_gb"])
        add(
            "1M 脏数据 dirty: fundwatch / peer on clean",
            f"≤ {t['dirty_ratio']}×",
            one["ratio_dirty"],
            one["ratio_dirty"] <= t["dirty_ratio"],
        )
    for s in results["sizes"]:
        add(
            f"{s['persons']:,} rerun with no new files / full run",
            f"≤ {TARGETS_6['rerun_share']:.0%}",
            s["rerun_share"] * 100,
            s["rerun_share"] <= TARGETS_6["rerun_share"],
            ".1f",
        )
    if one and ten:
        for kind in ("clean", "dirty"):
            x = ten[f"us_per_person_{kind}"] / one[f"us_per_person_{kind}"]
            add(f"10M/1M time per person ({kind})", f"≤ {TARGETS_6['scaling']}", x, x <= TARGETS_6["scaling"])
        peak = max(ten["clean"]["peak_gb"], ten["dirty"]["peak_gb"])
        add("10M peak memory (GB)", f"≤ {TARGETS_6['peak_10m_gb']}", peak, peak <= TARGETS_6["peak_10m_gb"])
    return rows


def render_history(results: dict) -> str:
    """The issue 6 targets table as it was last measured (against a running Prefect server), kept as history,
    with the analysis written then (bench/notes.md)."""
    issue6 = (results.get("history") or {}).get("issue6")
    if not issue6 or not issue6.get("sizes"):
        return ""
    measured_at = sorted(s["measured_at"] for s in issue6["sizes"] if s.get("measured_at")) or ["—"]
    lines = [
        "",
        "## 历史 History: issue 6 targets (as last measured, a running Prefect server, no dense inbox)",
        "",
        f"Kept from the issue 6 bench (results.json `history.issue6`, measured {measured_at[0]} to "
        f"{measured_at[-1]}); those runs paid no temporary server ({_fmt(issue6.get('temporary_server_seconds'))} "
        "s per run then). Superseded by the issue 17 table above.",
        "",
        "| 目标 target | 限值 limit | 实测 measured | 结论 verdict |",
        "|---|---|---|---|",
    ]
    for name, limit, value, ok in targets_issue6(issue6):
        lines.append(f"| {name} | {limit} | {value} | {'达标 met' if ok else '未达标 NOT met'} |")
    notes = ROOT / "bench" / "notes.md"  # the analysis of the issue 6 numbers, written by hand
    if notes.is_file():
        lines += ["", notes.read_text(encoding="utf-8").rstrip()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT))
    from bench.run import load_previous, render  # the run's tables and the pages, as `make bench` writes them

    data = load_previous(ROOT / "bench" / "results.json")
    (ROOT / "bench" / "results.md").write_text(render(data), encoding="utf-8")
