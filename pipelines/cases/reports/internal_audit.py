"""The documents of the monthly internal audit (稽核, policy §四; `pipelines.cases.internal_audit`):

* the 核查表 — the sample list an auditor works from and signs: one row per sampled business (序号, 业务流水号,
  业务类型, the person masked, 经办人, 办结时间, 金额, 抽取方式 规则疑点/分层随机) and the columns the auditor fills
  in by hand (稽核结论, 问题描述, 稽核人签名), then the signature lines; a print-ready XLSX (`write_checklist`);
* the 稽核报告 of a month — the draw (seed, date, who), the coverage achieved per business type and per operator
  (population, sampled, rate), the results so far (无问题 / 有问题 / 未录入) and the problems found with their
  cases; Markdown and XLSX (`audit_report`).

Both read the case register only (one read-only transaction): a draw keeps in it all they need. Person IDs are
masked (`mask_id`), findings typed by hand are masked as free text (`mask_text`). Grain of the tables: one row
per sampled business (核查表, problems), per business type, per operator (the completing step's, as drawn).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipelines.cases import internal_audit as ia
from pipelines.cases import register as case_register
from pipelines.cases.files import file_in
from pipelines.cases.reports.common import TOTAL
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table
from pipelines.cases.reports.output import write_report
from pipelines.cases.reports.xlsx import XlsxReport
from pipelines.present.labels import case_status_label
from pipelines.present.masking import mask_id, mask_text
from pipelines.present.money import ratio

TICK_BOXES = "□无问题\n□有问题"  # the 稽核结论 cell an auditor ticks by hand
# Blank cells written as ideographic spaces: they print empty, and their width leaves room to write by hand.
ROOM_TO_WRITE = {"finding": "\u3000" * 9, "signature": "\u3000" * 5}
SIGNATURES = "稽核人员（签名）：____________    复核人（签名）：____________    日期：______年____月____日"


@dataclass(frozen=True)
class DrawSnapshot:
    """A draw read from the register: the draw, its strata, its sample with the results in force, the cases its
    problems opened, and the month's other (withdrawn) draws."""

    draw: dict[str, Any]
    strata: list[dict[str, Any]]
    sample: list[dict[str, Any]]
    cases: dict[str, dict[str, Any]]
    withdrawn: list[dict[str, Any]]


def read_draw(con: sqlite3.Connection, draw_id: int) -> DrawSnapshot:
    """One draw and what belongs to it (the caller's connection; see `read_month` for a transaction of its own)."""
    draw = dict(ia.get_draw(con, draw_id))
    sample = ia.sample_rows(con, draw_id)
    ids = sorted({r["suspect_id"] for r in sample if r["suspect_id"]})
    cases = {}
    for suspect_id in ids:
        row = con.execute(
            "SELECT suspect_id, status, assignee FROM cases WHERE suspect_id = ?", [suspect_id]
        ).fetchone()
        if row is not None:
            cases[suspect_id] = dict(row)
    others = [d for d in ia.draws(con, draw["month"]) if d["draw_id"] != draw_id and not d["in_force"]]
    return DrawSnapshot(draw, ia.strata_rows(con, draw_id), sample, cases, others)


def read_month(register: Path, month: str) -> DrawSnapshot | None:
    """The month's draw in force (else its latest withdrawn one) from the register, read-only, one transaction."""
    with case_register.reader(register) as con:
        con.isolation_level = None
        con.execute("BEGIN")
        try:
            if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit_draws'").fetchone() is None:
                return None
            row = ia.draw_of_month(con, month)
            return None if row is None else read_draw(con, int(row["draw_id"]))
        finally:
            con.execute("COMMIT")


# ---- shared wording ----------------------------------------------------------------------------------------------


def month_zh(month: str) -> str:
    return f"{int(month[:4])}年{int(month[4:])}月"


def operator_label(operator_id: str, name: str | None) -> str:
    return f"{name} {operator_id}" if name else operator_id


def type_label(business_type: str) -> str:
    return business_type or "（未注明）"


def at_text(stamp: str | None) -> str:
    """An ISO timestamp as an official reads it: 2026-12-03 10:00:00+08:00."""
    return (stamp or "").replace("T", " ")


def draw_lines(draw: dict[str, Any]) -> list[str]:
    """The draw in sentences: who drew what, when, with which seed, from which run."""
    coverage = ratio(draw["sampled"], draw["population"])
    lines = [
        f"稽核月份 month：{draw['month']}（{month_zh(draw['month'])}办结业务）；抽样编号 draw：{draw['draw_id']}",
        f"抽样人 drawn by：{draw['drawn_by']}；抽样时间 drawn at：{at_text(draw['drawn_at'])}；"
        f"数据批次 run：{draw['run_id'] or '—'}",
        f"随机种子 seed：{draw['seed']}；抽样比例 rate：{Decimal(draw['rate']) * 100:.0f}%"
        "（每层至少抽取 ceil(比例×业务量)）",
        f"办结业务 population：{draw['population']:,} 笔；抽取 sampled：{draw['sampled']:,} 笔"
        f"（覆盖率 {_pct(coverage)}），其中规则疑点 flagged：{draw['flagged']:,} 笔（全部纳入）",
    ]
    if not draw["in_force"]:
        lines.append(
            f"本次抽样已撤销 withdrawn：{draw['withdrawn_by']} 于 {at_text(draw['withdrawn_at'])}，"
            f"理由：{mask_text(draw['withdrawal_reason'] or '')}"
        )
    return lines


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{(value * 100).quantize(Decimal('0.01'))}%"


# ---- the 核查表 -----------------------------------------------------------------------------------------------

CHECKLIST_COLUMNS = [
    Col("序号", "int"),
    Col("业务流水号"),
    Col("业务类型"),
    Col("参保人（脱敏）"),
    Col("经办人"),
    Col("办结时间"),
    Col("金额（元）", "money"),
    Col("抽取方式"),
    Col("稽核结论"),
    Col("问题描述"),
    Col("稽核人签名"),
]


def checklist_document(snapshot: DrawSnapshot, today: dt.date) -> Document:
    """The 核查表 of a draw: one row per sampled business, the auditor's columns blank."""
    draw = snapshot.draw
    rows = [
        [
            n,
            r["business_id"],
            type_label(r["business_type"]),
            mask_id(r["person_id"]) if r["person_id"] else "",
            operator_label(r["operator_id"], r["operator_name"]),
            r["completed_at"][:19],
            None if r["amount"] is None else Decimal(r["amount"]),
            ia.WHY_ZH[r["why"]],
            TICK_BOXES,
            ROOM_TO_WRITE["finding"],
            ROOM_TO_WRITE["signature"],
        ]
        for n, r in enumerate(snapshot.sample, start=1)
    ]
    blocks: list[str | Table] = [
        Table(columns=CHECKLIST_COLUMNS, rows=rows, title=f"抽样 {draw['draw_id']} 样本清单（共 {len(rows)} 笔）"),
        "说明：抽取方式“规则疑点”为夜间规则发现疑点的业务（全部纳入），“分层随机”为按业务类型和经办人分层随机抽取；"
        "参保人身份证号已脱敏。稽核结论勾选“无问题”或“有问题”，有问题的须填写问题描述。",
        SIGNATURES,
    ]
    return Document(
        title=f"稽核核查表（{month_zh(draw['month'])}办结业务）",
        meta=["Internal audit checklist 稽核核查表", *draw_lines(draw)],
        sections=[Section("稽核核查表（Audit checklist）", blocks)],
        date=today,
    )


def checklist_name(draw: dict[str, Any]) -> str:
    month = draw["month"]
    ia.month_bounds(month)  # a validated month: it names the file
    return f"稽核核查表_{month}_抽样{int(draw['draw_id'])}.xlsx"


def write_checklist(register: Path, draw_id: int, out_dir: Path, *, today: dt.date) -> Path:
    """The 核查表 of a draw as a print-ready XLSX in `out_dir` (private: the command's umask); its path."""
    with case_register.reader(register) as con:
        snapshot = read_draw(con, draw_id)
    path = file_in(out_dir, checklist_name(snapshot.draw))
    XlsxReport(path).write(checklist_document(snapshot, today))
    return path


# ---- the 稽核报告 ---------------------------------------------------------------------------------------------


COVERAGE_COLUMNS = [
    Col("办结业务（笔）", "int"),
    Col("抽取（笔）", "int"),
    Col("覆盖率", "pct"),
    Col("其中规则疑点（笔）", "int"),
    Col("无问题", "int"),
    Col("有问题", "int"),
    Col("未录入", "int"),
]


def _cells(strata: list[dict[str, Any]], sample: list[dict[str, Any]]) -> list[Any]:
    population = sum(s["population"] for s in strata)
    sampled = sum(s["sampled"] for s in strata)
    flagged = sum(s["flagged"] for s in strata)
    results = [sum(1 for r in sample if r["result"] == code) for code in ("ok", "problem", None)]
    return [population, sampled, ratio(sampled, population), flagged, *results]


def audit_document(snapshot: DrawSnapshot | None, month: str, today: dt.date) -> Document:
    """The month's 稽核报告 from its draw (None: the month was not drawn)."""
    title = f"稽核报告（{month_zh(month)}办结业务）"
    meta = ["Monthly internal audit report 稽核报告", f"报告日期 report date：{today.isoformat()}"]
    if snapshot is None:
        sections = [
            Section("一、抽样情况（The draw）", [f"{month_zh(month)}办结业务尚未抽样（fundwatch audit draw）。"])
        ]
        return Document(title=title, meta=meta, sections=sections, date=today)
    draw, strata, sample = snapshot.draw, snapshot.strata, snapshot.sample
    sections = [
        Section("一、抽样情况（The draw）", _draw_blocks(snapshot)),
        Section("二、按业务类型（By business type）", _by_type(strata, sample)),
        Section("三、按经办人（By operator）", _by_operator(strata, sample)),
        Section("四、稽核结果（Results）", _results(draw, sample)),
        Section("五、发现的问题（Problems found）", _problems(snapshot)),
    ]
    return Document(title=title, meta=meta, sections=sections, date=today)


def _draw_blocks(snapshot: DrawSnapshot) -> list[str | Table]:
    draw = snapshot.draw
    operators = len({s["operator_id"] for s in snapshot.strata})
    covered = len({s["operator_id"] for s in snapshot.strata if s["sampled"] > 0})
    blocks: list[str | Table] = [
        *draw_lines(draw),
        f"分层 strata：{len(snapshot.strata)} 层（业务类型 × 经办人），办结业务的经办人 {operators} 人，"
        f"均有抽取的 {covered} 人。",
        "口径：办结业务指支付环节（无支付环节的，最后一个环节）的操作时间在该月的业务；操作时间为经办系统的本地时间。"
        "稽核结论以每笔业务最后一次登记为准。",
    ]
    for other in snapshot.withdrawn:
        blocks.append(
            f"已撤销的抽样 withdrawn draw {other['draw_id']}（{other['drawn_by']} 于 {at_text(other['drawn_at'])} "
            f"抽取，{other['withdrawn_by']} 于 {at_text(other['withdrawn_at'])} 撤销，理由："
            f"{mask_text(other['withdrawal_reason'] or '')}）。"
        )
    return blocks


def _by_type(strata: list[dict[str, Any]], sample: list[dict[str, Any]]) -> list[str | Table]:
    types = sorted({s["business_type"] for s in strata})
    rows = [
        [
            type_label(t),
            *_cells([s for s in strata if s["business_type"] == t], [r for r in sample if r["business_type"] == t]),
        ]
        for t in types
    ]
    table = Table(
        columns=[Col("业务类型"), *COVERAGE_COLUMNS],
        rows=rows,
        title="按业务类型的覆盖情况 coverage by business type",
        total=[TOTAL, *_cells(strata, sample)],
        chart=Chart("办结与抽取业务量（按业务类型）", category=0, values=(1, 2)),
    )
    return [table]


def _by_operator(strata: list[dict[str, Any]], sample: list[dict[str, Any]]) -> list[str | Table]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in strata:
        grouped[s["operator_id"]].append(s)
    rows = []
    for operator_id in sorted(grouped):
        first = grouped[operator_id][0]
        rows.append(
            [
                operator_label(operator_id, first["operator_name"]),
                first["region_code"] or "",
                *_cells(grouped[operator_id], [r for r in sample if r["operator_id"] == operator_id]),
            ]
        )
    table = Table(
        columns=[Col("经办人"), Col("统筹区"), *COVERAGE_COLUMNS],
        rows=rows,
        title="按经办人的覆盖情况 coverage by operator（办结环节的经办人）",
        total=[TOTAL, "", *_cells(strata, sample)],
    )
    return [table]


def _results(draw: dict[str, Any], sample: list[dict[str, Any]]) -> list[str | Table]:
    counts = {code: sum(1 for r in sample if r["result"] == code) for code in ("ok", "problem", None)}
    sentence = (
        f"抽取 {len(sample):,} 笔，已录入稽核结论 {counts['ok'] + counts['problem']:,} 笔："
        f"无问题 {counts['ok']:,} 笔，有问题 {counts['problem']:,} 笔；未录入 {counts[None]:,} 笔。"
    )
    rows = [
        [
            ia.WHY_ZH[why],
            *(sum(1 for r in sample if r["why"] == why and r["result"] == c) for c in ("ok", "problem", None)),
        ]
        for why in ("flagged", "stratum")
    ]
    table = Table(
        columns=[Col("抽取方式"), Col("无问题", "int"), Col("有问题", "int"), Col("未录入", "int")],
        rows=rows,
        title="稽核结果（按抽取方式）results by how drawn",
        total=[TOTAL, counts["ok"], counts["problem"], counts[None]],
    )
    return [sentence, table]


def _problems(snapshot: DrawSnapshot) -> list[str | Table]:
    problems = [r for r in snapshot.sample if r["result"] == "problem"]
    if not problems:
        return ["截至报告日期，本次抽样未发现问题。"]
    rows = []
    for r in problems:
        case = snapshot.cases.get(r["suspect_id"] or "")
        rows.append(
            [
                r["business_id"],
                type_label(r["business_type"]),
                operator_label(r["operator_id"], r["operator_name"]),
                None if r["amount"] is None else Decimal(r["amount"]),
                mask_text(r["finding"] or ""),
                r["suspect_id"] or "未立案",
                case_status_label(case["status"]) if case else "",
                r["result_by"],
                at_text(r["result_at"])[:10],
            ]
        )
    table = Table(
        columns=[
            Col("业务流水号"),
            Col("业务类型"),
            Col("经办人"),
            Col("金额（元）", "money"),
            Col("问题描述"),
            Col("案件 suspect_id"),
            Col("案件状态"),
            Col("登记人"),
            Col("登记日期"),
        ],
        rows=rows,
        title="发现的问题 problems found",
    )
    opened = sum(1 for r in problems if r["suspect_id"])
    return [f"发现问题 {len(problems):,} 笔，其中已立案 {opened:,} 笔（规则 AUDIT_FINDING 稽核发现问题）。", table]


def audit_report_built(register: Path, month: str, *, today: dt.date) -> tuple[Document, str]:
    """The month's 稽核报告 as a document and its file stem, written nowhere (the workbench may serve it)."""
    ia.month_bounds(month)
    return audit_document(read_month(register, month), month, today), f"稽核报告_{month}"


def audit_report(register: Path, month: str, out_dir: Path, *, today: dt.date) -> list[Path]:
    """稽核报告 of a month: `稽核报告_YYYYMM.md` and `.xlsx` in out_dir; returns both paths."""
    doc, stem = audit_report_built(register, month, today=today)
    return write_report(doc, out_dir, stem)
