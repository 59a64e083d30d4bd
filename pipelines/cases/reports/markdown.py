"""The Markdown rendering of a `Document`: GitHub pipe tables, numbers right-aligned."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipelines.cases.reports.document import Col, Document, Table, cell_text


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
