"""What several reports share: status and severity constants, exact tallies, rankings, and the tables
that more than one report shows (by rule, by region, by status, money, overdue cases, nightly runs, data
quality).

Every figure is a sum over case rows of `sources.cases_at`, whose `amount` (and money) carry a near-miss
ledger/bank pair once: a table's rows, its total and the sentence above it are sums over the same rows, so
they agree to the fen (docs/adr/0019-report-time-base.md).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from pipelines.cases.calendar import due_text
from pipelines.cases.reports.document import Chart, Col, Table
from pipelines.cases.severity import CASE, MAJOR_CASE
from pipelines.present.labels import CASE_STATUSES, rule_name, rule_sort_key, status_label
from pipelines.present.masking import shown_subject
from pipelines.present.money import ZERO, fmt_money, fmt_pct, ratio

STATUSES = ("open", "under_verification", "confirmed", "partially_recovered", "dismissed", "rectified")
# 未结: not yet dismissed or rectified (部分追回 still has money outstanding)
UNRESOLVED = ("open", "under_verification", "confirmed", "partially_recovered")
CONFIRMED = ("confirmed", "partially_recovered", "rectified")  # 确认违规 and what follows it
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


def region_table(rows: list[dict[str, Any]], count_header: str, title: str | None) -> Table:
    """Count and exact amount by pooling region (统筹区), with a total."""
    by_region = tally(rows, lambda r: r["region"])
    return Table(
        columns=[Col("统筹区 region"), Col(count_header, "int"), Col("涉及金额（元）", "money")],
        rows=[[region, *by_region[region]] for region in sorted(by_region)],
        title=title,
        total=[TOTAL, len(rows), sum_amount(rows)],
    )


# ---- money: 追回 x of y, 核销, 待追回, and the excess apart ---------------------------------------------

MONEY_COLUMNS = [
    Col("确认违规件数", "int"),
    Col("涉及金额（元）", "money"),
    Col("已追回（元）", "money"),
    Col("核销（元）", "money"),
    Col("待追回（元）", "money"),
    Col("追回率", "pct"),
    Col("超出涉及金额的追回（罚没等）（元）", "money"),
]


def outstanding(case: dict[str, Any]) -> Decimal:
    """待追回 of a confirmed case: its amount less what was recovered and written off (never below 0.00)."""
    return max(case["amount"] - case["recovered"] - case["written_off"], ZERO)


def money_figures(confirmed: list[dict[str, Any]]) -> dict[str, Any]:
    """The money of confirmed cases: amount (y), recovered toward it (x), written off, outstanding, excess.

    The recovery rate is x / y: recovered money counts toward a case's amount at risk only up to it (the rest
    is excess, reported apart), so the rate is never above 100%.
    """
    amount, recovered = sum_amount(confirmed), sum_amount(confirmed, "recovered")
    return {
        "count": len(confirmed),
        "amount": amount,
        "recovered": recovered,
        "written_off": sum_amount(confirmed, "written_off"),
        "outstanding": sum((outstanding(c) for c in confirmed), ZERO),
        "rate": ratio(recovered, amount),
        "excess": sum_amount(confirmed, "excess"),
    }


def money_cells(confirmed: list[dict[str, Any]]) -> list[Any]:
    """The cells of `MONEY_COLUMNS` for these confirmed cases."""
    m = money_figures(confirmed)
    return [m[k] for k in ("count", "amount", "recovered", "written_off", "outstanding", "rate", "excess")]


def money_table(confirmed: list[dict[str, Any]], key: str, key_header: str, title: str) -> Table:
    """Money of confirmed cases by rule or region: rows, and a total over the same cases."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in confirmed:
        groups[c[key]].append(c)
    by_rule = key == "rule"
    head = [Col(key_header)] + ([Col("规则名称")] if by_rule else [])
    return Table(
        title=title,
        columns=[*head, *MONEY_COLUMNS],
        rows=[
            [k, *([rule_name(k)] if by_rule else []), *money_cells(groups[k])]
            for k in sorted(groups, key=rule_sort_key if by_rule else (lambda k: k))
        ],
        total=[TOTAL, *([""] if by_rule else []), *money_cells(confirmed)] if confirmed else None,
        chart=Chart("涉及金额与已追回（元）", category=1 if by_rule else 0, values=(3, 4) if by_rule else (2, 3)),
    )


def recovery_level(rate: Decimal | None) -> str:
    """The words on a recovery rate: they follow the figure (良好 only from 90%)."""
    if rate is None:
        return "暂无确认违规金额，无追回比例可评估"
    if rate >= Decimal("0.9"):
        return "追回情况良好"
    if rate >= Decimal("0.5"):
        return "追回工作仍需加强"
    return "追回比例偏低，基金损失风险较大"


def money_sentence(confirmed: list[dict[str, Any]], label: str) -> str:
    """'{label}确认违规 n 件，涉及金额 y 元：已追回 x 元（追回率 r），核销 w 元，待追回 o 元；…' from the same rows."""
    m = money_figures(confirmed)
    text = (
        f"{label}确认违规 {m['count']} 件，涉及金额 {fmt_money(m['amount'])} 元：已追回 {fmt_money(m['recovered'])} 元"
        f"（追回率 {fmt_pct(m['rate'])}），核销 {fmt_money(m['written_off'])} 元，"
        f"待追回 {fmt_money(m['outstanding'])} 元"
    )
    if m["excess"]:
        text += f"；另追回超出涉及金额部分（罚没等）{fmt_money(m['excess'])} 元，单列，不计入追回率"
    return text + "。"


def pair_note(cases: Iterable[dict[str, Any]]) -> str | None:
    """The note under a list naming each case whose amount another case of its near-miss pair carries."""
    carried = sorted((c for c in cases if c.get("carried_by")), key=lambda c: c["suspect_id"])
    if not carried:
        return None
    listed = "；".join(f"{c['suspect_id']} 计入 {c['carried_by']}" for c in carried)
    return (
        f"※ 专户账实不符配对（明细账与银行流水仅日期超出前后3日，疑为同一笔款项），两条疑点均须核查，"
        f"金额在合计中只计一次：{listed}。"
    )


def pair_mark(case: dict[str, Any]) -> str:
    """A case's id as a list shows it: marked ※ when its pair carries its amount (see `pair_note`)."""
    return f"{case['suspect_id']} ※" if case.get("carried_by") else case["suspect_id"]


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
    """The overdue cases given, one row each, subjects masked, days overdue counted to the cut-off day; each
    with its own amount at risk (a case whose pair carries it is marked ※, `pair_note`)."""
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
                pair_mark(c),
                rule_name(c["rule"]),
                c["region"],
                shown_subject(c),
                c["own_amount"],
                status_label(CASE_STATUSES, c["status_at"]),
                c["assignee"],
                due_text(c["due_date"], c["due_provisional"]),
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
