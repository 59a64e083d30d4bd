"""Table-driven tests of every normaliser: each value form of CONTRACT.md section 1."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from pipelines.ingest import normalize as n
from schemas.datasets import code_sets


def apply(normaliser, raw: str | None):
    frame = pl.DataFrame({"raw": [raw]}, schema={"raw": pl.String})
    value, reason = normaliser(n.clean_cell(pl.col("raw")))
    out = frame.select(value.alias("value"), reason.alias("reason")).row(0)
    return out


def gb11643(first17: str) -> str:
    """Independent check-digit reference, straight from the standard's formula."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return first17 + "10X98765432"[total % 11]


VALID_X = gb11643("11010519491231002")  # ends in X
VALID_7 = gb11643("33010219800101001")


def test_reference_ids_are_what_we_think():
    assert VALID_X == "11010519491231002X"
    assert len(VALID_7) == 18 and VALID_7[-1] != "X"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (VALID_X, VALID_X),
        (VALID_X.lower(), VALID_X),  # lower-case x
        (" " + VALID_7 + " ", VALID_7),  # padded
        (VALID_7[:6] + " " + VALID_7[6:14] + " " + VALID_7[14:], VALID_7),  # stray inner spaces
        ("".join(chr(ord(c) + 0xFEE0) for c in VALID_7), VALID_7),  # full-width digits
        ("\u3000" + VALID_X[:-1] + "Ｘ", VALID_X),  # ideographic space, full-width X
        ("110105491231002", VALID_X),  # legacy 15-digit: insert 19, compute the check digit
        ("330102800101001", VALID_7),
    ],
)
def test_citizen_id_canonical_forms(raw, expected):
    assert apply(n.citizen_id, raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "reason_part"),
    [
        (VALID_7[:17] + ("0" if VALID_7[17] != "0" else "1"), "wrong check digit"),
        ("110105194912310021", "wrong check digit"),
        ("11010519491231002", "not 18 or 15 digits"),
        ("1101051949123100211", "not 18 or 15 digits"),
        ("11010519491231002Y", "not 18 or 15 digits"),
        ("abc", "not 18 or 15 digits"),
    ],
)
def test_citizen_id_invalid(raw, reason_part):
    value, reason = apply(n.citizen_id, raw)
    assert value is None
    assert reason_part in reason and raw in reason


def test_empty_cells_are_null_without_reason():
    for normaliser in (n.citizen_id, n.date, n.period, n.money, n.region, n.code("scheme")):
        assert apply(normaliser, "   ") == (None, None)
        assert apply(normaliser, None) == (None, None)


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-05",
        "2024/3/5",
        "2024/03/05",
        "20240305",
        "2024年3月5日",
        "2024年03月05日",
        " 2024-03-05 ",
        "２０２４－０３－０５",
        "2024-03-05 00:00:00",
        "2024-03-05T00:00:00",
    ],
)
def test_date_forms(raw):
    assert apply(n.date, raw) == (dt.date(2024, 3, 5), None)


@pytest.mark.parametrize("raw", ["2024-13-45", "2024-02-30", "not a date", "2024-03", "240305", "05/03/2024"])
def test_date_unparseable(raw):
    value, reason = apply(n.date, raw)
    assert value is None and "unparseable date" in reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-05 10:11:12", dt.datetime(2024, 3, 5, 10, 11, 12)),
        ("2024/3/5 9:05", dt.datetime(2024, 3, 5, 9, 5)),
        ("2024-03-05T10:11:12", dt.datetime(2024, 3, 5, 10, 11, 12)),
        ("2024年3月5日 10:11:12", dt.datetime(2024, 3, 5, 10, 11, 12)),
        ("20240305", dt.datetime(2024, 3, 5)),
    ],
)
def test_timestamp_forms(raw, expected):
    assert apply(n.timestamp, raw) == (expected, None)


@pytest.mark.parametrize("raw", ["2024-03-05 25:00:00", "yesterday"])
def test_timestamp_unparseable(raw):
    assert apply(n.timestamp, raw)[0] is None


@pytest.mark.parametrize("raw", ["202403", "2024-03", "2024年3月", "2024年03月", "2024/03", " 202403 ", "２０２４０３"])
def test_period_forms(raw):
    assert apply(n.period, raw) == ("202403", None)


@pytest.mark.parametrize("raw", ["202413", "202400", "20243", "2024", "March 2024", "2024-03-05"])
def test_period_unparseable(raw):
    value, reason = apply(n.period, raw)
    assert value is None and "unparseable period" in reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234.5", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1234", "1234.00"),
        ("１，２３４．５０", "1234.50"),
        ("12.340", "12.34"),
        ("99999.99", "99999.99"),
        ("100,000.00", "100000.00"),
        ("-5", "-5.00"),  # sign is kept; whether negatives are allowed is validation's call
        ("0.01", "0.01"),
        ("12345678901234.56", "12345678901234.56"),
    ],
)
def test_money_forms_are_exact(raw, expected):
    value, reason = apply(n.money, raw)
    assert reason is None
    assert value == Decimal(expected)


@pytest.mark.parametrize("raw", ["12.345", "abc", "1.2.3", "12,34a", "--5"])
def test_money_unparseable(raw):
    value, reason = apply(n.money, raw)
    assert value is None and "unparseable amount" in reason


def test_money_sums_exactly():
    frame = pl.DataFrame({"raw": ["0.10", "0.20"] * 5000})
    value, _ = n.money(n.clean_cell(pl.col("raw")))
    assert frame.select(value.sum()).item() == Decimal("1500.00")


def test_every_code_and_label_maps_back_to_its_code():
    for set_name, codes in code_sets().items():
        normaliser = n.code(set_name)
        for code, labels in codes.items():
            assert apply(normaliser, f"  {code} ") == (code, None)
            for label in labels:
                assert apply(normaliser, label) == (code, None), (set_name, label)


@pytest.mark.parametrize(
    ("set_name", "raw", "expected"),
    [
        ("direction", "贷", "in"),
        ("direction", "借", "out"),
        ("direction", "收", "in"),
        ("direction", "支", "out"),
        ("stage", "受理", "accept"),
        ("benefit_type", "基本养老金", "pension"),
        ("scheme", "企业职工基本养老保险", "110"),
        ("scheme", "110.0", "110"),
        ("benefit_type", "Pension", "pension"),
        ("benefit_type", "抚恤金", "survivor"),
    ],
)
def test_code_examples_from_the_contract(set_name, raw, expected):
    assert apply(n.code(set_name), raw) == (expected, None)


@pytest.mark.parametrize(("set_name", "raw"), [("scheme", "999"), ("benefit_type", "bonus"), ("direction", "up")])
def test_unknown_code(set_name, raw):
    value, reason = apply(n.code(set_name), raw)
    assert value is None and "unknown code" in reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("330100", "330100"), (" ３３０１００ ", "330100"), ("33010", None), ("3301000", None), ("33A100", None)],
)
def test_region_code(raw, expected):
    assert apply(n.region, raw)[0] == expected
