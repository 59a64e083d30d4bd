"""What several reports share: status and severity constants, exact tallies, rankings, and the tables
that more than one report shows (by rule, by status, overdue cases, nightly runs, data quality).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from pipelines.cases.reports.document import Chart, Col, Table
from pipelines.cases.severity import CASE, MAJOR_CASE
from pipelines.present.labels import CASE_STATUSES, rule_name, rule_sort_key, status_label
from pipelines.present.masking import shown_subject
from pipelines.present.money import ZERO

STATUSES = ("open", "under_verification", "confirmed", "dismissed", "rectified")
UNRESOLVED = ("open", "under_verification", "confirmed")  # 未结: not yet dismissed or rectified
SEVERITIES = (CASE, MAJOR_CASE)
TOTAL = "合计"
NO_REGION = "未指定 none"  # a case whose finding names no pooling region (e.g. an unregistered account)

# Count and amount per severity (要情, 重大要情), then both together: the columns of `severity_cells`.
SEVERITY_COLUMNS = [
    *(col for severity in SEVERITIES for col in (Col(f"{severity}件数", "int"), Col(f"{severity}金额（元）", "money"))),
    Col("合计件数", "int"),
    Col("合计金额（元）", "money"),
]


def severity_cells(members: list[dict[str, Any]]) -> list[Any]:
    """Count and exact amount of the cases of each severity, then of all of them (`SEVERITY_COLUMNS`)."""
    out: list[Any] = []
    for severity in SEVERITIES:
        chosen = [c for c in members if c["severity"] == severity]
        out += [len(chosen), sum_amount(chosen)]
    return out + [len(members), sum_amount(members)]


def tally(rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Any], amount: str = "amount"):
    """key -> (count, exact sum of `amount`)."""
    counts: Counter = Counter()
    sums: dict[Any, Decimal] = defaultdict(lambda: ZERO)
    for r in rows:
        k = key(r)
        counts[k] += 1
        sums[k] += r[amount]
    return {k: (counts[k], sums[k]) for k in counts}


def sum_amount(rows: Iterable[dict[str, Any]], amount: str = "amount") -> Decimal:
    """The exact sum of `amount` over rows (0.00 for none)."""
    return sum((r[amount] for r in rows), ZERO)


def competition_ranks(values: list[Any]) -> list[int]:
    """Standard competition ranking of values, largest first: 10, 7, 7, 3 -> 1, 2, 2, 4."""
    order = sorted(values, reverse=True)
    return [order.index(v) + 1 for v in values]


def first_per_case(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first of the events of each case, in the order given."""
    seen: dict[str, dict[str, Any]] = {}
    for e in events:
        seen.setdefault(e["suspect_id"], e)
    return list(seen.values())


def rule_table(rows: list[dict[str, Any]], count_header: str, title: str | None, chart_title: str) -> Table:
    """Count and exact amount by rule, with a total and a column chart of the amounts."""
    by_rule = tally(rows, lambda r: r["rule"])
    return Table(
        columns=[Col("规则 rule"), Col("规则名称"), Col(count_header, "int"), Col("涉及金额（元）", "money")],
        rows=[[rule, rule_name(rule), *by_rule[rule]] for rule in sorted(by_rule, key=rule_sort_key)],
        title=title,
        total=[TOTAL, "", len(rows), sum_amount(rows)],
        chart=Chart(chart_title, category=1, values=(3,)),
    )


def status_table(cases: list[dict[str, Any]], key: str, key_header: str, label: Callable[[str], str] | None):
    """Cases by `key` (rule or region) and status on the cut-off day, with overdue and unresolved amounts."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in cases:
        groups[c[key]].append(c)
    ordering = rule_sort_key if key == "rule" else (lambda k: k)
    columns = [Col(key_header)] + ([Col("规则名称")] if label else [])
    columns += [Col(status_label(CASE_STATUSES, s), "int") for s in STATUSES]
    columns += [Col("合计", "int"), Col("其中逾期 overdue", "int"), Col("未结涉及金额（元）", "money")]

    def line(name: str, members: list[dict[str, Any]]) -> list[Any]:
        statuses = Counter(c["status_at"] for c in members)
        unresolved = [c for c in members if c["status_at"] in UNRESOLVED]
        head = [name] + ([label(name) if name != TOTAL else ""] if label else [])
        return (
            head
            + [statuses[s] for s in STATUSES]
            + [
                len(members),
                sum(c["overdue"] for c in members),
                sum_amount(unresolved),
            ]
        )

    return Table(
        columns=columns,
        rows=[line(k, groups[k]) for k in sorted(groups, key=ordering)],
        total=line(TOTAL, cases) if cases else None,
    )


def overdue_table(cases: list[dict[str, Any]], cutoff: dt.date) -> Table:
    """The overdue cases given, one row each, subjects masked, days overdue counted to the cut-off day."""
    return Table(
        columns=[
            Col("疑点编号 suspect_id"),
            Col("规则名称"),
            Col("统筹区 region"),
            Col("对象 subject"),
            Col("涉及金额（元）", "money"),
            Col("状态 status"),
            Col("核查人 assignee"),
            Col("整改期限 due_date"),
            Col("逾期天数", "int"),
        ],
        rows=[
            [
                c["suspect_id"],
                rule_name(c["rule"]),
                c["region"],
                shown_subject(c),
                c["amount"],
                status_label(CASE_STATUSES, c["status_at"]),
                c["assignee"],
                c["due_date"],
                (cutoff - dt.date.fromisoformat(c["due_date"])).days,
            ]
            for c in cases
        ],
    )


def data_quality_line(period: str, runs: list[dict[str, Any]]) -> str:
    """One sentence on the nightly runs of a period: files, rows loaded, quarantined, rejected."""
    if not runs:
        return f"{period}无夜间运行记录（runs），数据质量无法评估。"
    files = sum(r["files_seen"] for r in runs)
    rows_loaded = sum(r["rows_loaded"] for r in runs)
    quarantined = sum(r["rows_quarantined"] for r in runs)
    rejected = sum(r["files_rejected"] for r in runs)
    return (
        f"{period}运行 {len(runs)} 次，接收文件 {files:,} 个，入库 {rows_loaded:,} 行，隔离 {quarantined:,} 行，"
        f"拒收文件 {rejected:,} 个（runs {len(runs)}, files {files:,}, rows loaded {rows_loaded:,}, "
        f"quarantined {quarantined:,}, files rejected {rejected:,}）。"
    )


def runs_table(runs: list[dict[str, Any]]) -> Table:
    """The nightly runs of a period, one row each, with a total of the additive counts."""
    keys = ("files_seen", "files_rejected", "rows_loaded", "rows_quarantined", "findings")
    return Table(
        columns=[
            Col("运行 run_id"),
            Col("数据日期 as_of"),
            Col("状态 status"),
            Col("文件 files", "int"),
            Col("拒收文件", "int"),
            Col("入库行数", "int"),
            Col("隔离行数", "int"),
            Col("疑点 findings", "int"),
        ],
        rows=[[r["run_id"], str(r["as_of"]), r["status"], *(r[k] for k in keys)] for r in runs],
        # findings is each run's own count of what it found, not additive across runs
        total=[TOTAL, "", "", *(sum(r[k] for r in runs) for k in keys[:-1]), None],
    )
