"""要情 classification of a confirmed case, by the amount involved.

A confirmed case is reported as 要情 (a case) below 500,000.00 yuan and as 重大要情 (a major case)
from 500,000.00 yuan up — the threshold itself is major (">= 500,000 yuan", sql/cases/001_cases.sql).
Money is Decimal, never float: a float near the threshold could land on the wrong side.
"""

from __future__ import annotations

from decimal import Decimal

MAJOR_CASE_THRESHOLD = Decimal("500000.00")

CASE = "要情"
MAJOR_CASE = "重大要情"

# The English code beside the Chinese term, for files and logs read by non-Chinese tooling.
SEVERITY_CODES = {CASE: "case", MAJOR_CASE: "major_case"}


def classify(amount: Decimal) -> str:
    """'要情' for an amount below 500,000.00 yuan, '重大要情' from 500,000.00 up."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal (exact yuan), got {type(amount).__name__}: {amount!r}")
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"amount must be a finite, non-negative number of yuan, got {amount}")
    return MAJOR_CASE if amount >= MAJOR_CASE_THRESHOLD else CASE
