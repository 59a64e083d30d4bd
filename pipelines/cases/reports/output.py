"""Writing a report's files: `<stem>.md` and `<stem>.xlsx` side by side, inside the folder given."""

from __future__ import annotations

from pathlib import Path

from pipelines.cases.files import file_in
from pipelines.cases.reports.document import Document
from pipelines.cases.reports.markdown import render_markdown
from pipelines.cases.reports.xlsx import XlsxReport


def write_report(doc: Document, out_dir: Path, stem: str) -> list[Path]:
    """`<stem>.md` and `<stem>.xlsx` in out_dir; returns both paths.

    Both must land directly in out_dir (`pipelines.cases.files.file_in`), else UnsafeOutput and nothing is
    written: a stem is built by each report from validated parts (a month, a year and half, a date).
    """
    md, xlsx = file_in(out_dir, f"{stem}.md"), file_in(out_dir, f"{stem}.xlsx")
    md.write_text(render_markdown(doc), encoding="utf-8")
    XlsxReport(xlsx).write(doc)
    return [md, xlsx]
