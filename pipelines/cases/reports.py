"""The reports of the 四定一限 cycle, in Chinese, each as Markdown and XLSX.

* `monthly_self_check` — 定期自查报告 for a month (`自查报告_YYYYMM`).
* `supervision_report` — 定期报告 (监督报告), half-year or annual, with exactly the five sections the
  policy lists (`监督报告_2025H1`, `监督报告_2025年度`).
* `circulation` — 定期通报 of the pooling regions, ranked (`通报_YYYY-MM-DD`).
* `yaoqing_statistics` — 要情统计 for a half-year, or its 零报告 when none occurred (`要情统计_2025H2`).

Sources, opened read-only and never written: the case register (SQLite, the source of truth for
cases, docs/adr/0007-case-register-in-sqlite.md) and, for fund figures and runs, the DuckDB file.
Queries are files in `sql/reports/`, values bound as parameters.

Conventions of every report:
* Money is exact: the register's decimal text and DuckDB's DECIMAL become `Decimal`, sums are
  `Decimal` sums, rendered "41,220.00"; XLSX cells hold the number formatted #,##0.00.
* A case's status on a day (`status_at`) is replayed from `case_events`, so a report for a past
  period shows the state at its end, not today's. Overdue (逾期) is derived as the register does:
  a due date before the report's cut-off day and the case neither dismissed nor rectified.
* The region (统筹区) of a case is the region that verifies it: `assigned_region`, else the
  finding's `region_code` (下查一级).
* Citizen IDs shown as a case's subject are masked (330102********1234), as in the 核查清单.
* The cut-off day of a period report is the period's last day, or the day it is generated if
  earlier (a half-year report is due before the half ends); `as_of=` overrides it.

Each report is first built as a `Document` (headings, paragraphs, tables, chart specs), then
rendered twice: GitHub pipe tables in Markdown, one sheet per section with native charts in XLSX.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import xlsxwriter

from pipelines.cases.export import is_citizen_id, mask_id
from pipelines.cases.register import CLOSED, STATUS_ZH
from pipelines.rules import RULES
from pipelines.store import DUCKDB_CONFIG
from pipelines.summary import display_width
from schemas.datasets import code_sets

SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "reports"

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
STATUSES = ("open", "under_verification", "confirmed", "dismissed", "rectified")
UNRESOLVED = ("open", "under_verification", "confirmed")  # 未结: not yet dismissed or rectified
RULE_NAMES_ZH = {rule.code: rule.name_zh for rule in RULES}
RULE_ORDER = {rule.code: i for i, rule in enumerate(RULES)}
SEVERITIES = ("要情", "重大要情")
TOTAL = "合计"
NO_REGION = "未指定 none"  # a case whose finding names no pooling region (e.g. an unregistered account)

# 下一步措施 per rule: the office's standing measure for the kind of problem a rule finds (generic
# wording, never a fact about a case; the facts — counts, amounts, regions — come from the data).
MEASURES = {
    "DUP_ENROLL": "清理重复参保关系，终止多余参保并清退重复缴费、追回重复享受的待遇",
    "DUP_BENEFIT": "停发重复待遇、追回多发金额，待遇核定前开展跨险种、跨地区比对",
    "DECEASED_PAID": "加强与公安、民政、卫健死亡信息的共享比对，及时停发待遇并追回死亡后冒领金额",
    "UNEMP_WHILE_EMPLOYED": "将失业保险金发放与个税扣缴、参保登记信息比对，停发已就业人员失业金并追回",
    "DUP_CLAIM": "对重复发票、重复结算开展专项核查，追回重复报销的统筹基金并依协议处理定点医疗机构",
    "SHARED_ACCOUNT": "核实多人共用收款账户的代领情况，规范待遇发放账户管理",
    "RECON_CONTRIB": "会同税务部门逐户核对应缴与实缴差异，及时追缴欠费",
    "RECON_LEDGER_BANK": "逐笔核对财政专户明细账与银行对账单，查明账实不符原因并调账",
    "RECON_PAYMENT": "逐笔核对代发回盘，处理发放失败、退回及入账账户不一致的款项",
    "UNREGISTERED_ACCOUNT": "清理未登记及销户后仍在使用的账户，严禁多头开户",
    "SOD_BREACH": "落实不相容岗位相分离，调整经办权限，系统管理员不得经办业务",
    "LARGE_PAYMENT_UNAPPROVED": "严格执行大额支付负责人审批制度，补办审批手续并追究责任",
}


# ---- the document model and its two renderings ------------------------------------------------


@dataclass(frozen=True)
class Col:
    """A table column: its header and kind (text | int | money | pct | date)."""

    header: str
    kind: str = "text"


@dataclass(frozen=True)
class Chart:
    """A native XLSX chart over a table's rows (never its total row)."""

    title: str
    category: int  # column index of the category labels
    values: tuple[int, ...]  # column indices of the plotted series
    kind: str = "column"  # column | bar
    stacked: bool = False
    category_to: int | None = None  # last column of multi-level category labels (e.g. benefit type, scheme)


@dataclass
class Table:
    columns: list[Col]
    rows: list[list[Any]]
    title: str | None = None
    total: list[Any] | None = None
    chart: Chart | None = None


@dataclass
class Section:
    heading: str
    blocks: list[str | Table] = field(default_factory=list)


@dataclass
class Document:
    title: str
    meta: list[str]
    sections: list[Section]


def fmt_money(amount: Decimal | None) -> str:
    """Exact yuan with thousands separators and 2 decimals: 41,220.00."""
    return f"{(amount if amount is not None else ZERO).quantize(CENT):,.2f}"


def fmt_pct(ratio: Decimal | None) -> str:
    """A ratio as a percentage with 2 decimals ('—' where there is nothing to divide by)."""
    return "—" if ratio is None else f"{(ratio * 100).quantize(CENT)}%"


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return None if not whole else Decimal(part) / Decimal(whole)


def cell_text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "money":
        return fmt_money(value)
    if kind == "pct":
        return fmt_pct(value)
    if kind == "int":
        return f"{value:,}"
    return str(value)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(columns: list[Col], rows: Iterable[list[Any]]) -> str:
    """A GitHub pipe table; numbers right-aligned, '|' in values escaped."""
    lines = ["| " + " | ".join(_md_cell(c.header) for c in columns) + " |"]
    lines.append("|" + "|".join("---:" if c.kind in ("int", "money", "pct") else "---" for c in columns) + "|")
    for row in rows:
        lines.append(
            "| " + " | ".join(_md_cell(cell_text(v, c.kind)) for v, c in zip(row, columns, strict=True)) + " |"
        )
    return "\n".join(lines)


def render_markdown(doc: Document) -> str:
    parts = [f"# {doc.title}", "\n".join(f"{line}  " for line in doc.meta)]
    for section in doc.sections:
        parts.append(f"## {section.heading}")
        for block in section.blocks:
            if isinstance(block, Table):
                rows = block.rows + ([block.total] if block.total else [])
                table = markdown_table(block.columns, rows)
                parts.append(f"**{block.title}**\n\n{table}" if block.title else table)
            else:
                parts.append(block)
    return "\n\n".join(parts) + "\n"


# A double holds every amount below 10^13 yuan exactly to the fen once rounded to 2 places; larger
# amounts (never seen in a pooling fund) are written as text rather than approximated.
EXACT_NUMBER_LIMIT = Decimal("1e13")
CHART_ROWS = 17  # rows a chart occupies (288 px * 1.15 at 20 px a row), kept free below it
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


class XlsxReport:
    """Writes a `Document` to a workbook: one sheet per section, tables with native charts beside them."""

    def __init__(self, path: Path) -> None:
        self.workbook = xlsxwriter.Workbook(path)
        add = self.workbook.add_format
        self.formats = {
            "title": add({"bold": True, "font_size": 15}),
            "heading": add({"bold": True, "font_size": 12}),
            "caption": add({"bold": True}),
            "header": add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}),
            "text": add({"border": 1}),
            "int": add({"border": 1, "num_format": "#,##0"}),
            "money": add({"border": 1, "num_format": "#,##0.00"}),
            "pct": add({"border": 1, "num_format": "0.00%"}),
            "date": add({"border": 1}),
            "total_text": add({"border": 1, "bold": True, "bg_color": "#F2F2F2"}),
            "total_int": add({"border": 1, "bold": True, "bg_color": "#F2F2F2", "num_format": "#,##0"}),
            "total_money": add({"border": 1, "bold": True, "bg_color": "#F2F2F2", "num_format": "#,##0.00"}),
            "total_pct": add({"border": 1, "bold": True, "bg_color": "#F2F2F2", "num_format": "0.00%"}),
            "total_date": add({"border": 1, "bold": True, "bg_color": "#F2F2F2"}),
        }
        self.sheet_names: set[str] = set()

    def write(self, doc: Document) -> None:
        try:
            for index, section in enumerate(doc.sections):
                self._section(doc, section, meta=doc.meta if index == 0 else [])
        finally:
            self.workbook.close()

    def _sheet_name(self, heading: str) -> str:
        base = _SHEET_NAME_BAD.sub("", heading)[:28] or "Sheet"
        name, n = base, 1
        while name.lower() in self.sheet_names:
            n += 1
            name = f"{base[:26]}_{n}"
        self.sheet_names.add(name.lower())
        return name

    def _section(self, doc: Document, section: Section, meta: list[str]) -> None:
        name = self._sheet_name(section.heading)
        sheet = self.workbook.add_worksheet(name)
        widths: dict[int, int] = defaultdict(lambda: 8)
        sheet.write_string(0, 0, doc.title, self.formats["title"])
        row = 1
        for line in meta:
            sheet.write_string(row, 0, line)
            row += 1
        sheet.write_string(row, 0, section.heading, self.formats["heading"])
        row += 2
        for block in section.blocks:
            if isinstance(block, Table):
                row = self._table(sheet, name, row, block, widths) + 1
            else:
                sheet.write_string(row, 0, block)
                row += 2
        for col, width in widths.items():
            sheet.set_column(col, col, min(width + 2, 60))

    def _table(self, sheet, sheet_name: str, row: int, table: Table, widths: dict[int, int]) -> int:
        if table.title:
            sheet.write_string(row, 0, table.title, self.formats["caption"])
            row += 1
        header_row = row
        for col, column in enumerate(table.columns):
            sheet.write_string(row, col, column.header, self.formats["header"])
            widths[col] = max(widths[col], min(display_width(column.header), 24))
        for values in table.rows:
            row += 1
            self._row(sheet, row, table.columns, values, widths, prefix="")
        if table.total:
            row += 1
            self._row(sheet, row, table.columns, table.total, widths, prefix="total_")
        if table.chart and table.rows:
            self._chart(sheet, sheet_name, header_row, table)
            row = max(row, header_row + CHART_ROWS)
        return row + 1

    def _row(self, sheet, row: int, columns: list[Col], values: list[Any], widths, prefix: str) -> None:
        for col, (value, column) in enumerate(zip(values, columns, strict=True)):
            fmt = self.formats[prefix + column.kind]
            widths[col] = max(widths[col], display_width(cell_text(value, column.kind)))
            if value is None:
                sheet.write_blank(row, col, None, fmt)
            elif column.kind in ("int", "pct"):
                sheet.write_number(row, col, float(value), fmt)
            elif column.kind == "money" and abs(value) < EXACT_NUMBER_LIMIT:
                # the float conversion happens only here, at the cell: the value shown to the fen is exact
                sheet.write_number(row, col, float(value), fmt)
            else:
                sheet.write_string(row, col, cell_text(value, column.kind), fmt)

    def _chart(self, sheet, sheet_name: str, header_row: int, table: Table) -> None:
        spec = table.chart
        assert spec is not None
        options: dict[str, str] = {"type": spec.kind}
        if spec.stacked:
            options["subtype"] = "stacked"
        chart = self.workbook.add_chart(options)
        first, last = header_row + 1, header_row + len(table.rows)
        for col in spec.values:
            chart.add_series(
                {
                    "name": [sheet_name, header_row, col],
                    "categories": [sheet_name, first, spec.category, last, spec.category_to or spec.category],
                    "values": [sheet_name, first, col, last, col],
                    "data_labels": {"value": len(spec.values) == 1 and len(table.rows) <= 12},
                }
            )
        chart.set_title({"name": spec.title, "name_font": {"size": 11}})
        chart.set_legend({"position": "bottom"} if len(spec.values) > 1 else {"none": True})
        if spec.kind == "bar":
            chart.set_y_axis({"reverse": True})  # a ranking reads top-down, first place on top
        sheet.insert_chart(header_row, len(table.columns) + 1, chart, {"x_scale": 1.25, "y_scale": 1.15})


def write_report(doc: Document, out_dir: Path, stem: str) -> list[Path]:
    """`<stem>.md` and `<stem>.xlsx` in out_dir; returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md, xlsx = out_dir / f"{stem}.md", out_dir / f"{stem}.xlsx"
    md.write_text(render_markdown(doc), encoding="utf-8")
    XlsxReport(xlsx).write(doc)
    return [md, xlsx]


# ---- reading the sources (read-only) ------------------------------------------------------------


def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


@contextlib.contextmanager
def open_register_readonly(path: Path) -> Iterator[sqlite3.Connection]:
    """The register, read-only (mode=ro): a report can never write to it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"案件登记簿不存在 no case register at {path}")
    con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=60)
    con.row_factory = sqlite3.Row
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def open_duckdb_readonly(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The DuckDB file, read-only. It cannot be opened while a nightly run holds it for writing."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"数据库文件不存在 no DuckDB file at {path}")
    con = duckdb.connect(str(path), read_only=True, config=DUCKDB_CONFIG)
    try:
        yield con
    finally:
        con.close()


def _duck_rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    relation = con.sql(_sql(name), params=params)
    columns = relation.columns
    return [dict(zip(columns, values, strict=True)) for values in relation.fetchall()]


def _dec(text: Any) -> Decimal:
    return ZERO if text is None or text == "" else Decimal(str(text))


def cases_at(con: sqlite3.Connection, day: dt.date) -> list[dict[str, Any]]:
    """Every case first seen by `day`, with its status then, overdue flag, region and exact amounts."""
    iso = day.isoformat()
    rows = [dict(r) for r in con.execute(_sql("register_cases_at.sql"), {"day": iso})]
    for r in rows:
        r["amount"] = _dec(r["amount_at_risk"])
        recovered = r["rectified_on"] is not None and r["rectified_on"] <= iso
        r["recovered"] = _dec(r["recovered_amount"]) if recovered else ZERO
        r["overdue"] = bool(r["due_date"]) and r["due_date"] < iso and r["status_at"] not in CLOSED
        r["region"] = r["assigned_region"] or r["region_code"] or NO_REGION
    return rows


def events_between(con: sqlite3.Connection, date_from: dt.date, date_to: dt.date) -> list[dict[str, Any]]:
    params = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    rows = [dict(r) for r in con.execute(_sql("register_events_between.sql"), params)]
    for r in rows:
        r["amount"] = _dec(r["amount_at_risk"])
        r["region"] = r["assigned_region"] or r["region_code"] or NO_REGION
    return rows


# ---- small pure helpers -------------------------------------------------------------------------


def _between(value: str | None, date_from: dt.date, date_to: dt.date) -> bool:
    return value is not None and date_from.isoformat() <= value[:10] <= date_to.isoformat()


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    if not re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", month):
        raise ValueError(f"month must be YYYYMM, got {month!r}")
    first = dt.date(int(month[:4]), int(month[4:]), 1)
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def _half_bounds(year: int, half: int | None) -> tuple[dt.date, dt.date]:
    if half is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if half == 1:
        return dt.date(year, 1, 1), dt.date(year, 6, 30)
    if half == 2:
        return dt.date(year, 7, 1), dt.date(year, 12, 31)
    raise ValueError(f"half must be 1, 2 or None (the whole year), got {half!r}")


def _cutoff(period_end: dt.date, as_of: dt.date | None) -> dt.date:
    return as_of if as_of is not None else min(period_end, dt.date.today())


def _yyyymm(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}"


def rule_label(rule: str) -> str:
    return RULE_NAMES_ZH.get(rule, rule)


def _code_label(code_set: str, code: str | None) -> str:
    labels = code_sets().get(code_set, {}).get(code or "")
    return f"{code} {labels[0]}" if labels else (code or "（空）")


def _rule_key(rule: str) -> tuple[int, str]:
    return (RULE_ORDER.get(rule, len(RULE_ORDER)), rule)


def tally(rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Any], amount: str = "amount"):
    """key -> (count, exact sum of `amount`)."""
    counts: Counter = Counter()
    sums: dict[Any, Decimal] = defaultdict(lambda: ZERO)
    for r in rows:
        k = key(r)
        counts[k] += 1
        sums[k] += r[amount]
    return {k: (counts[k], sums[k]) for k in counts}


def _sum(rows: Iterable[dict[str, Any]], amount: str = "amount") -> Decimal:
    return sum((r[amount] for r in rows), ZERO)


def competition_ranks(values: list[Any]) -> list[int]:
    """Standard competition ranking of values, largest first: 10, 7, 7, 3 -> 1, 2, 2, 4."""
    order = sorted(values, reverse=True)
    return [order.index(v) + 1 for v in values]


# Rules whose subject is a person's bank account (银行账号): masked like a citizen ID.
PERSONAL_ACCOUNT_RULES = ("SHARED_ACCOUNT",)


def _shown_subject(case: dict[str, Any]) -> str:
    """The subject as a report may show it: citizen IDs and personal bank accounts masked."""
    subject = case["subject_id"]
    personal = subject == case.get("person_id") or is_citizen_id(subject) or case["rule"] in PERSONAL_ACCOUNT_RULES
    return mask_id(subject) if personal else subject


def _status_label(status: str) -> str:
    return f"{STATUS_ZH.get(status, status)} {status}"


def _rule_table(rows: list[dict[str, Any]], count_header: str, title: str | None, chart_title: str) -> Table:
    """Count and exact amount by rule, with a total and a column chart of the amounts."""
    by_rule = tally(rows, lambda r: r["rule"])
    return Table(
        columns=[Col("规则 rule"), Col("规则名称"), Col(count_header, "int"), Col("涉及金额（元）", "money")],
        rows=[[rule, rule_label(rule), *by_rule[rule]] for rule in sorted(by_rule, key=_rule_key)],
        title=title,
        total=[TOTAL, "", len(rows), _sum(rows)],
        chart=Chart(chart_title, category=1, values=(3,)),
    )


def _status_table(cases: list[dict[str, Any]], key: str, key_header: str, label: Callable[[str], str] | None):
    """Cases by `key` (rule or region) and status on the cut-off day, with overdue and unresolved amounts."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in cases:
        groups[c[key]].append(c)
    ordering = _rule_key if key == "rule" else (lambda k: k)
    columns = [Col(key_header)] + ([Col("规则名称")] if label else [])
    columns += [Col(f"{STATUS_ZH[s]} {s}", "int") for s in STATUSES]
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
                _sum(unresolved),
            ]
        )

    return Table(
        columns=columns,
        rows=[line(k, groups[k]) for k in sorted(groups, key=ordering)],
        total=line(TOTAL, cases) if cases else None,
    )


# ---- 定期自查 monthly self-check -----------------------------------------------------------------


def monthly_self_check(
    register: Path, db: Path, month: str, out_dir: Path, *, top_n: int = 20, as_of: dt.date | None = None
) -> list[Path]:
    """定期自查报告 for a month "YYYYMM": `自查报告_YYYYMM.md` and `.xlsx`; returns both paths."""
    first, last = _month_bounds(month)
    cutoff = _cutoff(last, as_of)
    with open_register_readonly(register) as con:
        cases = cases_at(con, cutoff)
        events = events_between(con, first, cutoff)
    with open_duckdb_readonly(db) as con:
        runs = _duck_rows(con, "runs_between.sql", {"date_from": first, "date_to": cutoff})
    doc = monthly_document(month, first, cutoff, cases, events, runs, top_n=top_n)
    return write_report(doc, out_dir, f"自查报告_{month}")


def monthly_document(
    month: str,
    first: dt.date,
    cutoff: dt.date,
    cases: list[dict[str, Any]],
    events: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    *,
    top_n: int,
) -> Document:
    label = f"{first.year}年{first.month}月"
    new = [c for c in cases if _between(c["first_seen"], first, cutoff)]
    confirmed = [c for c in cases if _between(c["confirmed_on"], first, cutoff)]
    dismissed = _first_per_case(e for e in events if e["action"] == "dismiss")
    rectified = [c for c in cases if _between(c["rectified_on"], first, cutoff)]
    overdue = sorted((c for c in cases if c["overdue"]), key=lambda c: (-c["amount"], c["suspect_id"]))
    recovered_month = _sum(rectified, "recovered")
    recovered_total = _sum(cases, "recovered")

    s1 = Section("一、本月新发现疑点（New findings by rule）")
    if new:
        s1.blocks.append(
            f"本月（{first.isoformat()} 至 {cutoff.isoformat()}）新发现疑点 {len(new)} 件，"
            f"涉及金额 {fmt_money(_sum(new))} 元。"
        )
        s1.blocks.append(_rule_table(new, "新发现件数", None, "本月新发现疑点金额（按规则）"))
    else:
        s1.blocks.append(f"本月（{first.isoformat()} 至 {cutoff.isoformat()}）未发现新的疑点。")

    s2 = Section("二、月末案件状态（Status at month end）")
    unresolved = [c for c in cases if c["status_at"] in UNRESOLVED]
    s2.blocks.append(
        f"截至 {cutoff.isoformat()}，登记案件共 {len(cases)} 件，其中未结 {len(unresolved)} 件"
        f"（涉及金额 {fmt_money(_sum(unresolved))} 元），逾期 {len(overdue)} 件。"
    )
    by_rule = _status_table(cases, "rule", "规则 rule", rule_label)
    by_rule.title = "按规则 by rule"
    by_region = _status_table(cases, "region", "统筹区 region", None)
    by_region.title = "按统筹区 by region"
    by_region.chart = Chart("各统筹区案件状态", category=0, values=(1, 2, 3, 4, 5), stacked=True)
    s2.blocks += [by_rule, by_region]

    s3 = Section("三、本月处置情况（Dispositions in the month）")
    s3.blocks.append(
        Table(
            columns=[Col("事项"), Col("件数", "int"), Col("涉及金额（元）", "money"), Col("追回金额（元）", "money")],
            rows=[
                ["确认违规 confirmed", len(confirmed), _sum(confirmed), None],
                ["排除 dismissed", len(dismissed), _sum(dismissed), None],
                ["已整改 rectified", len(rectified), _sum(rectified), recovered_month],
            ],
        )
    )
    s3.blocks.append(
        f"本月追回金额（recovered）{fmt_money(recovered_month)} 元；累计追回 {fmt_money(recovered_total)} 元。"
    )
    if confirmed:
        severities = Counter(c["severity"] or "未分级" for c in confirmed)
        s3.blocks.append("本月确认违规中：" + "，".join(f"{k} {v} 件" for k, v in sorted(severities.items())) + "。")

    s4 = Section("四、逾期案件清单（Overdue cases）")
    if overdue:
        shown = overdue[:top_n]
        s4.blocks.append(
            f"逾期案件共 {len(overdue)} 件，涉及金额 {fmt_money(_sum(overdue))} 元；"
            f"下表按金额列出前 {len(shown)} 件（逾期天数为自然日）。"
        )
        s4.blocks.append(_overdue_table(shown, cutoff))
    else:
        s4.blocks.append(f"截至 {cutoff.isoformat()}，无逾期案件。")

    s5 = Section("五、数据质量（Data quality）")
    s5.blocks.append(_data_quality_line("本月", runs))
    if runs:
        s5.blocks.append(_runs_table(runs))

    return Document(
        title=f"定期自查报告（{label}）",
        meta=[
            "Monthly self-check report 定期自查",
            f"统计期间 period：{first.isoformat()} 至 {cutoff.isoformat()}",
            f"报告月份 month：{month}",
        ],
        sections=[s1, s2, s3, s4, s5],
    )


def _first_per_case(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for e in events:
        seen.setdefault(e["suspect_id"], e)
    return list(seen.values())


def _overdue_table(cases: list[dict[str, Any]], cutoff: dt.date) -> Table:
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
                rule_label(c["rule"]),
                c["region"],
                _shown_subject(c),
                c["amount"],
                _status_label(c["status_at"]),
                c["assignee"],
                c["due_date"],
                (cutoff - dt.date.fromisoformat(c["due_date"])).days,
            ]
            for c in cases
        ],
    )


def _data_quality_line(period: str, runs: list[dict[str, Any]]) -> str:
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


def _runs_table(runs: list[dict[str, Any]]) -> Table:
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


# ---- 定期报告 half-year / annual supervision report -----------------------------------------------

SUPERVISION_SECTIONS = (
    "一、基金运行基本情况",
    "二、监管工作情况",
    "三、基金案件发生及处置情况",
    "四、基金安全评估情况",
    "五、主要问题和下一步措施",
)


def supervision_report(
    register: Path, db: Path, year: int, half: int | None, out_dir: Path, *, as_of: dt.date | None = None
) -> list[Path]:
    """定期报告: half-year (half=1 or 2) or annual (half=None) `监督报告_2025H1` / `监督报告_2025年度`."""
    first, last = _half_bounds(year, half)
    cutoff = _cutoff(last, as_of)
    periods = {"period_from": _yyyymm(first), "period_to": _yyyymm(last)}
    dates = {"date_from": first, "date_to": cutoff}
    with open_register_readonly(register) as con:
        cases = cases_at(con, cutoff)
        events = events_between(con, first, cutoff)
    with open_duckdb_readonly(db) as con:
        fund = {
            "benefits": _duck_rows(con, "fund_benefits.sql", periods),
            "paid": _duck_rows(con, "fund_persons_paid.sql", periods)[0],
            "contributions": _duck_rows(con, "fund_contributions.sql", periods),
            "ledger": _duck_rows(con, "fund_ledger.sql", dates),
            "runs": _duck_rows(con, "runs_between.sql", dates),
        }
    period_label = f"{year}年上半年" if half == 1 else f"{year}年下半年" if half == 2 else f"{year}年度"
    doc = supervision_document(period_label, first, last, cutoff, cases, events, fund)
    stem = f"监督报告_{year}H{half}" if half else f"监督报告_{year}年度"
    return write_report(doc, out_dir, stem)


def supervision_document(
    period_label: str,
    first: dt.date,
    last: dt.date,
    cutoff: dt.date,
    cases: list[dict[str, Any]],
    events: list[dict[str, Any]],
    fund: dict[str, Any],
) -> Document:
    in_period = lambda value: _between(value, first, cutoff)  # noqa: E731
    new = [c for c in cases if in_period(c["first_seen"])]
    confirmed = [c for c in cases if in_period(c["confirmed_on"])]
    dismissed = _first_per_case(e for e in events if e["action"] == "dismiss")
    rectified = [c for c in cases if in_period(c["rectified_on"])]
    assigned = {e["suspect_id"] for e in events if e["action"] == "assign"}
    reopened = [e for e in events if e["action"] == "reopened"]
    overdue = [c for c in cases if c["overdue"]]
    runs = fund["runs"]

    sections = [
        Section(SUPERVISION_SECTIONS[0], _fund_blocks(fund, first, last)),
        Section(SUPERVISION_SECTIONS[1], _work_blocks(runs, new, assigned, confirmed, dismissed)),
        Section(SUPERVISION_SECTIONS[2], _disposal_blocks(confirmed, dismissed, rectified, cases)),
        Section(SUPERVISION_SECTIONS[3], _assessment_blocks(cases, overdue, reopened, rectified, cutoff)),
        Section(SUPERVISION_SECTIONS[4], _problem_blocks(new, overdue, runs)),
    ]
    return Document(
        title=f"社会保险基金监督{period_label}定期报告",
        meta=[
            "Periodic supervision report 定期报告",
            f"报告期间 period：{first.isoformat()} 至 {last.isoformat()}"
            f"（待遇、征缴按所属期 {_yyyymm(first)}–{_yyyymm(last)}）",
            f"数据截至 cut-off：{cutoff.isoformat()}",
        ],
        sections=sections,
    )


def _fund_blocks(fund: dict[str, Any], first: dt.date, last: dt.date) -> list[str | Table]:
    benefits, paid = fund["benefits"], fund["paid"]
    contributions, ledger = fund["contributions"], fund["ledger"]
    assessed = sum((r["assessed"] for r in contributions), ZERO)
    collected = sum((r["collected"] for r in contributions), ZERO)
    inflow = sum((r["inflow"] for r in ledger), ZERO)
    outflow = sum((r["outflow"] for r in ledger), ZERO)
    blocks: list[str | Table] = [
        f"本期（所属期 {_yyyymm(first)}–{_yyyymm(last)}）共发放待遇 {paid['payments']:,} 笔、"
        f"{fmt_money(paid['amount'])} 元，领取待遇 {paid['persons']:,} 人；核定应缴 {fmt_money(assessed)} 元，"
        f"征收入库 {fmt_money(collected)} 元，征缴率 {fmt_pct(ratio(collected, assessed))}；"
        f"财政专户收入 {fmt_money(inflow)} 元、支出 {fmt_money(outflow)} 元。"
    ]
    blocks.append(
        Table(
            title="（一）待遇发放 benefit payments（按待遇类型、险种）",
            columns=[
                Col("待遇类型 benefit_type"),
                Col("险种 scheme"),
                Col("笔数", "int"),
                Col("人数", "int"),
                Col("发放金额（元）", "money"),
            ],
            rows=[
                [
                    _code_label("benefit_type", r["benefit_type"]),
                    _code_label("scheme", r["scheme"]),
                    r["payments"],
                    r["persons"],
                    r["amount"],
                ]
                for r in benefits
            ],
            total=[TOTAL, "", paid["payments"], paid["persons"], paid["amount"]] if benefits else None,
            chart=Chart("待遇发放金额（按待遇类型、险种）", category=0, category_to=1, values=(4,)),
        )
    )
    blocks.append(
        Table(
            title="（二）基金征缴 contributions assessed vs collected（按险种）",
            columns=[
                Col("险种 scheme"),
                Col("核定应缴（元）", "money"),
                Col("征收入库（元）", "money"),
                Col("差额（元）", "money"),
                Col("征缴率", "pct"),
            ],
            rows=[
                [
                    _code_label("scheme", r["scheme"]),
                    r["assessed"],
                    r["collected"],
                    r["assessed"] - r["collected"],
                    ratio(r["collected"], r["assessed"]),
                ]
                for r in contributions
            ],
            total=[TOTAL, assessed, collected, assessed - collected, ratio(collected, assessed)]
            if contributions
            else None,
            chart=Chart("核定应缴与征收入库（按险种）", category=0, values=(1, 2)),
        )
    )
    blocks.append(
        Table(
            title="（三）财政专户收支 special account inflow/outflow（按险种）",
            columns=[
                Col("险种 scheme"),
                Col("收入（元）", "money"),
                Col("支出（元）", "money"),
                Col("净额（元）", "money"),
            ],
            rows=[
                [_code_label("scheme", r["scheme"] or None), r["inflow"], r["outflow"], r["inflow"] - r["outflow"]]
                for r in ledger
            ],
            total=[TOTAL, inflow, outflow, inflow - outflow] if ledger else None,
        )
    )
    return blocks


def _work_blocks(runs, new, assigned, confirmed, dismissed) -> list[str | Table]:
    blocks: list[str | Table] = [
        "本期开展夜间交叉比对：" + _data_quality_line("本期", runs),
        f"本期新发现疑点 {len(new)} 件，涉及金额 {fmt_money(_sum(new))} 元；下达核查 {len(assigned)} 件，"
        f"核查确认违规 {len(confirmed)} 件、排除 {len(dismissed)} 件。",
    ]
    if new:
        blocks.append(
            _rule_table(new, "新发现件数", "疑点发现情况（按规则）findings by rule", "新发现疑点金额（按规则）")
        )
    blocks.append(
        Table(
            title="核查工作 verification",
            columns=[Col("事项"), Col("件数", "int")],
            rows=[
                ["新发现疑点 found", len(new)],
                ["下达核查 assigned", len(assigned)],
                ["核查确认违规 confirmed", len(confirmed)],
                ["核查排除 dismissed", len(dismissed)],
            ],
        )
    )
    return blocks


def _disposal_blocks(confirmed, dismissed, rectified, cases) -> list[str | Table]:
    recovered = _sum(rectified, "recovered")
    blocks: list[str | Table] = [
        f"本期确认违规案件 {len(confirmed)} 件，涉及金额 {fmt_money(_sum(confirmed))} 元；排除 {len(dismissed)} 件；"
        f"整改完成 {len(rectified)} 件，追回金额 {fmt_money(recovered)} 元"
        f"（累计追回 {fmt_money(_sum(cases, 'recovered'))} 元）。"
    ]
    if confirmed:
        rules = sorted({c["rule"] for c in confirmed}, key=_rule_key)

        def cells(rule: str | None) -> list[Any]:
            out: list[Any] = []
            for severity in SEVERITIES:
                members = [c for c in confirmed if c["severity"] == severity and rule in (None, c["rule"])]
                out += [len(members), _sum(members)]
            members = [c for c in confirmed if rule in (None, c["rule"])]
            return out + [len(members), _sum(members)]

        blocks.append(
            Table(
                title="确认违规案件（按规则、要情等级）confirmed by rule and severity",
                columns=[
                    Col("规则 rule"),
                    Col("规则名称"),
                    Col("要情件数", "int"),
                    Col("要情金额（元）", "money"),
                    Col("重大要情件数", "int"),
                    Col("重大要情金额（元）", "money"),
                    Col("合计件数", "int"),
                    Col("合计金额（元）", "money"),
                ],
                rows=[[rule, rule_label(rule), *cells(rule)] for rule in rules],
                total=[TOTAL, "", *cells(None)],
                chart=Chart("确认违规金额（按规则、要情等级）", category=1, values=(3, 5), stacked=True),
            )
        )
    if dismissed:
        by_reason = tally(dismissed, lambda e: e["reason"] or "（未说明）")
        blocks.append(
            Table(
                title="排除情况（按理由）dismissed with reasons",
                columns=[Col("排除理由 reason"), Col("件数", "int"), Col("涉及金额（元）", "money")],
                rows=[
                    [reason, *by_reason[reason]] for reason in sorted(by_reason, key=lambda k: (-by_reason[k][0], k))
                ],
                total=[TOTAL, len(dismissed), _sum(dismissed)],
            )
        )
    if rectified:
        by_rule = tally(rectified, lambda c: c["rule"])
        recovered_by = tally(rectified, lambda c: c["rule"], amount="recovered")
        blocks.append(
            Table(
                title="整改及追回（按规则）rectified and recovered",
                columns=[
                    Col("规则 rule"),
                    Col("规则名称"),
                    Col("整改件数", "int"),
                    Col("涉及金额（元）", "money"),
                    Col("追回金额（元）", "money"),
                ],
                rows=[
                    [rule, rule_label(rule), *by_rule[rule], recovered_by[rule][1]]
                    for rule in sorted(by_rule, key=_rule_key)
                ],
                total=[TOTAL, "", len(rectified), _sum(rectified), recovered],
                chart=Chart("涉及金额与追回金额（按规则）", category=1, values=(3, 4)),
            )
        )
    return blocks


def assessment(cases: list[dict[str, Any]], overdue: list[dict[str, Any]], reopened: list[dict[str, Any]]):
    """The numbers of 基金安全评估 on the cut-off day (cumulative over the register)."""
    confirmed = [c for c in cases if c["confirmed_on"] and c["status_at"] in ("confirmed", "rectified")]
    with_deadline = [c for c in cases if c["due_date"] and c["assigned_on"]]
    unresolved = [c for c in cases if c["status_at"] in UNRESOLVED]
    return {
        "confirmed_amount": _sum(confirmed),
        "recovered": _sum(cases, "recovered"),
        "recovery_rate": ratio(_sum(cases, "recovered"), _sum(confirmed)),
        "unresolved": len(unresolved),
        "unresolved_amount": _sum(unresolved),
        "overdue": len(overdue),
        "with_deadline": len(with_deadline),
        "overdue_rate": ratio(len(overdue), len(with_deadline)),
        "reopened_in_period": len(reopened),
        "recurrent_cases": sum(1 for c in cases if (c["recurrences"] or 0) > 0),
    }


def _assessment_blocks(cases, overdue, reopened, rectified, cutoff: dt.date) -> list[str | Table]:
    a = assessment(cases, overdue, reopened)
    findings: list[str] = []
    rate = a["recovery_rate"]
    if rate is None:
        findings.append("截至数据截止日无确认违规金额，暂无追回比例可评估。")
    else:
        level = (
            "追回情况良好"
            if rate >= Decimal("0.9")
            else "追回工作仍需加强"
            if rate >= Decimal("0.5")
            else "追回比例偏低，基金损失风险较大"
        )
        findings.append(
            f"累计确认违规金额 {fmt_money(a['confirmed_amount'])} 元，累计追回 {fmt_money(a['recovered'])} 元，"
            f"追回率 {fmt_pct(rate)}，{level}。"
        )
    findings.append(f"未结案件 {a['unresolved']} 件，涉及金额 {fmt_money(a['unresolved_amount'])} 元，尚处于风险敞口。")
    orate = a["overdue_rate"]
    if not a["overdue"]:
        findings.append("已下达整改期限的案件均未逾期。")
    else:
        level = (
            "逾期比例较高，需挂牌督办" if orate is not None and orate >= Decimal("0.2") else "逾期比例较低，需督促办结"
        )
        findings.append(
            f"逾期案件 {a['overdue']} 件，占已下达整改期限案件 {a['with_deadline']} 件的 {fmt_pct(orate)}，{level}。"
        )
    if a["reopened_in_period"] or a["recurrent_cases"]:
        findings.append(
            f"本期整改后再次发生（recurrence）{a['reopened_in_period']} 次，"
            f"累计有 {a['recurrent_cases']} 件案件出现反弹，整改成效有待巩固。"
        )
    else:
        findings.append("未发现整改后再次发生的情况。")
    risky = (rate is not None and rate < Decimal("0.5")) or (orate is not None and orate >= Decimal("0.2"))
    watch = (
        a["overdue"] or a["reopened_in_period"] or a["recurrent_cases"] or (rate is not None and rate < Decimal("0.9"))
    )
    overall = "基金安全存在较大风险" if risky else "基金安全总体可控，但存在薄弱环节" if watch else "基金安全总体平稳"
    blocks: list[str | Table] = [f"总体评估：{overall}（依据下列指标按规则判定）。"]
    blocks += [f"{i}. {text}" for i, text in enumerate(findings, start=1)]
    blocks.append(
        Table(
            title=f"评估指标（截至 {cutoff.isoformat()}）",
            columns=[Col("指标 indicator"), Col("数值 value")],
            rows=[
                ["累计确认违规金额（元）amount confirmed", fmt_money(a["confirmed_amount"])],
                ["累计追回金额（元）recovered", fmt_money(a["recovered"])],
                ["追回率 recovery rate", fmt_pct(rate)],
                ["未结案件 unresolved", str(a["unresolved"])],
                ["未结涉及金额（元）amount at risk", fmt_money(a["unresolved_amount"])],
                ["逾期案件 overdue", str(a["overdue"])],
                ["逾期率 overdue rate", fmt_pct(orate)],
                ["本期整改后再次发生 recurrences", str(a["reopened_in_period"])],
            ],
        )
    )
    return blocks


def _problem_blocks(new, overdue, runs) -> list[str | Table]:
    live = [c for c in new if c["status_at"] != "dismissed"]
    by_rule = tally(live, lambda c: c["rule"])
    top_rules = sorted(by_rule, key=lambda r: (-by_rule[r][1], _rule_key(r)))[:3]
    by_region = Counter(c["region"] for c in overdue)
    top_regions = sorted(by_region, key=lambda r: (-by_region[r], r))[:3]
    problems: list[str] = []
    for place, rule in enumerate(top_rules, start=1):
        count, amount = by_rule[rule]
        problems.append(
            f"{rule_label(rule)}（{rule}）：本期发现 {count} 件，涉及金额 {fmt_money(amount)} 元，"
            f"金额居各类疑点第 {place} 位。"
        )
    if top_regions:
        listed = "、".join(f"{r}（{by_region[r]} 件）" for r in top_regions)
        problems.append(f"核查整改逾期：逾期案件 {len(overdue)} 件，逾期案件最多的统筹区为 {listed}。")
    quarantined = sum(r["rows_quarantined"] for r in runs)
    rejected = sum(r["files_rejected"] for r in runs)
    if quarantined or rejected:
        problems.append(f"报送数据质量有待提高：本期隔离不合格数据 {quarantined:,} 行，拒收文件 {rejected:,} 个。")
    measures = [f"针对{rule_label(rule)}：{MEASURES.get(rule, '对该类疑点开展专项核查')}。" for rule in top_rules]
    if top_regions:
        measures.append(f"督促{'、'.join(top_regions)}等统筹区在整改期限内完成核查整改，对逾期案件挂牌督办、定期通报。")
    if quarantined or rejected:
        measures.append("会同数据提供部门治理源头数据质量，及时补报、更正被隔离和拒收的数据。")
    blocks: list[str | Table] = ["（一）主要问题"]
    blocks += [f"{i}. {text}" for i, text in enumerate(problems, start=1)] or ["本期未发现突出问题。"]
    blocks.append("（二）下一步措施")
    measures = measures or ["继续按期开展交叉比对和定期自查，保持对基金风险的常态化监测。"]
    blocks += [f"{i}. {text}" for i, text in enumerate(measures, start=1)]
    return blocks


# ---- 定期通报 circulation --------------------------------------------------------------------------


def circulation(register: Path, as_of: dt.date, out_dir: Path) -> list[Path]:
    """定期通报 as of a day: regions ranked by unresolved cases, overdue cases and amount recovered."""
    with open_register_readonly(register) as con:
        cases = cases_at(con, as_of)
    return write_report(circulation_document(as_of, cases), out_dir, f"通报_{as_of.isoformat()}")


def region_standings(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per region: unresolved, overdue, recovered, each with its competition rank.

    Sorted by unresolved cases (most first), then overdue, then amount recovered, then region code.
    """
    regions: dict[str, dict[str, Any]] = {}
    for c in cases:
        r = regions.setdefault(
            c["region"],
            {"region": c["region"], "unresolved": 0, "unresolved_amount": ZERO, "overdue": 0, "recovered": ZERO},
        )
        if c["status_at"] in UNRESOLVED:
            r["unresolved"] += 1
            r["unresolved_amount"] += c["amount"]
        r["overdue"] += c["overdue"]
        r["recovered"] += c["recovered"]
    rows = sorted(regions.values(), key=lambda r: (-r["unresolved"], -r["overdue"], -r["recovered"], r["region"]))
    for key in ("unresolved", "overdue", "recovered"):
        for r, rank in zip(rows, competition_ranks([r[key] for r in rows]), strict=True):
            r[f"{key}_rank"] = rank
    return rows


def circulation_document(as_of: dt.date, cases: list[dict[str, Any]]) -> Document:
    standings = region_standings(cases)
    unresolved = sum(r["unresolved"] for r in standings)
    overdue = sum(r["overdue"] for r in standings)
    recovered = sum((r["recovered"] for r in standings), ZERO)
    s1 = Section("一、总体情况（Overview）")
    s1.blocks.append(
        f"截至 {as_of.isoformat()}，{len(standings)} 个统筹区登记案件 {len(cases)} 件，未结 {unresolved} 件，"
        f"逾期 {overdue} 件，累计追回金额 {fmt_money(recovered)} 元。"
    )
    s2 = Section("二、各统筹区情况（By region）")
    s2.blocks.append(
        Table(
            columns=[
                Col("统筹区 region"),
                Col("未结案件 unresolved", "int"),
                Col("排名", "int"),
                Col("逾期案件 overdue", "int"),
                Col("排名", "int"),
                Col("追回金额（元）recovered", "money"),
                Col("排名", "int"),
                Col("未结涉及金额（元）", "money"),
            ],
            rows=[
                [
                    r["region"],
                    r["unresolved"],
                    r["unresolved_rank"],
                    r["overdue"],
                    r["overdue_rank"],
                    r["recovered"],
                    r["recovered_rank"],
                    r["unresolved_amount"],
                ]
                for r in standings
            ],
            total=[
                TOTAL,
                unresolved,
                None,
                overdue,
                None,
                recovered,
                None,
                sum((r["unresolved_amount"] for r in standings), ZERO),
            ]
            if standings
            else None,
            chart=Chart("各统筹区未结与逾期案件", category=0, values=(1, 3), kind="bar"),
        )
    )
    s3 = Section("三、排名（Rankings）")
    for key, label, kind, unit in (
        ("unresolved", "未结案件排名 ranked by unresolved cases", "int", "件"),
        ("overdue", "逾期案件排名 ranked by overdue cases", "int", "件"),
        ("recovered", "追回金额排名 ranked by amount recovered", "money", "元"),
    ):
        # only regions with something to rank; the rest share the last place and are named once
        ranked = sorted((r for r in standings if r[key]), key=lambda r, k=key: (r[f"{k}_rank"], r["region"]))
        s3.blocks.append(
            Table(
                title=label,
                columns=[Col("名次", "int"), Col("统筹区 region"), Col(f"数值（{unit}）", kind)],
                rows=[[r[f"{key}_rank"], r["region"], r[key]] for r in ranked],
                chart=Chart(label.split(" ")[0], category=1, values=(2,), kind="bar"),
            )
        )
        rest = sorted(r["region"] for r in standings if not r[key])
        if rest:
            s3.blocks.append(f"其余 {len(rest)} 个统筹区为 0：{'、'.join(rest)}。")
    if not standings:
        s2.blocks.append("登记簿中尚无案件。")
    return Document(
        title=f"社会保险基金监督定期通报（{as_of.year}年{as_of.month}月{as_of.day}日）",
        meta=[
            "Periodic circulation 定期通报",
            f"数据截至 as of：{as_of.isoformat()}",
            "未结 = 待核查、核查中、确认违规待整改",
        ],
        sections=[s1, s2, s3],
    )


# ---- 要情统计 ------------------------------------------------------------------------------------

TIMELINESS = {
    "on_time": "按时报告 on time",
    "late": "逾期报告 reported late",
    "overdue": "逾期未报 overdue, not reported",
    "pending": "未到期限 not yet due",
}


def report_timeliness(case: dict[str, Any], as_of: dt.date) -> str:
    """on_time | late | overdue | pending: reported_on against report_due (5 working days after confirmation)."""
    due, reported = case["report_due"], case["reported_on"]
    if reported:
        return "late" if due and reported > due else "on_time"
    return "overdue" if due and due < as_of.isoformat() else "pending"


def yaoqing_statistics(
    register: Path, year: int, half: int, out_dir: Path, *, as_of: dt.date | None = None
) -> list[Path]:
    """要情统计 for a half-year (`要情统计_2025H2`), or its 零报告 when no 要情 occurred.

    A 要情 of the half is a case confirmed (confirmed_on) in it with severity 要情 or 重大要情. Reporting
    timeliness is judged on `as_of` (default: today): unreported past report_due is flagged 逾期未报.
    """
    if half not in (1, 2):
        raise ValueError(f"half must be 1 or 2, got {half!r}")
    first, last = _half_bounds(year, half)
    as_of = as_of or dt.date.today()
    with open_register_readonly(register) as con:
        cases = cases_at(con, max(as_of, last))
    yaoqing = [c for c in cases if c["severity"] in SEVERITIES and _between(c["confirmed_on"], first, last)]
    label = f"{year}年{'上' if half == 1 else '下'}半年"
    doc = yaoqing_document(label, first, last, as_of, yaoqing)
    return write_report(doc, out_dir, f"要情统计_{year}H{half}")


def yaoqing_document(
    label: str, first: dt.date, last: dt.date, as_of: dt.date, yaoqing: list[dict[str, Any]]
) -> Document:
    meta = [
        "要情统计 statistics of reportable cases (要情 / 重大要情)",
        f"统计期间 period：{first.isoformat()} 至 {last.isoformat()}（按确认违规日期）",
        f"报送及时性判定日 as of：{as_of.isoformat()}",
    ]
    if not yaoqing:
        zero = Section(
            "零报告（Zero report）",
            [
                f"{label}（{first.isoformat()} 至 {last.isoformat()}），本地区未发生社会保险基金要情（含重大要情），"
                "特此零报告。",
                "No 要情 or 重大要情 occurred in the period: zero report.",
            ],
        )
        return Document(title=f"社会保险基金要情统计（{label}）——零报告", meta=meta, sections=[zero])

    def severity_cells(members: list[dict[str, Any]]) -> list[Any]:
        out: list[Any] = []
        for severity in SEVERITIES:
            chosen = [c for c in members if c["severity"] == severity]
            out += [len(chosen), _sum(chosen)]
        return out + [len(members), _sum(members)]

    severity_cols = [
        Col("要情件数", "int"),
        Col("要情金额（元）", "money"),
        Col("重大要情件数", "int"),
        Col("重大要情金额（元）", "money"),
        Col("合计件数", "int"),
        Col("合计金额（元）", "money"),
    ]
    counts = Counter(c["severity"] for c in yaoqing)
    s1 = Section(
        "一、总体情况（Overview）",
        [
            f"{label}共发生要情 {counts['要情']} 件、重大要情 {counts['重大要情']} 件，合计 {len(yaoqing)} 件，"
            f"涉及金额 {fmt_money(_sum(yaoqing))} 元。"
        ],
    )
    rules = sorted({c["rule"] for c in yaoqing}, key=_rule_key)
    s2 = Section(
        "二、按规则统计（By rule）",
        [
            Table(
                columns=[Col("规则 rule"), Col("规则名称"), *severity_cols],
                rows=[
                    [rule, rule_label(rule), *severity_cells([c for c in yaoqing if c["rule"] == rule])]
                    for rule in rules
                ],
                total=[TOTAL, "", *severity_cells(yaoqing)],
                chart=Chart("要情金额（按规则）", category=1, values=(3, 5), stacked=True),
            )
        ],
    )
    regions = sorted({c["region"] for c in yaoqing})
    s3 = Section(
        "三、按统筹区统计（By region）",
        [
            Table(
                columns=[Col("统筹区 region"), *severity_cols],
                rows=[[region, *severity_cells([c for c in yaoqing if c["region"] == region])] for region in regions],
                total=[TOTAL, *severity_cells(yaoqing)],
                chart=Chart("要情件数（按统筹区）", category=0, values=(1, 3), stacked=True),
            )
        ],
    )
    timeliness = {c["suspect_id"]: report_timeliness(c, as_of) for c in yaoqing}
    tally_t = Counter(timeliness.values())
    flagged = tally_t["late"] + tally_t["overdue"]
    s4 = Section(
        "四、报送及时性（Reporting timeliness）",
        [
            "要情应于确认违规后 5 个工作日内报送（report_due）。"
            + "；".join(f"{TIMELINESS[k].split(' ')[0]} {tally_t[k]} 件" for k in TIMELINESS)
            + ("。" if not flagged else f"。其中 {flagged} 件报送不及时（标注“⚠”），请相关统筹区说明原因。"),
            Table(
                columns=[
                    Col("疑点编号 suspect_id"),
                    Col("规则名称"),
                    Col("统筹区 region"),
                    Col("等级 severity"),
                    Col("涉及金额（元）", "money"),
                    Col("确认日期 confirmed_on"),
                    Col("报送期限 report_due"),
                    Col("报送日期 reported_on"),
                    Col("及时性 timeliness"),
                ],
                rows=[
                    [
                        c["suspect_id"],
                        rule_label(c["rule"]),
                        c["region"],
                        c["severity"],
                        c["amount"],
                        c["confirmed_on"],
                        c["report_due"],
                        c["reported_on"],
                        ("⚠ " if timeliness[c["suspect_id"]] in ("late", "overdue") else "")
                        + TIMELINESS[timeliness[c["suspect_id"]]],
                    ]
                    for c in sorted(yaoqing, key=lambda c: (c["confirmed_on"], c["suspect_id"]))
                ],
            ),
        ],
    )
    return Document(title=f"社会保险基金要情统计（{label}）", meta=meta, sections=[s1, s2, s3, s4])
