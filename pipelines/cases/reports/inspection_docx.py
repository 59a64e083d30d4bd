"""专项检查报告 as a DOCX an official signs (policy §五, issue 16 item 2; docs/adr/0025-special-inspections.md).

The policy asks the report to state 检查时间、检查地点、检查内容、检查人员、检查方式、检查对象、检查资料、检查过程、
所发现问题和整改意见, signed by the team leader (检查组组长) and the leader in charge (分管领导). The document has one
heading per item, in that order (`SECTIONS`), the findings as a table (case number, amount exact to the fen,
opinion, deadline), and the signature block: filled with the recorded sign-off (who, on which day) when signed,
blank lines to sign on paper otherwise.

Official-document form: A4 portrait with the margins of GB/T 9704 (37 mm top, 28 mm left, 35 mm bottom, 26 mm
right); 宋体 throughout (`FONT_NAME` SimSun, set as the east-Asian font, w:eastAsia, of every style and run: a DOCX
names its CJK face separately and a reader that lacks SimSun substitutes an installed CJK face, e.g. Noto Serif
CJK SC); the issuing office (`OFFICE`) above the title and in the closing (落款) with the report's date; the page
numbers in the footer as 第 N 页 共 M 页 from the PAGE and NUMPAGES fields, which the reader computes.

Citizen IDs and account numbers in any free text are masked (`mask_text`); the register's case numbers carry
none. `render` is pure (content in, bytes out); `write_private` writes a file only its owner may read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from pipelines.cases.printing import FONT_NAME, OFFICE
from pipelines.cases.reports.docx_page import east_asian, official_a4, page_numbers
from pipelines.present.masking import mask_text
from pipelines.present.money import fmt_money

SECTIONS = (
    "一、检查时间",
    "二、检查地点",
    "三、检查内容",
    "四、检查人员",
    "五、检查方式",
    "六、检查对象",
    "七、检查资料",
    "八、检查过程",
    "九、所发现问题和整改意见",
)
SIGNATURE_HEADING = "签字"
FINDING_COLUMNS = ("序号", "发现问题", "关联案件", "涉及金额（元）", "整改意见", "整改期限")
BLANK_SIGNATURE = "＿＿＿＿＿＿＿＿＿＿"
BLANK_DATE = "＿＿＿＿年＿＿月＿＿日"
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Finding:
    number: int
    text: str
    case: str | None  # suspect_id, with the rule's name when known
    amount: Decimal | None
    opinion: str | None
    deadline: dt.date | None


@dataclass(frozen=True)
class Signature:
    name: str  # who signed (the leader's name; the leader in charge's name and title)
    on: dt.date
    note: str = ""  # e.g. who recorded it


@dataclass(frozen=True)
class ReportContent:
    """Everything the report states, already in words (the register's reading is `inspections.report_content`)."""

    title: str  # the subject: the document is titled f"{title}专项检查报告" unless it already says so
    number: str  # the document's reference, e.g. 专检〔2026〕3号 第1版
    period: str  # 检查时间
    place: str
    content: str
    team: list[str]  # 检查人员, one line each (组长 …, 成员 …)
    method: str
    objects: list[str]  # 检查对象: the objects, the schemes, the regions
    materials: str
    process: list[str]  # 检查过程, one dated line per step
    findings: list[Finding]
    date: dt.date  # the report's date (落款)
    leader_signature: Signature | None = None
    in_charge_signature: Signature | None = None
    leader_name: str = ""
    in_charge_name: str = ""
    notes: list[str] = field(default_factory=list)  # lines under the findings table


def document_title(title: str) -> str:
    """XX专项检查报告."""
    title = title.strip()
    if title.endswith("专项检查报告"):
        return title
    return f"{title.removesuffix('专项检查')}专项检查报告"


def chinese_date(day: dt.date) -> str:
    """2026年3月14日."""
    return f"{day.year}年{day.month}月{day.day}日"


def render(content: ReportContent) -> bytes:
    """The report as DOCX bytes."""
    doc = Document()
    official_a4(doc.sections[0])
    _styles(doc)
    page_numbers(doc.sections[0].footer.paragraphs[0])
    _paragraph(doc, OFFICE, size=16, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    _paragraph(doc, document_title(mask_text(content.title)), size=22, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, mask_text(content.number), size=12, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
    bodies: list[list[str]] = [
        [content.period],
        [content.place],
        [content.content],
        content.team,
        [content.method],
        content.objects,
        [content.materials],
        content.process or ["（无过程记录）"],
    ]
    for heading, lines in zip(SECTIONS[:-1], bodies, strict=True):
        doc.add_heading(heading, level=1)
        for line in lines:
            _body(doc, mask_text(line))
    doc.add_heading(SECTIONS[-1], level=1)
    if content.findings:
        _body(doc, f"本次检查发现问题 {len(content.findings)} 项，整改意见如下表。")
        _findings_table(doc, content.findings)
    else:
        _body(doc, "本次检查未发现问题。")
    for line in content.notes:
        _body(doc, mask_text(line))
    _signatures(doc, content)
    _paragraph(doc, OFFICE, size=14, align=WD_ALIGN_PARAGRAPH.RIGHT, space_before=18)
    _paragraph(doc, chinese_date(content.date), size=14, align=WD_ALIGN_PARAGRAPH.RIGHT)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = document_title(content.title), OFFICE, OFFICE
    stamp = dt.datetime.combine(content.date, dt.time(), tzinfo=dt.UTC)  # fixed: the same record, the same bytes
    props.created = props.modified = stamp
    props.revision = 1
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def write_private(data: bytes, path: Path) -> str:
    """Write `data` to `path` readable by its owner only (0600, whatever the umask), atomically; its sha256."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")  # mkstemp creates 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


# ---- the parts ---------------------------------------------------------------------------------------------------


def _styles(doc) -> None:
    for style_name, size in (("Normal", 14), ("Heading 1", 16), ("Table Grid", 11), ("Title", 22)):
        style = doc.styles[style_name]
        style.font.name = FONT_NAME
        style.font.size = Pt(size)
        east_asian(style.element.get_or_add_rPr())
        if style_name == "Heading 1":
            style.font.bold = True
            style.font.color.rgb = RGBColor(0, 0, 0)
            style.paragraph_format.space_before = Pt(12)
            style.paragraph_format.space_after = Pt(6)
            style.paragraph_format.keep_with_next = True
    doc.styles["Normal"].paragraph_format.line_spacing = 1.35


def _run(paragraph, text: str, *, size: float | None = None, bold: bool = False):
    run = paragraph.add_run(text)
    run.font.name = FONT_NAME
    east_asian(run._element.get_or_add_rPr())
    if size:
        run.font.size = Pt(size)
    run.bold = bold or None
    return run


def _paragraph(doc, text: str, *, size=None, bold=False, align=None, space_before=0, space_after=0):
    paragraph = doc.add_paragraph()
    _run(paragraph, text, size=size, bold=bold)
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.space_before = Pt(space_before)
    paragraph.paragraph_format.space_after = Pt(space_after)
    return paragraph


def _body(doc, text: str) -> None:
    paragraph = _paragraph(doc, text, space_after=3)
    paragraph.paragraph_format.first_line_indent = Pt(28)  # two characters of 14 pt


def _cell(cell, text: str, *, bold: bool = False, align=None) -> None:
    paragraph = cell.paragraphs[0]
    _run(paragraph, text, size=10.5, bold=bold)
    if align is not None:
        paragraph.alignment = align


def _findings_table(doc, findings: list[Finding]) -> None:
    table = doc.add_table(rows=1, cols=len(FINDING_COLUMNS))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Mm(12), Mm(43), Mm(30), Mm(24), Mm(25), Mm(22))  # 156 mm: the text width of the page
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid: what LibreOffice lays the table out by (cells' widths are Word's)
    for cell, header, width in zip(table.rows[0].cells, FINDING_COLUMNS, widths, strict=True):
        _cell(cell, header, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        cell.width = width
    _repeat_header(table.rows[0])
    for f in findings:
        values = (
            str(f.number),
            mask_text(f.text),
            f.case or "—",  # a register case number (SP-<hash>) and a rule name: nothing personal
            fmt_money(f.amount) if f.amount is not None else "—",
            mask_text(f.opinion) if f.opinion else "（待提出）",
            chinese_date(f.deadline) if f.deadline else "—",
        )
        cells = table.add_row().cells
        for index, (cell, value, width) in enumerate(zip(cells, values, widths, strict=True)):
            align = WD_ALIGN_PARAGRAPH.RIGHT if index == 3 else WD_ALIGN_PARAGRAPH.CENTER if index == 0 else None
            _cell(cell, value, align=align)
            cell.width = width
    total = sum((f.amount for f in findings if f.amount is not None), Decimal("0.00"))
    cells = table.add_row().cells
    _cell(cells[0], "合计", bold=True)
    cells[0].merge(cells[2])
    _cell(cells[3], fmt_money(total), bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT)


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _signatures(doc, content: ReportContent) -> None:
    doc.add_heading(SIGNATURE_HEADING, level=1)
    for role, name, signature in (
        ("检查组组长", content.leader_name, content.leader_signature),
        ("分管领导", content.in_charge_name, content.in_charge_signature),
    ):
        signed = signature.name if signature else BLANK_SIGNATURE
        day = chinese_date(signature.on) if signature else BLANK_DATE
        paragraph = _paragraph(doc, f"{role}签字：", space_before=12)
        _run(paragraph, signed, bold=signature is not None)
        _run(paragraph, f"　　日期：{day}")
        if signature is None and name:
            _run(paragraph, f"（{name}）", size=10.5)
        if signature is not None and signature.note:
            _run(paragraph, f"（{signature.note}）", size=10.5)
