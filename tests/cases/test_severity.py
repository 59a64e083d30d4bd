"""要情 / 重大要情: the 500,000.00-yuan threshold, exact to the fen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines.cases.severity import MAJOR_CASE_THRESHOLD, SEVERITY_CODES, classify


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.00", "要情"),
        ("41220.00", "要情"),
        ("499999.99", "要情"),
        ("500000.00", "重大要情"),  # the threshold itself is major (>= 500,000)
        ("500000", "重大要情"),
        ("500000.01", "重大要情"),
        ("12345678901.23", "重大要情"),
    ],
)
def test_classify(amount, expected):
    assert classify(Decimal(amount)) == expected


def test_threshold_and_codes():
    assert MAJOR_CASE_THRESHOLD == Decimal("500000.00")
    assert SEVERITY_CODES == {"要情": "case", "重大要情": "major_case"}


@pytest.mark.parametrize("amount", [499999.99, 500000, "500000.00"])
def test_money_must_be_decimal(amount):
    with pytest.raises(TypeError, match="Decimal"):
        classify(amount)


@pytest.mark.parametrize("amount", ["-0.01", "NaN", "Infinity"])
def test_money_must_be_a_finite_non_negative_amount(amount):
    with pytest.raises(ValueError):
        classify(Decimal(amount))
