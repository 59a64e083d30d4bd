"""Money and ratios as an official reads them, exact, and the spreadsheet cell rule for amounts.

Money is `Decimal` (never float): "41,220.00", thousands separators, two decimals. In XLSX an amount is
a number cell (so it sums and filters) formatted #,##0.00 — a double holds every amount below 10^13 yuan
exactly to the fen once rounded to 2 places; anything larger (never seen in a pooling fund) is written as
text rather than approximated (`write_amount`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
EXACT_NUMBER_LIMIT = Decimal("1e13")


def fmt_money(amount: Decimal | None) -> str:
    """Exact yuan with thousands separators and 2 decimals: 41,220.00 (none: 0.00)."""
    return f"{(amount if amount is not None else ZERO).quantize(CENT):,.2f}"


def fmt_pct(ratio: Decimal | None) -> str:
    """A ratio as a percentage with 2 decimals ('—' where there is nothing to divide by)."""
    return "—" if ratio is None else f"{(ratio * 100).quantize(CENT)}%"


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return None if not whole else Decimal(part) / Decimal(whole)


def is_exact_number(amount: Decimal) -> bool:
    """Whether a spreadsheet number cell shows `amount` exactly to the fen."""
    return abs(amount) < EXACT_NUMBER_LIMIT


def write_amount(sheet: Any, row: int, col: int, amount: Decimal, number_format: Any, text_format: Any) -> None:
    """An amount into an xlsxwriter sheet: a number cell when it is exact, else the text '12,345.67'."""
    if is_exact_number(amount):
        # the float conversion happens only here, at the cell: the value displayed to the fen is exact
        sheet.write_number(row, col, float(amount), number_format)
    else:
        sheet.write_string(row, col, fmt_money(amount), text_format)
