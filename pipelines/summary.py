"""The end-of-run summary an official reads: Chinese first, the codes and English beside."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from pipelines.store import read_sql
from schemas.datasets import BY_NAME

STATUS_TEXT = {
    "succeeded": "成功 succeeded",
    "bad_input": "完成，但有隔离行或拒收文件 finished with quarantined rows or rejected files",
    "failed": "失败 failed",
    "running": "运行中 running",
}


def display_width(s: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def pad(s: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - display_width(s))
    return fill + s if right else s + fill


def run_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    order = {name: i for i, name in enumerate(BY_NAME)}
    rows = sorted(
        con.execute(read_sql("run_summary.sql"), {"run_id": run_id}).fetchall(),
        key=lambda r: (order.get(r[0], len(order)), r[0]),
    )
    run = con.execute("SELECT status, as_of FROM runs WHERE run_id = ?", [run_id]).fetchone()
    header = [
        "数据集 dataset",
        "文件 files",
        "载入行 rows loaded",
        "隔离行 quarantined",
        "拒收 rejected",
        "跳过 skipped",
        "替换 replaced",
    ]
    table = []
    for dataset, files, _loaded_f, replaced, skipped, rejected, rows_loaded, rows_q in rows:
        zh = BY_NAME[dataset].zh if dataset in BY_NAME else "未知"
        table.append(
            [
                f"{zh} {dataset}",
                f"{files}",
                f"{rows_loaded:,}",
                f"{rows_q:,}",
                f"{rejected}",
                f"{skipped}",
                f"{replaced}",
            ]
        )
    totals = [sum(r[i] for r in rows) for i in range(1, 8)]
    table.append(
        [
            "合计 total",
            f"{totals[0]}",
            f"{totals[5]:,}",
            f"{totals[6]:,}",
            f"{totals[4]}",
            f"{totals[3]}",
            f"{totals[2]}",
        ]
    )
    widths = [max(display_width(r[i]) for r in [header, *table]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(pad(c, w, right=i > 0) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    out = [
        f"fundwatch 运行 run {run_id}  数据日期 as of {run[1]}  状态 status: {STATUS_TEXT.get(run[0], run[0])}",
        "",
        line(header),
        line(["-" * w for w in widths]),
    ]
    out += [line(r) for r in table]
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
    return "\n".join(out)


def findings_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    """Findings of the run per rule, in registry order: count, new, amount at risk."""
    from pipelines.rules import RULES

    found = {r[0]: r for r in con.execute(read_sql("findings_summary.sql"), {"run_id": run_id}).fetchall()}
    header = ["规则 rule", "疑点 findings", "新增 new", "涉及金额（元） amount at risk (yuan)"]
    table = []
    total_n = total_new = 0
    total_amount = Decimal("0")
    for rule in RULES:
        _, _, n, new, amount = found.get(rule.code, (rule.code, rule.name_zh, 0, 0, Decimal("0")))
        total_n, total_new, total_amount = total_n + n, total_new + new, total_amount + amount
        table.append([f"{rule.name_zh} {rule.code}", f"{n:,}", f"{new:,}", f"{amount:,.2f}"])
    table.append(["合计 total", f"{total_n:,}", f"{total_new:,}", f"{total_amount:,.2f}"])
    widths = [max(display_width(r[i]) for r in [header, *table]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(pad(c, w, right=i > 0) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    out = ["疑点线索 findings of this run (表 table `suspects`):", "", line(header), line(["-" * w for w in widths])]
    return "\n".join(out + [line(r) for r in table])
