"""Normalisers: the value forms of CONTRACT.md section 1 to canonical values.

Every normaliser is a pure function from a Polars string expression (the raw
cell, already stringified) to a pair ``(value, reason)`` of expressions:
``value`` is the canonical value or null, ``reason`` is null when the cell is
fine and otherwise a short human-readable reason naming the offending text.
An empty cell gives a null value and a null reason: whether a value is
required is decided by validation, not here.

All work is vectorised Polars expressions: no Python per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from schemas.datasets import Column, code_sets
from schemas.divisions import division_codes

# Full-width forms (U+FF01..U+FF5E) map to ASCII by subtracting 0xFEE0;
# U+3000 is the ideographic space.
_FULLWIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
_HALFWIDTH = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

Normaliser = Callable[[pl.Expr], tuple[pl.Expr, pl.Expr]]


def fold_width(s: pl.Expr) -> pl.Expr:
    """Full-width ASCII variants and the ideographic space to plain ASCII."""
    return s.str.replace_many(_FULLWIDTH, _HALFWIDTH)


_STRIP = " \t\r\n\u00a0\ufeff"
_HAS_FULLWIDTH = "[\uff01-\uff5e\u3000]"


def clean_cell(s: pl.Expr) -> pl.Expr:
    """Fold widths, trim (including the BOM and non-breaking spaces); empty -> null."""
    t = fold_width(s).str.strip_chars(_STRIP)
    return pl.when(t.str.len_chars() > 0).then(t)


def clean_frame(text: pl.DataFrame) -> pl.DataFrame:
    """`clean_cell` on every column, in materialised stages; width folding only where needed.

    Folding is costly (94 patterns) and rare in real extracts, so a column is
    folded only when it holds a full-width character at all.
    """
    if not text.width or not text.height:
        return text
    # An all-ASCII column (bytes == characters) cannot hold a full-width character: no regex needed.
    non_ascii = text.select((pl.col(c).str.len_bytes() != pl.col(c).str.len_chars()).any() for c in text.columns)
    candidates = [c for c in text.columns if non_ascii[c][0]]
    found = text.select(pl.col(c).str.contains(_HAS_FULLWIDTH).any() for c in candidates) if candidates else None
    folded = [c for c in candidates if found is not None and found[c][0]]
    stripped = text.with_columns(
        [fold_width(pl.col(c)).str.strip_chars(_STRIP) for c in folded]
        + [pl.col(c).str.strip_chars(_STRIP) for c in text.columns if c not in folded]
    )
    return stripped.with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in text.columns)


def _reason(s: pl.Expr, value: pl.Expr, what: str) -> pl.Expr:
    """Null, or '<what>: '<raw>'' where a non-empty cell did not parse."""
    return pl.when(s.is_not_null() & value.is_null()).then(pl.format(what + ": '{}'", s))


_ID_CHECK_BYTES = np.frombuffer(ID_CHECK_CHARS.encode("ascii"), dtype=np.uint8)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


# What is wrong with the 17 leading characters of a citizen ID (`_id_check`), the first fault found.
ID_OK, ID_NOT_DIGITS, ID_NO_SUCH_BIRTH_DATE, ID_REGION_NEVER_ISSUED = 0, 1, 2, 3


@cache
def _region_listed() -> np.ndarray:
    """Boolean lookup over 000000..999999: was the code ever listed by GB/T 2260 (`schemas.divisions`)."""
    listed = np.zeros(1_000_000, dtype=bool)
    listed[np.fromiter((int(c) for c in division_codes()), dtype=np.int64)] = True
    return listed


def _byte_matrix(values: pl.Series, width: int) -> np.ndarray:
    """The (n, width) ASCII byte matrix of a string column, read straight from the Arrow buffer.

    A value that is not `width` bytes long (or null) reads as zeros ('0' characters).
    """
    n = values.len()
    fits = (values.str.len_bytes() == width).fill_null(False)
    padded = values.to_frame("v").select(pl.when(fits).then(pl.col("v")).otherwise(pl.lit("0" * width)))
    arr = pc.cast(padded.to_series().to_arrow(), pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    start = int(np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset])
    return np.frombuffer(arr.buffers()[2], dtype=np.uint8, count=width * n, offset=start).reshape(n, width)


def _id_check(raw17: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(check characters as bytes, fault per row) of an (n, 17) byte matrix of IDs' leading characters.

    The fault is the first of: ID_NOT_DIGITS, ID_NO_SUCH_BIRTH_DATE (characters 7-14 are no day of the
    calendar), ID_REGION_NEVER_ISSUED (characters 1-6 are no code GB/T 2260 has listed at any time: an ID
    keeps the code of where it was issued, CONTRACT.md section 1), else ID_OK.
    Hot path (every ID of every row): whole columns of numpy, one contiguous row per character position,
    small integers, no Python per row (and no BLAS, whose threads fight Polars' for the cores).
    """
    digits = np.ascontiguousarray(raw17.T) - np.uint8(ord("0"))  # (17, n); a byte that is no digit wraps above 9
    good = (digits <= 9).all(axis=0)

    def number(first: int, last: int, dtype: type[np.signedinteger]) -> np.ndarray:
        value = digits[first].astype(dtype)
        for i in range(first + 1, last):
            value *= 10
            value += digits[i]
        return value

    region, year = number(0, 6, np.int32), number(6, 10, np.int16)
    month, day = number(10, 12, np.int16), number(12, 14, np.int16)
    total = np.zeros(raw17.shape[0], dtype=np.int16)
    for i, weight in enumerate(ID_WEIGHTS):
        total += digits[i] * np.int16(weight)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last_day = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + (leap & (month == 2))
    born = (month >= 1) & (month <= 12) & (day >= 1) & (day <= last_day)
    listed = _region_listed()[np.where(good, region, 0)]
    faults = np.where(listed, ID_OK, ID_REGION_NEVER_ISSUED).astype(np.uint8)
    faults[~born] = ID_NO_SUCH_BIRTH_DATE
    faults[~good] = ID_NOT_DIGITS
    return _ID_CHECK_BYTES[np.where(good, total, 0) % 11], faults


def _chars(chars: np.ndarray, valid: np.ndarray, name: str) -> pl.Series:
    """One-character strings from a byte array, null where not `valid`, without a Python loop."""
    n = chars.shape[0]
    out = pa.LargeStringArray.from_buffers(
        n,
        pa.py_buffer(np.arange(n + 1, dtype=np.int64)),
        pa.py_buffer(np.ascontiguousarray(chars)),
        pa.py_buffer(np.packbits(valid, bitorder="little")),
    )
    series = pl.from_arrow(out)
    assert isinstance(series, pl.Series)
    return series.rename(name)


def _id_check_of(first17: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """`_id_check` of a column of strings; a value that is not 17 bytes long is ID_NOT_DIGITS."""
    fits = (first17.str.len_bytes() == 17).fill_null(False).to_numpy()
    chars, faults = _id_check(_byte_matrix(first17, 17))
    return chars, np.where(fits, faults, ID_NOT_DIGITS).astype(np.uint8)


def _strings(matrix: np.ndarray, name: str) -> pl.Series:
    """The rows of an (n, width) ASCII byte matrix as strings, without a Python loop."""
    n, width = matrix.shape
    out = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(np.arange(n + 1, dtype=np.int64) * width), pa.py_buffer(np.ascontiguousarray(matrix))
    )
    series = pl.from_arrow(out)
    assert isinstance(series, pl.Series)
    return series.rename(name)


def _canonical_ids(raw: pl.Series) -> pl.Series:
    """Canonical IDs or null, computed in materialised stages (hot path: every row of most datasets).

    Whitespace removal and upper-casing run only when some value needs them. An 18-character value is
    its own canonical form when `_id_check` finds no fault and its last character is the check
    character: its bytes are read once, and no string is built. A 15-digit value's 18 characters are
    put together as bytes ("19" inserted after the sixth, the check character appended).
    """
    t = raw
    if t.str.contains(r"\s").any():
        t = t.str.replace_all(r"\s+", "")
    if t.str.contains("x", literal=True).any():
        t = t.str.to_uppercase()
    length = t.str.len_bytes().fill_null(0).to_numpy()
    sound = np.zeros(length.shape[0], dtype=bool)
    if (length == 18).any():
        raw18 = _byte_matrix(t, 18)
        chars, faults = _id_check(raw18[:, :17])
        sound = (faults == ID_OK) & (length == 18) & (raw18[:, 17] == chars)
    canonical = t.to_frame("t").select(pl.when(pl.Series(sound)).then(pl.col("t")))["t"]
    legacy = np.flatnonzero(length == 15)
    if legacy.size:
        raw15 = _byte_matrix(t.gather(legacy), 15)
        full = np.empty((legacy.size, 18), dtype=np.uint8)
        full[:, :6], full[:, 6:8], full[:, 8:17] = raw15[:, :6], np.frombuffer(b"19", dtype=np.uint8), raw15[:, 6:]
        full[:, 17], faults = _id_check(full[:, :17])
        fine = faults == ID_OK
        if fine.any():
            canonical = canonical.scatter(legacy[fine], _strings(full[fine], "t"))
    return canonical


# Why a citizen ID is invalid (`_id_reasons`); the wrong check digit's text is followed by the expected one.
_ID_NOT_18_OR_15, _ID_WRONG_CHECK = 10, 11
_ID_REASONS = {
    _ID_NOT_18_OR_15: "身份证号无效 invalid citizen ID, not 18 or 15 digits",
    _ID_WRONG_CHECK: "身份证号校验位错误 invalid citizen ID, wrong check digit",
    ID_NO_SUCH_BIRTH_DATE: "身份证号出生日期无效 invalid citizen ID, no such birth date",
    ID_REGION_NEVER_ISSUED: "身份证号地区码无效 invalid citizen ID, region code never issued",
}


def _id_reasons(raw: pl.Series) -> pl.Series:
    """The reason of each ID that is invalid, null for a valid or empty one (computed on the failed rows only).

    The first fault wins: not 18 or 15 digits, a wrong check digit (a mistyped ID says so and stays a
    candidate for resolution, CONTRACT.md section 6), no such birth date, a region code never issued.
    """
    t = raw.str.replace_all(r"\s+", "").str.to_uppercase()
    f = pl.DataFrame({"s": raw, "t": t}).with_columns(
        is15=pl.col("t").str.contains(r"^[0-9]{15}$").fill_null(False),
        is18=pl.col("t").str.contains(r"^[0-9]{17}[0-9X]$").fill_null(False),
    )
    first17 = f.select(
        pl.when("is15")
        .then(pl.col("t").str.slice(0, 6) + "19" + pl.col("t").str.slice(6, 9))
        .otherwise(pl.col("t").str.slice(0, 17))
    ).to_series()
    chars, faults = _id_check_of(first17)
    f = f.with_columns(expected=_chars(chars, faults != ID_NOT_DIGITS, "expected"), fault=pl.Series(faults))
    kind = (
        pl.when(pl.col("s").is_null())
        .then(None)
        .when(~pl.col("is15") & ~pl.col("is18"))
        .then(pl.lit(_ID_NOT_18_OR_15))
        .when(pl.col("is18") & (pl.col("expected") != pl.col("t").str.slice(17, 1)))
        .then(pl.lit(_ID_WRONG_CHECK))
        .when(pl.col("fault").is_in([ID_NO_SUCH_BIRTH_DATE, ID_REGION_NEVER_ISSUED]))
        .then(pl.col("fault").cast(pl.Int32))
    )
    f = f.with_columns(kind=kind)
    return f.select(
        pl.concat_str(
            pl.col("kind").replace_strict(_ID_REASONS, default=None, return_dtype=pl.String),
            pl.when(pl.col("kind") == _ID_WRONG_CHECK)
            .then(pl.format(" (expected {})", "expected"))
            .otherwise(pl.lit("")),
            pl.lit(": '"),
            pl.col("s"),
            pl.lit("'"),
        )
    ).to_series()


def citizen_id(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Citizen ID to the canonical 18-character form with upper-case X.

    Accepts lower-case x, full-width digits, stray spaces, and legacy 15-digit
    IDs (pre-1999: no century, no check digit), which become 18 characters by
    inserting "19" after the sixth digit and computing the check digit.
    An 18-character ID whose check digit is wrong is invalid (GB 11643); so is an
    ID (of either length) whose birth date is no day of the calendar or whose first six digits
    are no division code GB/T 2260 ever listed. Whether the person can be born on that day is
    validation's (`schemas.validation`: it depends on the run's data date).
    """
    canonical = s.map_batches(_canonical_ids, return_dtype=pl.String, is_elementwise=True)
    reason = s.map_batches(_id_reasons, return_dtype=pl.String, is_elementwise=True)
    return canonical, reason


def _fast_path(fast: pl.Expr, full: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType) -> Callable[[pl.Expr], pl.Expr]:
    """Parse with the cheap `fast` expression (over column "s"), and with `full` only the rows it left null.

    Nearly every cell arrives in the canonical form; the many-form parsers
    (several regexes each) then run on the few rows that need them.
    """

    def run(raw: pl.Series) -> pl.Series:
        frame = raw.to_frame("s")
        value = frame.select(fast.cast(dtype)).to_series()
        residual = (value.is_null() & raw.is_not_null()).arg_true()
        if residual.len():
            value = value.scatter(residual, frame[residual].select(full(pl.col("s")).cast(dtype)).to_series())
        return value

    return lambda s: s.map_batches(run, return_dtype=dtype, is_elementwise=True)


def _ymd(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    return pl.concat_str([y, m.str.zfill(2), d.str.zfill(2)], separator="-").str.to_date("%Y-%m-%d", strict=False)


def date(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """`2024-03-05`, `2024/3/5`, `20240305`, `2024年3月5日` (native dates arrive ISO-formatted).

    A trailing time of day (`2024-03-05 00:00:00`, as Excel and Parquet give it) is ignored.
    """
    value = _DATE(s)
    return value, _reason(s, value, "日期无法解析 unparseable date")


def _date_all_forms(s: pl.Expr) -> pl.Expr:
    t = s.str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "")
    sep = t.str.extract_groups(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
    compact = t.str.extract_groups(r"^(\d{4})(\d{2})(\d{2})$")
    value = pl.coalesce(
        _ymd(sep.struct.field("1"), sep.struct.field("2"), sep.struct.field("3")),
        _ymd(compact.struct.field("1"), compact.struct.field("2"), compact.struct.field("3")),
    )
    return value


_ISO_DATE = pl.when(pl.col("s").str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(
    pl.col("s").str.to_date("%Y-%m-%d", strict=False)
)
_DATE = _fast_path(_ISO_DATE, _date_all_forms, pl.Date())


def timestamp(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """A date in any of the date forms, optionally followed by a time `HH:MM[:SS]`."""
    parts = s.str.extract_groups(r"^(.*?)(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?$")
    day = _date_all_forms(parts.struct.field("1"))
    hms = pl.concat_str(
        [
            parts.struct.field("2").fill_null("0").str.zfill(2),
            parts.struct.field("3").fill_null("0").str.zfill(2),
            parts.struct.field("4").fill_null("0").str.zfill(2),
        ],
        separator=":",
    )
    value = pl.concat_str([day.dt.strftime("%Y-%m-%d"), hms], separator=" ").str.to_datetime(
        "%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"
    )
    return value, _reason(s, value, "时间无法解析 unparseable timestamp")


def period(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Month as text `YYYYMM`, from `202403`, `2024-03`, `2024年3月` or the integer 202403."""
    value = _PERIOD(s)
    return value, _reason(s, value, "所属期无法解析 unparseable period")


def _period_all_forms(s: pl.Expr) -> pl.Expr:
    g = s.str.extract_groups(r"^(\d{4})\s*(?:[-/.年]\s*)?(\d{1,2})\s*月?$")
    year, month = g.struct.field("1"), g.struct.field("2")
    # A bare 5-digit form like 20243 is ambiguous with nothing; only accept a
    # separator-less month when it has two digits.
    compact_ok = s.str.contains(r"^\d{6}$") | ~s.str.contains(r"^\d+$")
    valid = compact_ok & month.cast(pl.Int32, strict=False).is_between(1, 12)
    return pl.when(valid).then(year + month.str.zfill(2))


_PERIOD = _fast_path(
    pl.when(pl.col("s").str.contains(r"^\d{4}(0[1-9]|1[0-2])$")).then(pl.col("s")), _period_all_forms, pl.String()
)


def money(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Yuan with at most 2 decimals, exact, as DECIMAL(18,2).

    Thousands separators (a comma, or a space) and full-width digits are accepted (width is folded
    before), a separator only between groups of three digits: `1,234.50`, `12,345,678.00`; `12,34`,
    `1,2,3,4` or `12,3456.00` are refused, as a misplaced separator is a mistyped amount, not a format.
    A third decimal that is not zero is refused rather than rounded: two decimals are significant and
    silent rounding would hide a bad extract.
    """
    value = _MONEY(s)
    return value, _reason(s, value, "金额无法解析 unparseable amount")


# The many forms of an amount: a sign and a currency sign (either order, each optional), the yuan with
# thousands separators only between groups of three digits, decimals, a trailing 元.
_MONEY_FORM = (
    r"^(?P<sign>[+-]?)\s*[¥￥]?\s*(?P<sign_after>[+-]?)\s*"
    r"(?P<yuan>[0-9]{1,3}(?:[, ][0-9]{3})+|[0-9]*)(?:\.(?P<fen>[0-9]*))?\s*元?$"
)


def _money_all_forms(s: pl.Expr) -> pl.Expr:
    """An amount in any form `_MONEY_FORM` allows (only the cells the fast path leaves null come here)."""
    g = s.str.extract_groups(_MONEY_FORM)
    sign = g.struct.field("sign") + g.struct.field("sign_after")
    yuan = g.struct.field("yuan").str.replace_all(r"[, ]", "")
    fen = g.struct.field("fen").fill_null("")
    significant = fen.str.strip_chars_end("0")  # 12.340 is 12.34; 12.345 is refused
    ok = (sign.str.len_bytes() <= 1) & ((yuan != "") | (fen != "")) & (significant.str.len_bytes() <= 2)
    text = pl.concat_str(
        [
            pl.when(sign == "-").then(pl.lit("-")).otherwise(pl.lit("")),
            pl.when(yuan == "").then(pl.lit("0")).otherwise(yuan),
            pl.lit("."),
            pl.when(significant == "").then(pl.lit("0")).otherwise(significant),
        ]
    )
    return pl.when(ok).then(text).cast(pl.Decimal(18, 2), strict=False)


_MONEY = _fast_path(
    pl.when(pl.col("s").str.contains(r"^-?\d{1,16}(\.\d{1,2})?$")).then(
        pl.col("s").cast(pl.Decimal(18, 2), strict=False)
    ),
    _money_all_forms,
    pl.Decimal(18, 2),
)


def integer(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    t = s.str.replace_all(r"[,\s]", "").str.replace(r"\.0+$", "")
    value = t.cast(pl.Int64, strict=False)
    return value, _reason(s, value, "非整数 not a whole number")


def _region_all_forms(s: pl.Expr) -> pl.Expr:
    t = s.str.replace_all(r"\s+", "")
    return pl.when(t.str.contains(r"^\d{6}$")).then(t)


_region = _fast_path(pl.when(pl.col("s").str.contains(r"^\d{6}$")).then(pl.col("s")), _region_all_forms, pl.String)


def region(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """6-digit administrative division code (统筹区编码)."""
    value = _region(s)
    return value, _reason(s, value, "统筹区编码无效 invalid region code, not 6 digits")


def _without_whitespace(raw: pl.Series) -> pl.Series:
    """The cells with every whitespace removed; a batch with none (nearly every one) as it is, without a copy."""
    if raw.str.contains(r"\s").any():
        return raw.str.replace_all(r"\s+", "")
    return raw


def key(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Identifiers compared exactly (accounts, business ids): no whitespace at all."""
    return s.map_batches(_without_whitespace, return_dtype=pl.String, is_elementwise=True), pl.lit(None, pl.String)


def text(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    return s, pl.lit(None, pl.String)


def code(set_name: str) -> Normaliser:
    """A code of a code set, or one of its Chinese labels in its place."""
    codes = code_sets()[set_name]
    mapping: dict[str, str] = {}
    for c, labels in codes.items():
        mapping[c.lower()] = c
        for label in labels:
            mapping[label] = c

    def all_forms(s: pl.Expr) -> pl.Expr:
        t = s.str.replace_all(r"\s+", "").str.to_lowercase()
        # Integer-typed cells of numeric codes arrive as e.g. "110.0" from spreadsheets.
        t = t.str.replace(r"^(\d+)\.0+$", "$1")
        return t.replace_strict(mapping, default=None, return_dtype=pl.String)

    # Nearly every cell is a code or a label exactly as the code set writes it: looked up as it is, the same value
    # `all_forms` gives it (`_as_written`); only the other cells go through the three string passes.
    fast = _fast_path(
        pl.col("s").replace_strict(_as_written(codes, mapping), default=None, return_dtype=pl.String),
        all_forms,
        pl.String,
    )

    def normalise(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        value = fast(s)
        return value, _reason(s, value, f"未知代码 unknown code of {set_name}")

    return normalise


def _as_written(codes: dict[str, tuple[str, ...]], mapping: dict[str, str]) -> dict[str, str]:
    """Each code and label of a code set, as written, to the code `code`'s full path maps it to (if any): the same
    folding (whitespace removed, lower case, a trailing `.0` dropped) done here once per form."""
    found = {}
    for form in {*codes, *mapping}:  # `mapping` holds every label and each code in lower case
        folded = re.sub(r"^(\d+)\.0+$", r"\1", re.sub(r"\s+", "", form).lower())
        if folded in mapping:
            found[form] = mapping[folded]
    return found


KIND_NORMALISERS: dict[str, Normaliser] = {
    "id": citizen_id,
    "key": key,
    "text": text,
    "region": region,
    "date": date,
    "timestamp": timestamp,
    "period": period,
    "money": money,
    "integer": integer,
}


def normaliser_for(column: Column) -> Normaliser:
    if column.kind == "code":
        assert column.codes is not None, column.name
        return code(column.codes)
    return KIND_NORMALISERS[column.kind]
