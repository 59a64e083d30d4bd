"""The end-of-run summary an official reads: Chinese first, the codes and English beside.

`run_and_summarise` is the one way a run is started and reported, by `fundwatch run` and by the
scheduled flow alike: it runs the nightly flow, then reads the **published** file read-only (analysts
may be reading it too) and renders the summary: files and rows per dataset, rejected files, findings
per rule.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
from rich.console import RenderableType

from pipelines.app.console import Column, table
from pipelines.app.flow import RunOutcome, nightly_run
from pipelines.app.settings import Settings
from pipelines.present.labels import FILE_STATUSES, RUN_STATUSES, rule_label, status_label, status_meaning
from pipelines.present.money import fmt_money
from pipelines.rules import RULES
from pipelines.warehouse.session import reader
from pipelines.warehouse.sql import read_sql
from schemas.datasets import BY_NAME

Lines = list[RenderableType | str]


def run_and_summarise(settings: Settings, as_of: dt.date) -> tuple[RunOutcome, Lines]:
    """One nightly run, then its summary read from the published file (read-only)."""
    outcome = nightly_run(settings, as_of)
    with reader(settings.db, memory_limit=settings.duckdb_memory_limit) as con:
        return outcome, [*run_summary(con, outcome.run_id), "", *findings_summary(con, outcome.run_id)]


def run_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> Lines:
    """The run's status, then per dataset what happened to its files and rows, then the rejected files."""
    order = {name: i for i, name in enumerate(BY_NAME)}
    rows = sorted(
        con.execute(read_sql("runs/run_summary.sql"), {"run_id": run_id}).fetchall(),
        key=lambda r: (order.get(r[0], len(order)), r[0]),
    )
    status, as_of = con.execute("SELECT status, as_of FROM runs WHERE run_id = ?", [run_id]).fetchone()
    cells = []
    for dataset, files, _loaded_f, replaced, skipped, rejected, rows_loaded, rows_q in rows:
        zh = BY_NAME[dataset].zh if dataset in BY_NAME else "未知"
        cells.append([f"{zh} {dataset}", files, f"{rows_loaded:,}", f"{rows_q:,}", rejected, skipped, replaced])
    totals = [sum(r[i] for r in rows) for i in range(1, 8)]
    cells.append(
        ["合计 total", totals[0], f"{totals[5]:,}", f"{totals[6]:,}", totals[4], totals[3], totals[2]],
    )
    columns = [
        Column("数据集 dataset"),
        Column("文件 files", numeric=True),
        Column("载入行 rows loaded", numeric=True),
        Column("隔离行 quarantined", numeric=True),
        *(Column(status_label(FILE_STATUSES, s), numeric=True) for s in ("rejected", "skipped", "replaced")),
    ]
    out: Lines = [
        f"fundwatch 运行 run {run_id}  数据日期 as of {as_of}  状态 status: {status_meaning(RUN_STATUSES, status)}",
        "",
        table(columns, cells),
    ]
    rejected = con.execute(
        "SELECT file, reason FROM ingested_files WHERE run_id = ? AND status = 'rejected' ORDER BY file", [run_id]
    ).fetchall()
    if rejected:
        out += ["", f"拒收文件 rejected files ({len(rejected)}):"]
        out += [f"  - {file}: {reason}" for file, reason in rejected]
    if totals[6]:
        out += [
            "",
            "隔离行明细见表 quarantined rows are in table `quarantine`",
            "  (dataset, file, line, column, reason, raw)",
        ]
    return out


def findings_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> Lines:
    """Findings of the run per rule, in registry order: count, new, amount at risk."""
    found = {r[0]: r for r in con.execute(read_sql("runs/findings_summary.sql"), {"run_id": run_id}).fetchall()}
    cells = []
    total_n = total_new = 0
    total_amount = Decimal("0")
    for rule in RULES:
        _, _, n, new, amount = found.get(rule.code, (rule.code, rule.name_zh, 0, 0, Decimal("0")))
        total_n, total_new, total_amount = total_n + n, total_new + new, total_amount + amount
        cells.append([rule_label(rule.code), f"{n:,}", f"{new:,}", fmt_money(amount)])
    cells.append(["合计 total", f"{total_n:,}", f"{total_new:,}", fmt_money(total_amount)])
    columns = [
        Column("规则 rule"),
        Column("疑点 findings", numeric=True),
        Column("新增 new", numeric=True),
        Column("涉及金额（元） amount at risk (yuan)", numeric=True),
    ]
    return ["疑点线索 findings of this run (表 table `suspects`):", "", table(columns, cells)]
