"""核查清单 — the per-region verification checklist, as an XLSX workbook a verifier opens.

Grain: one row per case of the region (`cases.region_code`, the pooling region that must verify
it, 下查一级) still to be worked: status open (待核查) or under_verification (核查中), or any case
the register marks overdue (逾期, the optional boolean column `overdue`; this module does not
derive it, the register owns what counts as overdue).

Citizen IDs (公民身份号码) are masked by default — 330102********1234 — in person_id, in a
subject_id shaped like one, and in the summary text: the checklist leaves the office. Amounts
are written as numbers formatted #,##0.00 from their exact decimal text.

`checklist_rows` is the selection (pure, testable); `export_checklist` writes it. The file goes into the
folder given, named from the validated region code and date (`checklist_path`, `pipelines.cases.files`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import xlsxwriter

from pipelines.cases import files
from pipelines.present.labels import case_status_label, rule_name
from pipelines.present.masking import is_citizen_id, mask_id, mask_ids_in_text
from pipelines.present.money import write_amount

SHEET_NAME = "核查清单"

OPEN_STATUSES = ("open", "under_verification")

# (header, column of the cases table, width in Excel character units; a CJK character is about 2)
COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("疑点编号 suspect_id", "suspect_id", 22),
    ("规则 rule", "rule", 24),
    ("规则名称", "rule_name", 18),
    ("对象 subject_id", "subject_id", 24),
    ("公民身份号码 person_id", "person_id", 22),
    ("所属期起", "period_from", 10),
    ("所属期止", "period_to", 10),
    ("涉及金额（元）", "amount_at_risk", 16),
    ("状态 status", "status", 26),
    ("核查人 assignee", "assignee", 14),
    ("整改期限 due_date", "due_date", 16),
    ("疑点说明 summary", "summary", 70),
)


def checklist_rows(cases: pl.DataFrame, region_code: str) -> pl.DataFrame:
    """The region's cases still to be worked, overdue first, then by due date (none last), then by id."""
    overdue = pl.col("overdue").fill_null(False) if "overdue" in cases.columns else pl.lit(False)
    return (
        cases.with_columns(overdue.alias("overdue"))
        .filter((pl.col("region_code") == region_code) & (pl.col("status").is_in(OPEN_STATUSES) | pl.col("overdue")))
        .sort(["overdue", "due_date", "suspect_id"], descending=[True, False, False], nulls_last=True)
    )


def checklist_path(out_dir: Path, region: str, as_of: dt.date) -> Path:
    """`核查清单_<region>_<YYYY-MM-DD>.xlsx` in out_dir; UnsafeOutput for a region that is not six digits."""
    return files.file_in(out_dir, f"核查清单_{files.region_code(region)}_{as_of.isoformat()}.xlsx")


def export_checklist(
    cases: pl.DataFrame,
    region_code: str,
    out: Path,
    *,
    mask_ids: bool = True,
    generated_on: dt.date,
) -> Path:
    """Write the region's 核查清单 to `out` (one sheet, '核查清单') and return `out`.

    `cases` has the columns of the `cases` table (sql/cases/001_cases.sql) as SQLite gives them:
    text, amount_at_risk a decimal string, dates ISO text; optionally a boolean `overdue`.
    `generated_on` is the date printed in the title row (the command's today). The region must be six
    digits and `out` a file directly in its folder (`pipelines.cases.files`), else UnsafeOutput.
    """
    region_code = files.region_code(region_code)
    rows = checklist_rows(cases, region_code)
    out = Path(out)
    out = files.file_in(out.parent, out.name)

    workbook = xlsxwriter.Workbook(out)
    try:
        sheet = workbook.add_worksheet(SHEET_NAME)
        title_format = workbook.add_format({"bold": True, "font_size": 14})
        header_format = workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        )
        text_format = workbook.add_format({"valign": "top"})
        wrap_format = workbook.add_format({"valign": "top", "text_wrap": True})
        amount_format = workbook.add_format({"num_format": "#,##0.00", "valign": "top"})
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})

        masked = "公民身份号码已脱敏" if mask_ids else "公民身份号码未脱敏，注意保密"
        sheet.write_string(
            0,
            0,
            f"{SHEET_NAME}（统筹区 {region_code}）  生成日期 {generated_on.isoformat()}  "
            f"共 {rows.height} 条待核查疑点  {masked}",
            title_format,
        )
        header_row = 1
        for col, (header, name, width) in enumerate(COLUMNS):
            sheet.write_string(header_row, col, header, header_format)
            sheet.set_column(col, col, width, wrap_format if name == "summary" else text_format)

        for offset, case in enumerate(rows.iter_rows(named=True), start=1):
            row = header_row + offset
            cells = _cells(case, mask_ids=mask_ids)
            for col, (_, name, _) in enumerate(COLUMNS):
                value = cells[name]
                if value is None:
                    continue
                if name == "amount_at_risk":
                    write_amount(sheet, row, col, value, amount_format, text_format)
                elif name == "due_date":
                    sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), date_format)
                else:
                    sheet.write_string(row, col, value, text_format)

        sheet.freeze_panes(header_row + 1, 0)
        sheet.autofilter(header_row, 0, header_row + rows.height, len(COLUMNS) - 1)
    finally:
        workbook.close()
    return out


def _cells(case: dict, *, mask_ids: bool) -> dict:
    """One case as the checklist shows it, keyed by column name."""
    person_id, subject_id, summary = case.get("person_id"), case["subject_id"], case.get("summary")
    if mask_ids:
        if person_id:
            person_id = mask_id(person_id)
        if subject_id == case.get("person_id") or is_citizen_id(subject_id):
            subject_id = mask_id(subject_id)
        if summary:
            summary = mask_ids_in_text(summary)
    due_date = case.get("due_date")
    return {
        "suspect_id": case["suspect_id"],
        "rule": case["rule"],
        "rule_name": rule_name(case["rule"]),
        "subject_id": subject_id,
        "person_id": person_id,
        "period_from": case.get("period_from"),
        "period_to": case.get("period_to"),
        "amount_at_risk": Decimal(str(case["amount_at_risk"])) if case["amount_at_risk"] is not None else None,
        "status": case_status_label(case["status"], case["overdue"]),
        "assignee": case.get("assignee"),
        "due_date": dt.date.fromisoformat(str(due_date)) if due_date else None,
        "summary": summary,
    }
