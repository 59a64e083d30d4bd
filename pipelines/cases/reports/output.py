"""Writing a report's files: `<stem>.md` and `<stem>.xlsx` side by side."""

from __future__ import annotations

from pathlib import Path

from pipelines.cases.reports.document import Document
from pipelines.cases.reports.markdown import render_markdown
from pipelines.cases.reports.xlsx import XlsxReport


def write_report(doc: Document, out_dir: Path, stem: str) -> list[Path]:
    """`<stem>.md` and `<stem>.xlsx` in out_dir; returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md, xlsx = out_dir / f"{stem}.md", out_dir / f"{stem}.xlsx"
    md.write_text(render_markdown(doc), encoding="utf-8")
    XlsxReport(xlsx).write(doc)
    return [md, xlsx]
