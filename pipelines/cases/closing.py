"""要情结案报告 (policy §六, issue 16): the closing report of a closed 要情 / 重大要情 case, made and recorded.

* `due(con, as_of)` — the closed 要情 without a closing report: cases 已整改 (rectified) by `as_of` whose severity is
  要情 or 重大要情 and for whose closing (`reports.closing.closing_event`) no report is recorded. A dismissed case is
  never due: dismissal (排除) means verification found no violation, so there is no 要情 to close — a case is
  dismissed only before it is confirmed, and a confirmation voided by a correction clears its severity
  (docs/adr/0026-yaoqing-closing-reports.md).
* `make(con, duck, by, suspect_id, measures, responsibility, facts=None, out_dir=…)` — a chief makes the report of a
  closed 要情: facts (default composed from the case and its evidence, masked), the money as the register computes it
  for every report (`sources.read_register` + `sources.cases_at`, one case's own figures, `common.outstanding`),
  the measures and the responsibility; the document written as Markdown, XLSX and DOCX (private files, 0600), their
  sha256 recorded in `closing_reports` (append-only, sql/cases/009_closing_reports.sql) and a `closing_report`
  event appended to the case's hash-chained log, all in one register write transaction. Making it again is a new
  version; the earlier stays.
* `status(con, suspect_id)` — what the case page shows: whether a report applies, is due, and the one in force.

Who: only a chief makes a closing report — it determines responsibility (责任认定), which is the chief's to sign;
verifiers and auditors read it, an admin touches no case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.cases import evidence
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.cases.files import file_in
from pipelines.cases.reports.closing import (
    ClosingFigures,
    closing_document,
    closing_event,
    latest_for,
    reports_in,
)
from pipelines.cases.reports.closing_docx import render_docx
from pipelines.cases.reports.common import SEVERITIES, outstanding, pair_note
from pipelines.cases.reports.output import write_report
from pipelines.cases.reports.sources import cases_at, duck_rows, read_register
from pipelines.present.labels import CASE_STATUS_ZH, rule_name
from pipelines.present.masking import mask_text, shown_subject
from pipelines.present.money import fmt_money

FOLDER = "closing_reports"  # beside the register, when no folder is given
FILE_MODE = 0o600


def default_folder(register: Path) -> Path:
    """Where closing reports go when no folder is given: `closing_reports/` beside the register."""
    return Path(register).parent / FOLDER


def _register_path(con: sqlite3.Connection) -> Path:
    for row in con.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2])
    raise reg.CaseError("案件登记簿不是文件 the register is not a file: a closing report needs one")


def _closing_of(con: sqlite3.Connection, suspect_id: str) -> Mapping[str, Any] | None:
    history = reg.events(con, suspect_id)
    return closing_event(history, reg.voided_events(con, suspect_id))


# ---- what is due -----------------------------------------------------------------------------------------------


def due(con: sqlite3.Connection, as_of: dt.date) -> list[dict[str, Any]]:
    """The closed 要情 / 重大要情 without a closing report for their closing, closed (rectified_on) by `as_of`,
    oldest closing first: each the case row (dict) with `closing_event_id`."""
    rows = con.execute(
        "SELECT * FROM cases WHERE status = 'rectified' AND severity IN (?, ?) AND rectified_on <= ?"
        " ORDER BY rectified_on, suspect_id",
        [*SEVERITIES, as_of.isoformat()],
    ).fetchall()
    reports = reports_in(con)
    out = []
    for row in rows:
        closing = _closing_of(con, row["suspect_id"])
        if closing is None:
            continue  # closed before the log kept its events (a register older than issue 12): nothing to key on
        if latest_for(reports, row["suspect_id"], closing["event_id"]) is None:
            out.append({**dict(row), "closing_event_id": closing["event_id"]})
    return out


@dataclass(frozen=True)
class ClosingStatus:
    """The closing report of a case as its page shows it."""

    applies: bool  # a 要情 / 重大要情 that is closed (rectified)
    due: bool  # applies, and no report for its closing yet
    current: Mapping[str, Any] | None  # the latest version for its closing
    earlier: tuple[Mapping[str, Any], ...]  # every report of the case, in the order made (older closings too)

    def text(self) -> str:
        if self.current is not None:
            r = self.current
            return f"已出具 v{r['version']}（{str(r['made_at']).replace('T', ' ')}，{r['made_by']}）"  # with its offset
        if self.due:
            return "未出具 not made（已结要情，应出具结案报告 a closed 要情 needs its closing report）"
        return "不适用 n/a（未结要情 not a closed 要情）"


def status(con: sqlite3.Connection, suspect_id: str) -> ClosingStatus:
    case = reg.get_case(con, suspect_id)
    every = tuple(reports_in(con, suspect_id))
    if case["status"] != "rectified" or case["severity"] not in SEVERITIES:
        return ClosingStatus(False, False, None, every)
    closing = _closing_of(con, suspect_id)
    current = None if closing is None else latest_for(every, suspect_id, closing["event_id"])
    return ClosingStatus(True, closing is not None and current is None, current, every)


# ---- making one ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MadeReport:
    report_id: int
    version: int
    paths: list[Path]  # the .md, the .xlsx and the .docx
    figures: ClosingFigures


def _chief(con: sqlite3.Connection, by: str | reg.Actor) -> reg.Actor:
    who = by if isinstance(by, reg.Actor) else reg.Actor(staff_register.get_active(con, by, "出具人 made by"))
    member = who.staff
    if member.role != "chief":
        raise staff_register.NotAllowed(
            f"{member.label}: 只有科长可以出具结案报告 only a chief makes a closing report"
            " (it determines responsibility)"
        )
    return who


def _required(text: str | None, what: str) -> str:
    if text is None or not text.strip():
        raise reg.CaseError(f"请填写{what}")
    return text.strip()


def make(
    con: sqlite3.Connection,
    duck: duckdb.DuckDBPyConnection | None,
    by: str | reg.Actor,
    suspect_id: str,
    measures: str,
    responsibility: str,
    facts: str | None = None,
    *,
    out_dir: Path | None = None,
    today: dt.date | None = None,
) -> MadeReport:
    """Make, write and record the closing report of a closed 要情 (see the module docstring). `duck`: a read-only
    connection to the published file, for the evidence and the near-miss pairs (None: facts without evidence, no
    pair). Refusals: NotAllowed (not a chief), CaseError (no such case, not closed, not a 要情, texts missing)."""
    measures = _required(measures, "整改措施 the measures taken (--measures)")
    responsibility = _required(responsibility, "责任认定及追究 the responsibility determined (--responsibility)")
    today = today or dt.date.today()
    register = _register_path(con)
    folder = Path(out_dir) if out_dir is not None else default_folder(register)
    with reg.write_transaction(con):
        who = _chief(con, by)
        case = dict(reg.get_case(con, suspect_id))
        if case["status"] != "rectified":
            zh = CASE_STATUS_ZH.get(case["status"], case["status"])
            raise reg.CaseError(
                f"{suspect_id}: 案件状态为{zh} ({case['status']})，尚未整改完成结案，不能出具结案报告"
                f" the case is {case['status']}: a closing report is made once it is rectified (closed)"
            )
        if case["severity"] not in SEVERITIES:
            raise reg.CaseError(
                f"{suspect_id}: 不是要情或重大要情（级别 {case['severity'] or '无 none'}），无需结案报告"
                " not a 要情: no closing report"
            )
        closing = _closing_of(con, suspect_id)
        if closing is None:
            raise reg.CaseError(f"{suspect_id}: 记录中找不到结案事件 the log shows no closing event for this case")
        closed_on = str(case["rectified_on"] or closing["at"])[:10]
        if closed_on > today.isoformat():
            raise reg.CaseError(f"{suspect_id}: 结案日期 {closed_on} 晚于今天 {today} the case closes after today")
        # The figures every report computes: the register read once (this transaction holds the write lock, so
        # what it reads is what is committed now), the case on `today` with a near-miss pair carried once.
        pairs = duck_rows(duck, "ledger_bank_pairs.sql", {}) if duck is not None else []
        shown = next(c for c in cases_at(read_register(register), today, pairs) if c["suspect_id"] == suspect_id)
        own = {"amount": shown["own_amount"], "recovered": shown["own_recovered"]}
        own["written_off"] = shown["own_written_off"]
        figures = ClosingFigures(
            amount=own["amount"],
            recovered=own["recovered"],
            written_off=own["written_off"],
            outstanding=outstanding(own),
            excess=shown["own_excess"],
        )
        facts_text = mask_text(facts.strip()) if facts and facts.strip() else default_facts(case, duck)
        version = 1 + int(
            con.execute(
                "SELECT coalesce(max(version), 0) FROM closing_reports WHERE suspect_id = ?", [suspect_id]
            ).fetchone()[0]
        )
        doc = closing_document(
            case,
            figures,
            version=version,
            facts=facts_text,
            measures=measures,
            responsibility=responsibility,
            made_by=who.id,
            made_on=today,
            closed_on=closed_on,
            carried_note=pair_note([shown]) if shown.get("carried_by") else None,
        )
        stem = f"结案报告_{suspect_id}_v{version}"
        paths = write_report(doc, folder, stem)
        try:
            docx = file_in(folder, f"{stem}.docx")
            paths.append(docx)
            docx.write_bytes(render_docx(doc))
            for path in paths:
                os.chmod(path, FILE_MODE)  # a private file, whatever the umask of the process
            md, xlsx, docx = paths
            made_at = reg._now()
            cursor = con.execute(
                "INSERT INTO closing_reports (suspect_id, version, closing_event_id, closed_on, severity, facts,"
                " amount, recovered, written_off, outstanding, excess, measures, responsibility, made_by,"
                " recorded_by, made_at, as_of, folder, file_name, sha256, md_file_name, md_sha256, docx_file_name,"
                " docx_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    suspect_id,
                    version,
                    closing["event_id"],
                    closed_on,
                    case["severity"],
                    facts_text,
                    f"{figures.amount}",
                    f"{figures.recovered}",
                    f"{figures.written_off}",
                    f"{figures.outstanding}",
                    f"{figures.excess}",
                    mask_text(measures),
                    mask_text(responsibility),
                    who.id,
                    who.recorded_by.staff_id if who.recorded_by else None,
                    made_at,
                    today.isoformat(),
                    str(folder.resolve()),
                    xlsx.name,
                    sha256_of(xlsx),
                    md.name,
                    sha256_of(md),
                    docx.name,
                    sha256_of(docx),
                ],
            )
            report_id = int(cursor.lastrowid)
            details = {"on": today.isoformat(), "report_id": report_id, "version": version, "file": xlsx.name}
            details.update(who.details())
            reason = "出具结案报告 closing report made" if version == 1 else f"更正结案报告 v{version} corrected"
            reg._event(con, suspect_id, who.id, "closing_report", "rectified", "rectified", reason, details)
        except BaseException:
            for path in paths:  # nothing recorded: no file claims to be a recorded report
                path.unlink(missing_ok=True)
            raise
    return MadeReport(report_id, version, paths, figures)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def default_facts(case: Mapping[str, Any], duck: duckdb.DuckDBPyConnection | None) -> str:
    """基本案情 composed from the case and its evidence: the rule, the subject (masked), the period, the amount,
    how it was found and worked; then what the evidence holds (datasets, rows, source files)."""
    period = case["period_from"] or ""
    if case["period_to"] and case["period_to"] != case["period_from"]:
        period = f"{period}至{case['period_to']}"
    name = ""
    lines_of_evidence = []
    if duck is not None:
        try:
            view = evidence.evidence_view(duck, str(case["suspect_id"]))
        except (duckdb.Error, evidence.EvidenceNotFound) as err:
            lines_of_evidence.append(f"证据不可用 evidence unavailable：{mask_text(' '.join(str(err).split()))[:120]}")
        else:
            name = f"（{view.name}）" if view.name else ""
            for t in view.tables:
                files = sorted({s.file for r in t.records for s in r.sources})
                shown = "、".join(files[:3]) + (f" 等 {len(files)} 个文件" if len(files) > 3 else "")
                # the title counts its rows: '待遇发放明细 benefit_payments（10 行 rows）'
                lines_of_evidence.append(t.title + (f"，来源 {shown}" if files else ""))
    else:
        lines_of_evidence.append("证据不可用 evidence unavailable：未读取已发布数据库 no published database read")
    first = (
        f"{case['first_seen']} 夜间交叉比对（规则 {case['rule']} {rule_name(str(case['rule']))}）发现："
        f"对象 {shown_subject(case)}{name}"
        + (f"，所属期 {period}" if period else "")
        + f"，涉及金额 {fmt_money(reg._dec(case['amount_at_risk']))} 元。"
    )
    work = (
        f"该疑点于 {case['assigned_on'] or '-'} 交办统筹区 {case['assigned_region'] or case['region_code'] or '-'} "
        f"核查人 {case['assignee'] or '-'} 核查，{case['confirmed_on'] or '-'} 确认违规，定为{case['severity']}"
        + (f"，{case['reported_on']} 报告" if case["reported_on"] else "")
        + f"，{case['rectified_on'] or '-'} 整改完成。"
    )
    summary = f"疑点说明：{case['summary']}" if case["summary"] else ""
    parts = [first, work, summary, "证据 evidence：" + "；".join(lines_of_evidence) + "。"]
    return mask_text("\n".join(p for p in parts if p))
