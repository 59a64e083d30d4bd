"""The console renderer: every table and line a command prints goes through here (drawn by `rich`).

Tables have a header (Chinese above the English code where a column carries both), a rule of '-', and
the rows; numbers right-aligned; CJK text counted two columns wide. On a terminal a table fits its
width; written to a file or a pipe (a scheduler's log, a test) nothing is ever wrapped or cut, so a
line of the output is a line of the table. Text is printed as it is: no markup, no highlighting.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

# Header, a rule of '-' under it (columns apart), rows: no frame. Lines: top, head, head rule, mid, row,
# foot rule, foot, bottom; each is left edge, horizontal, column divider, right edge.
RULED = box.Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)

# Width of a console that is not a terminal: wide enough that no table or line is ever wrapped.
UNWRAPPED_WIDTH = 10_000


@dataclass(frozen=True)
class Column:
    header: str  # may hold two lines: "中文\nenglish"
    numeric: bool = False  # right-aligned


def console(file: TextIO | None = None, *, stderr: bool = False) -> Console:
    """A console on `file` (default: the current stdout, or stderr)."""
    target = file or (sys.stderr if stderr else sys.stdout)
    terminal = target.isatty()
    return Console(
        file=target,
        width=None if terminal else UNWRAPPED_WIDTH,
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=not terminal,
    )


def table(columns: Sequence[Column], rows: Iterable[Sequence[object]], *, title: str | None = None) -> Table:
    """A table of text cells (None shows empty)."""
    grid = Table(box=RULED, show_edge=False, pad_edge=False, title=title, title_justify="left", header_style=None)
    for c in columns:
        grid.add_column(Text(c.header), justify="right" if c.numeric else "left", no_wrap=False)
    for row in rows:
        grid.add_row(*(Text("" if v is None else str(v)) for v in row))
    return grid


def write(renderables: Iterable[RenderableType | str], file: TextIO | None = None, *, stderr: bool = False) -> None:
    """Print renderables (tables, lines of text) one after another."""
    out = console(file, stderr=stderr)
    for r in renderables:
        out.print(Text(r) if isinstance(r, str) else r)


def text(renderables: Iterable[RenderableType | str]) -> str:
    """The renderables as plain text (for a log message)."""
    buffer = io.StringIO()
    write(renderables, buffer)
    return buffer.getvalue().rstrip("\n")


def error(message: str) -> None:
    """A message for the person at the terminal, on stderr."""
    write([message], stderr=True)
