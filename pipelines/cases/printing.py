"""Print-ready workbooks: the font, page setup and row heights every XLSX of fundwatch is written with.

The 核查清单 (`pipelines.cases.export`) and every report (`pipelines.cases.reports.xlsx`) print through this
module (docs/adr/0017-print-ready-workbooks.md); it imports no report, so the checklist does not depend on them.

* The font is 宋体 (`FONT_NAME` "SimSun", GB2312 character set), the workbook's default: every cell, chart and
  page header asks for it. Where SimSun is not installed the spreadsheet substitutes: LibreOffice takes a serif
  face for Latin and an installed CJK font for Chinese (Noto Serif/Sans CJK SC of `fonts-noto-cjk`). Without a
  CJK font Chinese cannot print at all: `make test` installs one (`make system-deps`).
* `print_setup`: A4; landscape when the sheet is wider than a portrait page (`landscape_for`), else portrait;
  one page wide (scaled to fit), as many pages high as it takes (or exactly one page, for a chart); centred;
  gridlines not printed (tables have borders); the header row(s) repeated on every page; page header: the office
  left (`OFFICE`), the title centre, the date right; footer: the sheet's name left, "第 &P 页 共 &N 页" centre.
* Row heights: a spreadsheet grows a row for wrapped text only when it recomputes heights, which LibreOffice does
  not do when it opens a file; so every row that wraps is given its height (`text_lines`, `row_height`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import xlsxwriter
from rich.cells import cell_len

OFFICE = "社会保险基金监督处"  # the issuing office, printed in the page header of every workbook
FONT_NAME = "SimSun"  # 宋体; its English family name, the one LibreOffice's substitution table knows
BASE_FONT = {"font_name": FONT_NAME, "font_size": 11, "font_charset": 134, "font_family": 3}  # 134: GB2312
A4 = 9  # the paper code of the OOXML page setup
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.75, "bottom": 0.75}  # inches; header and footer sit inside
# The printable area of A4 (8.27 x 11.69 in) inside the margins, in pixels at 96 dpi (a sheet at 100 %).
PRINTABLE_PX = {
    "portrait": (round((8.27 - 1.0) * 96), round((11.69 - 1.5) * 96)),
    "landscape": (round((11.69 - 1.0) * 96), round((8.27 - 1.5) * 96)),
}
PAGE_NUMBERS = "第 &P 页 共 &N 页"
HEADER_LIMIT = 255  # characters of a header or footer, codes included (a spreadsheet refuses more)


def new_workbook(path: Path) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook whose default font (every format starts from it) is 宋体 `FONT_NAME`."""
    return xlsxwriter.Workbook(path, {"default_format_properties": dict(BASE_FONT)})


def column_px(width: float) -> int:
    """The width in pixels of a column `width` characters wide, as xlsxwriter and Excel size it."""
    return int(width * 12 + 0.5) if width < 1 else int(width * 7 + 0.5) + 5


LINE_HEIGHT = 16  # points per line of 11 pt text (CJK faces have tall lines)
_TOKENS = re.compile(r"\n|[!-~]+|.", re.S)  # a run of printable ASCII wraps as a word; any other character alone


LATIN_WIDTH = 1.15  # Latin letters and digits run this much wider in the faces substituted for SimSun


def text_width(text: str) -> float:
    """The width of a line of text in characters of a column (a CJK character is 2), Latin a little generous."""
    return sum(cell_len(token) * (LATIN_WIDTH if token.isascii() else 1.0) for token in _TOKENS.findall(text))


def text_lines(text: str, width: float) -> int:
    """How many lines `text` wraps to in a cell `width` characters wide: a greedy estimate, a little generous.

    A spreadsheet grows a row for wrapped text only when it computes heights, and LibreOffice does not on
    opening a file, so every row that wraps gets its height from this count.
    """
    room = max(1.0, width - 1.0)  # a cell's padding
    lines, used = 1, 0.0
    for token in _TOKENS.findall(text):
        if token == "\n":
            lines, used = lines + 1, 0.0
            continue
        size = text_width(token)
        if used and used + size > room and not token.isspace():
            lines, used = lines + 1, 0.0
        while size > room:  # a word longer than the cell breaks where the cell ends
            lines, size = lines + 1, size - room
        used += size
    return lines


def row_height(cells: list[tuple[str, float]]) -> float:
    """The height in points of a row of wrapped cells (text, column width): its tallest cell."""
    return max([text_lines(text, width) for text, width in cells if text] or [1]) * LINE_HEIGHT


def landscape_for(width_px: int) -> bool:
    """Whether a sheet this wide prints landscape: when it is wider than the printable width of a portrait page."""
    return width_px > PRINTABLE_PX["portrait"][0]


def _header_text(text: str) -> str:
    """Text for a header or footer: '&' escaped, and a space before a leading digit (it would read as a font size)."""
    text = text.replace("&", "&&")
    return f" {text}" if text[:1].isdigit() else text


def page_header(office: str, title: str, date_text: str) -> str:
    """&L office, &C title (bold, larger), &R date; the title shortened with … to the spreadsheet's limit."""
    font, bold = f'&"{FONT_NAME},Regular"', f'&"{FONT_NAME},Bold"'
    left, right = f"&L{font}&9{_header_text(office)}", f"&R{font}&9{date_text}"
    centre = f"&C{bold}&12"
    room = HEADER_LIMIT - len(left) - len(right) - len(centre)
    title = _header_text(title)
    if len(title) > room:
        title = title[: room - 1] + "…"
    return left + centre + title + right


def print_setup(
    sheet: Any,
    *,
    title: str,
    date_text: str,
    office: str = OFFICE,
    landscape: bool,
    repeat_rows: tuple[int, int] | None = None,
    one_page: bool = False,
) -> None:
    """A4, `landscape` or portrait, fit to the page width (and height when `one_page`), centred, the header rows
    `repeat_rows` (first, last; 0-based) on every page, the page header and the footer with page numbers.

    `date_text` goes to the right of the header as given ("日期 2025-12-10"); it may hold the code &D.
    """
    sheet.set_paper(A4)
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.set_margins(**MARGINS)
    sheet.fit_to_pages(1, 1 if one_page else 0)
    sheet.center_horizontally()
    sheet.hide_gridlines(1)  # on paper only; the tables have borders
    if repeat_rows is not None:
        sheet.repeat_rows(*repeat_rows)
    sheet.set_header(page_header(office, title, date_text), {"margin": 0.3})
    font = f'&"{FONT_NAME},Regular"&9'
    sheet.set_footer(f"&L{font}&A&C{font}{PAGE_NUMBERS}", {"margin": 0.3})
