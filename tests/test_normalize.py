"""Table-driven tests of every normaliser: each value form of CONTRACT.md section 1."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import polars as pl
import pytest

from pipelines.ingest import normalize as n
from schemas.datasets import code_sets
from schemas.divisions import division_codes


def apply(normaliser, raw: str | None):
    frame = pl.DataFrame({"raw": [raw]}, schema={"raw": pl.String})
    value, reason = normaliser(n.clean_cell(pl.col("raw")))
    out = frame.select(value.alias("value"), reason.alias("reason")).row(0)
    return out


def gb11643(first17: str) -> str:
    """Independent check-digit reference, straight from the standard's formula."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return first17 + "10X98765432"[total % 11]


def wrong_check(full: str) -> str:
    return full[:17] + ("0" if full[17] != "0" else "1")


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


NO_SUCH_DAY = "身份证号出生日期无效 invalid citizen ID, no such birth date"
NEVER_ISSUED = "身份证号地区码无效 invalid citizen ID, region code never issued"


@pytest.mark.parametrize(
    ("raw", "reason_part"),
    [
        # valid check digits, impossible birth dates
        (gb11643("33010220250230001"), NO_SUCH_DAY),  # 30 February
        (gb11643("33010219001399001"), NO_SUCH_DAY),  # month 13, day 99
        (gb11643("33010219000229001"), NO_SUCH_DAY),  # 1900 was no leap year
        (gb11643("33010219490431001"), NO_SUCH_DAY),  # 31 April
        (gb11643("33010219490100001"), NO_SUCH_DAY),  # day 0
        (gb11643("33010219490001001"), NO_SUCH_DAY),  # month 0
        ("330102490230001", NO_SUCH_DAY),  # 15 digits: 1949-02-30
        ("330102491301001", NO_SUCH_DAY),  # 15 digits: month 13
        # valid check digits, a division code no GB/T 2260 ever listed
        (gb11643("99999919491231002"), NEVER_ISSUED),
        (gb11643("33019919491231002"), NEVER_ISSUED),
        (gb11643("00000019491231002"), NEVER_ISSUED),
        ("999999491231002", NEVER_ISSUED),  # 15 digits
        # the check digit is verified first: a mistyped ID is reported as such
        (wrong_check(gb11643("99999920250230001")), "check digit"),
    ],
)
def test_citizen_id_with_a_right_check_digit_but_no_such_birth_date_or_region(raw, reason_part):
    value, reason = apply(n.citizen_id, raw)
    assert value is None
    assert reason_part in reason and f"'{raw}'" in reason


@pytest.mark.parametrize(
    "first17",
    [
        "33010320000229001",  # 330103 下城区 and 330104 江干区 were merged in 2021: the IDs they issued stay valid
        "33010419850101002",
        "33011320220315003",  # 330113 临平区 and 330114 钱塘区 exist since 2021
        "33011420230101004",
        "11010519491231002",
        "33012119600101005",  # 330121 萧山县, listed until 1986
        "33010219000101006",  # the ID's birth date exists; whether it is plausible is validation's (as_of)
    ],
)
def test_citizen_id_accepts_every_code_ever_listed_and_every_real_day(first17):
    full = gb11643(first17)
    assert apply(n.citizen_id, full) == (full, None)
    if first17[6:8] == "19":
        assert apply(n.citizen_id, first17[:6] + first17[8:]) == (full, None)


def _reference_id(raw: str | None) -> str | None:
    """The canonical ID by the contract's words, one value at a time: the oracle of the vectorised normaliser."""
    if raw is None:
        return None
    t = "".join(raw.split()).upper()
    if len(t) == 15 and t.isascii() and t.isdigit():
        first17 = t[:6] + "19" + t[6:]
    elif len(t) == 18 and t.isascii() and t[:17].isdigit():
        first17 = t[:17]
    else:
        return None
    try:
        dt.date(int(first17[6:10]), int(first17[10:12]), int(first17[12:14]))
    except ValueError:
        return None
    full = gb11643(first17)
    if first17[:6] not in division_codes() or (len(t) == 18 and full != t):
        return None
    return full


def test_citizen_id_agrees_with_a_reference_on_a_mixed_column():
    """One column mixing every form and fault (as a real batch does): the vectorised path row by row."""
    rnd = random.Random(11)
    regions = ["330102", "330103", "330113", "110105", "999999", "330199", "000000"]
    raws: list[str | None] = []
    for _ in range(3000):
        first17 = (
            rnd.choice(regions)
            + f"{rnd.choice([1900, 1949, 1996, 2000, 2023])}{rnd.randint(0, 13):02d}{rnd.randint(0, 31):02d}"
            + f"{rnd.randint(0, 999):03d}"
        )
        full = gb11643(first17)
        form = rnd.random()
        if form < 0.15:
            raws.append(full[:6] + full[8:17])  # 15 digits (century assumed 19)
        elif form < 0.25:
            raws.append(full[:17] + rnd.choice("0123456789X"))  # maybe a wrong check digit
        elif form < 0.30:
            raws.append(" " + full.lower() + " ")
        elif form < 0.33:
            raws.append(rnd.choice([None, "abc", full[:16], full + "1", full[:17] + "Y"]))
        else:
            raws.append(full)
    frame = pl.DataFrame({"raw": raws}, schema={"raw": pl.String})
    value, reason = n.citizen_id(n.clean_cell(pl.col("raw")))
    out = frame.select(value.alias("value"), reason.alias("reason"))
    expected = [_reference_id(r.strip() if r else r) for r in raws]
    assert out["value"].to_list() == expected
    assert 300 < sum(v is not None for v in expected) < 2700  # both outcomes are well represented
    for raw, got, why in zip(raws, out["value"], out["reason"], strict=True):
        assert (why is None) == (got is not None or raw is None), (raw, why)


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
        ("12,345,678.00", "12345678.00"),  # thousands separators every three digits
        ("-1,234.00", "-1234.00"),
        ("1 234.50", "1234.50"),  # a space as the separator
        ("¥1,234.50", "1234.50"),
        ("-¥5", "-5.00"),
        ("5元", "5.00"),
        (".5", "0.50"),
        ("+5", "5.00"),
    ],
)
def test_money_forms_are_exact(raw, expected):
    value, reason = apply(n.money, raw)
    assert reason is None
    assert value == Decimal(expected)


@pytest.mark.parametrize(
    "raw",
    [
        "12.345",
        "abc",
        "1.2.3",
        "12,34a",
        "--5",
        # a thousands separator only between groups of three digits
        "12,34",
        "1,2,3,4",
        "12,3456.00",
        "1234,567.00",
        "1,234,56",
        ",123",
        "123,",
        "12 34",
        "１２，３４",  # full-width, folded first
        "+-5",
        ".",
    ],
)
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


def _variants(form: str) -> list[str]:
    return [form, form.upper(), form.lower(), f" {form}", f"{form[:1]} {form[1:]}", f"{form}.0", f"{form}.00", form * 2]


def test_a_code_looked_up_as_written_is_what_the_full_folding_gives():
    """`code`'s fast path (each code and label as written) and its full folding (whitespace, case, `.0`) agree on
    every form of every code set and on variants of them, in one batch where most cells take the fast path."""
    for set_name, codes in code_sets().items():
        forms = [v for c, labels in codes.items() for form in (c, *labels) for v in _variants(form)]
        frame = pl.DataFrame({"s": forms + [None, "", "?"]})
        mapping = {c.lower(): c for c in codes} | {label: c for c, labels in codes.items() for label in labels}
        full = (
            pl.col("s")
            .str.replace_all(r"\s+", "")
            .str.to_lowercase()
            .str.replace(r"^(\d+)\.0+$", "$1")
            .replace_strict(mapping, default=None, return_dtype=pl.String)
        )
        got = frame.select(n.code(set_name)(pl.col("s"))[0].alias("v"), full.alias("w"))
        assert got["v"].to_list() == got["w"].to_list(), set_name


def test_keys_lose_their_whitespace_whether_a_batch_has_any_or_not():
    clean = pl.DataFrame({"s": ["E001", "E002", None]})
    spaced = pl.DataFrame({"s": ["E001", "E 002", "E\t003\u3000", None]})
    assert clean.select(n.key(pl.col("s"))[0]).to_series().to_list() == ["E001", "E002", None]
    assert spaced.select(n.key(pl.col("s"))[0]).to_series().to_list() == ["E001", "E002", "E003", None]


def test_region_codes_with_spaces_inside_take_the_full_path_in_a_batch_of_plain_ones():
    frame = pl.DataFrame({"s": ["330100", "330 100", "3301 0", "330100 ", None]})
    assert frame.select(n.region(pl.col("s"))[0]).to_series().to_list() == ["330100", "330100", None, "330100", None]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("330100", "330100"), (" ３３０１００ ", "330100"), ("33010", None), ("3301000", None), ("33A100", None)],
)
def test_region_code(raw, expected):
    assert apply(n.region, raw)[0] == expected
