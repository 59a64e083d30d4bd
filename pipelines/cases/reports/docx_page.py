"""What every DOCX fundwatch writes shares (python-docx): the page of an official document and its fonts.

* `official_a4` — A4 portrait with the margins of GB/T 9704 (党政机关公文格式), the footer 20 mm from the edge;
* `east_asian` — every font slot of a run's or a style's properties set to one face, the east-Asian slot included,
  theme fonts removed (Word would prefer them to the names); a reader without the face substitutes an installed CJK
  one;
* `page_numbers` — 第 N 页 共 M 页 from the PAGE and NUMPAGES fields, which the reader computes.

The documents themselves: `inspection_docx` (专项检查报告), `closing_docx` (要情结案报告).
"""

from __future__ import annotations

from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from pipelines.cases.printing import FONT_NAME


def official_a4(section) -> None:
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)


def east_asian(element, name: str = FONT_NAME) -> None:
    """Every font slot of a run's or a style's properties (`w:rPr`) set to `name`."""
    fonts = element.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        element.insert(0, fonts)
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)


def _text(paragraph, text: str, size: float):
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    east_asian(run._element.get_or_add_rPr())
    return run


def _field(paragraph, instruction: str, size: float) -> None:
    """A field (PAGE, NUMPAGES): begin, instruction, separate, a placeholder, end — each a run of its own."""
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"), ("end", None)):
        run = _text(paragraph, "", size)
        if kind is not None:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._element.append(char)
        elif text == instruction:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {instruction} "
            run._element.append(instr)
        else:
            run.text = text


def page_numbers(paragraph, size: float = 10.5) -> None:
    """第 N 页 共 M 页, centred, in `paragraph` (a footer's)."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _text(paragraph, "第 ", size)
    _field(paragraph, "PAGE", size)
    _text(paragraph, " 页 共 ", size)
    _field(paragraph, "NUMPAGES", size)
    _text(paragraph, " 页", size)
