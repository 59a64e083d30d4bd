"""核查清单 — the per-region verification checklist, as an XLSX workbook a verifier opens.

Grain: one row per case of the region (`cases.region_code`, the pooling region that must verify
it, 下查一级) still to be worked: status open (待核查) or under_verification (核查中), or any case
the register marks overdue (逾期, the optional boolean column `overdue`; this module does not
derive it, the register owns what counts as overdue).

Personal data is masked by default (`pipelines.present.masking`), the checklist leaves the office: a citizen
ID (公民身份号码) as 330102********1234 in person_id and as a subject, a personal bank account as a subject
(SHARED_ACCOUNT) keeps its last 4 digits, and every ID and account inside the summary is masked. Unmasked
output is an explicit request and goes to its own file, `核查清单_<region>_<date>_未脱敏.xlsx`, so it never
replaces the masked one (`checklist_path(..., masked=False)`; the command records who asked).
Amounts are written as numbers formatted #,##0.00 yuan from their exact decimal text. A deadline counted
on a calendar without the year's official arrangement shows as `2027-01-14（暂定 provisional）`.

The sheet prints (docs/adr/0017-print-ready-workbooks.md): A4 landscape fitted to the page width, the
header row on every page, 宋体, the office, title and date in the page header, page numbers in the footer.

`checklist_rows` is the selection (pure, testable); `export_checklist` writes it, or raises `NothingToExport`
when the region has nothing to work (no file is written). The file goes into the folder given, named from
the validated region code and date (`checklist_path`, `pipelines.cases.files`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipelines.cases import files
from pipelines.cases.calendar import due_text
from pipelines.cases.printing import OFFICE, column_px, landscape_for, new_workbook, print_setup, row_height
from pipelines.present.labels import case_status_label, rule_name
from pipelines.present.masking import mask_id, mask_text, shown_subject
from pipelines.present.money import write_amount

SHEET_NAME = "核查清单"
UNMASKED_SUFFIX = "_未脱敏"  # in the name of a checklist that shows personal data in full


class NothingToExport(LookupError):
    """The region has no case to work (open, under verification or overdue): no checklist is written."""

    def __init__(self, region_code: str) -> None:
        self.region_code = region_code
        super().__init__(f"该统筹区没有待核查案件 no open cases for region {region_code}")


OPEN_STATUSES = ("open", "under_verification")

# (header, column of the cases table, width in Excel character units; a CJK character is about 2). Every
# column but the amount wraps: the twelve fit a landscape A4 page at about 70 %.
COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("疑点编号 suspect_id", "suspect_id", 20),
    ("规则 rule", "rule", 17),
    ("规则名称", "rule_name", 18),
    ("对象 subject_id", "subject_id", 21),
    ("公民身份号码 person_id", "person_id", 21),
    ("所属期起", "period_from", 8),
    ("所属期止", "period_to", 8),
    ("涉及金额（元）", "amount_at_risk", 15),
    ("状态 status", "status", 21),
    ("核查人 assignee", "assignee", 9),
    ("整改期限 due_date", "due_date", 14),
    ("疑点说明 summary", "summary", 34),
)


def checklist_rows(cases: pl.DataFrame, region_code: str) -> pl.DataFrame:
    """The region's cases still to be worked, overdue first, then by due date (none last), then by id."""
    overdue = pl.col("overdue").fill_null(False) if "overdue" in cases.columns else pl.lit(False)
    return (
        cases.with_columns(overdue.alias("overdue"))
        .filter((pl.col("region_code") == region_code) & (pl.col("status").is_in(OPEN_STATUSES) | pl.col("overdue")))
        .sort(["overdue", "due_date", "suspect_id"], descending=[True, False, False], nulls_last=True)
    )


def checklist_path(out_dir: Path, region: str, as_of: dt.date, masked: bool = True) -> Path:
    """`核查清单_<region>_<YYYY-MM-DD>.xlsx` in out_dir, `…_未脱敏.xlsx` when not masked (never the same file);
    UnsafeOutput for a region that is not six digits."""
    suffix = "" if masked else UNMASKED_SUFFIX
    return files.file_in(out_dir, f"核查清单_{files.region_code(region)}_{as_of.isoformat()}{suffix}.xlsx")


def export_checklist(
    cases: pl.DataFrame,
    region_code: str,
    out: Path,
    *,
    mask_ids: bool = True,
    generated_on: dt.date,
    office: str = OFFICE,
) -> Path:
    """Write the region's 核查清单 to `out` (one sheet, '核查清单') and return `out`.

    `cases` has the columns of the `cases` table (sql/cases/001_cases.sql) as SQLite gives them:
    text, amount_at_risk a decimal string, dates ISO text; optionally a boolean `overdue` and the 0/1
    `due_provisional` (a frame without it has no provisional deadline). `generated_on` is the date printed
    in the title row and the page header (the command's today); `office` the issuing office of the header.
    The region must be six digits and `out` a file directly in its folder (`pipelines.cases.files`), else
    UnsafeOutput. A region with nothing to work raises NothingToExport and writes nothing.
    """
    region_code = files.region_code(region_code)
    rows = checklist_rows(cases, region_code)
    if rows.height == 0:
        raise NothingToExport(region_code)
    out = Path(out)
    out = files.file_in(out.parent, out.name)

    workbook = new_workbook(out)
    try:
        sheet = workbook.add_worksheet(SHEET_NAME)
        title_format = workbook.add_format({"bold": True, "font_size": 14, "valign": "vcenter"})
        header_format = workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"}
        )
        cell = {"border": 1, "valign": "top", "text_wrap": True}
        text_format = workbook.add_format(cell)
        amount_format = workbook.add_format({**cell, "text_wrap": False, "num_format": "#,##0.00"})
        date_format = workbook.add_format({**cell, "num_format": "yyyy-mm-dd", "align": "left"})

        masked = "公民身份号码、银行账号已脱敏" if mask_ids else "未脱敏，注意保密 unmasked"
        title = f"{SHEET_NAME}（统筹区 {region_code}）"
        sheet.merge_range(
            0,
            0,
            0,
            len(COLUMNS) - 1,
            f"{title}  生成日期 {generated_on.isoformat()}  共 {rows.height} 条待核查疑点  {masked}",
            title_format,
        )
        sheet.set_row(0, 24)
        header_row = 1
        for col, (header, _, width) in enumerate(COLUMNS):
            sheet.write_string(header_row, col, header, header_format)
            sheet.set_column(col, col, width)
        sheet.set_row(header_row, row_height([(header, width) for header, _, width in COLUMNS]))

        for offset, case in enumerate(rows.iter_rows(named=True), start=1):
            row = header_row + offset
            cells = _cells(case, mask_ids=mask_ids)
            sheet.set_row(row, row_height([(v, w) for (_, k, w) in COLUMNS if isinstance(v := cells[k], str)]))
            for col, (_, name, _) in enumerate(COLUMNS):
                value = cells[name]
                if value is None:
                    sheet.write_blank(row, col, None, text_format)
                elif name == "amount_at_risk":
                    write_amount(sheet, row, col, value, amount_format, text_format)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), date_format)
                else:
                    sheet.write_string(row, col, value, text_format)

        sheet.freeze_panes(header_row + 1, 0)
        sheet.autofilter(header_row, 0, header_row + rows.height, len(COLUMNS) - 1)
        print_setup(
            sheet,
            title=title if mask_ids else f"{title}（未脱敏，注意保密）",
            date_text=f"生成日期 {generated_on.isoformat()}",
            office=office,
            landscape=landscape_for(sum(column_px(width) for _, _, width in COLUMNS)),
            repeat_rows=(header_row, header_row),
        )
    finally:
        workbook.close()
    return out


def _cells(case: dict, *, mask_ids: bool) -> dict:
    """One case as the checklist shows it, keyed by column name."""
    person_id, subject_id, summary = case.get("person_id"), case["subject_id"], case.get("summary")
    if mask_ids:
        if person_id:
            person_id = mask_id(person_id)
        subject_id = shown_subject(case)
        if summary:
            summary = mask_text(summary)
    due_date = case.get("due_date")
    if due_date and case.get("due_provisional"):  # a text cell: the date and the word 暂定 must print together
        due: dt.date | str | None = due_text(str(due_date), True)
    else:
        due = dt.date.fromisoformat(str(due_date)) if due_date else None
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
        "due_date": due,
        "summary": summary,
    }
