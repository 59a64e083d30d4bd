"""The 要情结案报告 as a DOCX an official signs (python-docx), beside its Markdown and XLSX.

It renders the same `Document` the other two do (`reports.closing.closing_document`): the issuing office above the
title, the lines under the title, each section's heading, paragraphs and tables (amounts right-aligned, exact to the
fen as `cell_text` writes them), the signature lines as the document has them. A4 portrait with the margins of
GB/T 9704; 宋体 (SimSun) as every run's east-Asian and western font — a reader without SimSun substitutes an
installed CJK face; page numbers in the footer (第 N 页 共 M 页, from the PAGE and NUMPAGES fields).

`render_docx` is pure (a Document in, bytes out); the caller writes the file (`pipelines.cases.closing`).
"""

from __future__ import annotations

import io

from docx import Document as Docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from pipelines.cases.reports.document import Document, Table, cell_text
from pipelines.cases.reports.docx_page import east_asian, official_a4, page_numbers

NUMERIC = ("int", "money", "pct")
SIGNATURE = "（签字）"


def _run(paragraph, text: str, *, size: float = 12, bold: bool = False) -> None:
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.bold = bold or None
    east_asian(run._element.get_or_add_rPr())


def _paragraph(container, text: str, *, size: float = 12, bold: bool = False, align=None, after: float = 4):
    paragraph = container.add_paragraph()
    _run(paragraph, text, size=size, bold=bold)
    paragraph.paragraph_format.space_after = Pt(after)
    if align is not None:
        paragraph.alignment = align
    return paragraph


def _table(docx, table: Table) -> None:
    if table.title:
        _paragraph(docx, table.title, size=11, bold=True, after=2)
    rows = table.rows + ([table.total] if table.total else [])
    grid = docx.add_table(rows=1 + len(rows), cols=len(table.columns))
    grid.style = "Table Grid"
    for i, column in enumerate(table.columns):
        cell = grid.rows[0].cells[i]
        cell.text = ""
        _run(cell.paragraphs[0], column.header, size=10.5, bold=True)
    for r, row in enumerate(rows, start=1):
        for i, (value, column) in enumerate(zip(row, table.columns, strict=True)):
            paragraph = grid.rows[r].cells[i].paragraphs[0]
            _run(paragraph, cell_text(value, column.kind), size=10.5)
            if column.kind in NUMERIC:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _paragraph(docx, "", after=2)


def render_docx(doc: Document) -> bytes:
    """The document as DOCX bytes (see the module docstring)."""
    docx = Docx()
    page = docx.sections[0]
    official_a4(page)
    for name in ("Normal", "Table Grid"):
        east_asian(docx.styles[name].element.get_or_add_rPr())
    header = page.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(header, f"{doc.office}    {doc.title}", size=10)
    page_numbers(page.footer.paragraphs[0], size=10)

    _paragraph(docx, doc.office, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(docx, doc.title, size=18, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=10)
    for line in doc.meta:
        _paragraph(docx, line, size=10.5, after=1)
    for section in doc.sections:
        heading = _paragraph(docx, section.heading, size=14, bold=True, after=4)
        heading.paragraph_format.space_before = Pt(10)
        heading.paragraph_format.keep_with_next = True
        for block in section.blocks:
            if isinstance(block, Table):
                _table(docx, block)
            else:
                paragraph = _paragraph(docx, block)
                if SIGNATURE in block:  # room to sign, and the lines kept with the opinion above them
                    paragraph.paragraph_format.space_before = Pt(16)
                    paragraph.paragraph_format.keep_together = True
    if doc.date is not None:
        closing = _paragraph(docx, f"{doc.office}    {doc.date.isoformat()}", align=WD_ALIGN_PARAGRAPH.RIGHT)
        closing.paragraph_format.space_before = Pt(18)
    out = io.BytesIO()
    docx.save(out)
    return out.getvalue()
