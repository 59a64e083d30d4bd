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

from collections.abc import Callable

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from schemas.datasets import Column, code_sets

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
_ID_PAD = "0" * 17


def _check_digit_of(first17: pl.Series) -> pl.Series:
    """Check characters of a column of 17-digit strings (null where a value is not 17 ASCII digits).

    Hot path (every ID of every row, twice): the digits are read straight from the Arrow
    buffer as an (n, 17) byte matrix and weighted in numpy, no per-digit string slicing.
    """
    n = first17.len()
    fits = (first17.str.len_bytes() == 17).fill_null(False)
    padded = first17.to_frame("f").select(pl.when(fits).then(pl.col("f")).otherwise(pl.lit(_ID_PAD))).to_series()
    arr = pc.cast(padded.to_arrow(), pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    start = int(np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset])
    raw = np.frombuffer(arr.buffers()[2], dtype=np.uint8, count=17 * n, offset=start).reshape(n, 17)
    good = fits.to_numpy() & ((raw >= ord("0")) & (raw <= ord("9"))).all(axis=1)
    total = np.zeros(n, dtype=np.int32)
    for i, weight in enumerate(ID_WEIGHTS):
        total += raw[:, i] * np.int32(weight)
    total -= ord("0") * sum(ID_WEIGHTS)
    chars = _ID_CHECK_BYTES[total % 11]
    out = pa.LargeStringArray.from_buffers(
        n,
        pa.py_buffer(np.arange(n + 1, dtype=np.int64)),
        pa.py_buffer(chars),
        pa.py_buffer(np.packbits(good, bitorder="little")),
    )
    series = pl.from_arrow(out)
    assert isinstance(series, pl.Series)
    return series.rename(first17.name)


def check_digit(first17: pl.Expr) -> pl.Expr:
    """GB 11643 check character of the 17 leading digits of a citizen ID.

    The 17 digit slices run on the materialised input (`map_batches`): built
    as one expression tree, the input would be recomputed once per digit.
    """
    return first17.map_batches(_check_digit_of, return_dtype=pl.String, is_elementwise=True)


def _canonical_ids(raw: pl.Series) -> pl.Series:
    """Canonical IDs or null, computed in materialised stages (hot path: every row of most datasets).

    Whitespace removal and upper-casing run only when some value needs them; the digit
    checks are those of `_check_digit_of` (null unless the 17 leading characters are digits).
    """
    t = raw
    if t.str.contains(r"\s").any():
        t = t.str.replace_all(r"\s+", "")
    if t.str.contains("x", literal=True).any():
        t = t.str.to_uppercase()
    f = t.to_frame("t").with_columns(n=pl.col("t").str.len_bytes())
    f = f.with_columns(
        first17=pl.when(pl.col("n") == 15)
        .then(pl.col("t").str.slice(0, 6) + "19" + pl.col("t").str.slice(6, 9))
        .otherwise(pl.col("t").str.slice(0, 17))
    )
    f = f.with_columns(full=pl.col("first17") + _check_digit_of(f["first17"]))
    return f.select(
        pl.when((pl.col("n") == 15) | ((pl.col("n") == 18) & (pl.col("full") == pl.col("t")))).then("full")
    ).to_series()


def citizen_id(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Citizen ID to the canonical 18-character form with upper-case X.

    Accepts lower-case x, full-width digits, stray spaces, and legacy 15-digit
    IDs (pre-1999: no century, no check digit), which become 18 characters by
    inserting "19" after the sixth digit and computing the check digit.
    An 18-character ID whose check digit is wrong is invalid (GB 11643).
    """
    canonical = s.map_batches(_canonical_ids, return_dtype=pl.String, is_elementwise=True)
    t = s.str.replace_all(r"\s+", "").str.to_uppercase()
    is15 = t.str.contains(r"^\d{15}$")
    is18 = t.str.contains(r"^\d{17}[\dX]$")
    reason = (
        pl.when(s.is_null())
        .then(None)
        .when(~is15 & ~is18)
        .then(pl.format("身份证号无效 invalid citizen ID, not 18 or 15 digits: '{}'", s))
        .when(canonical.is_null())
        .then(
            pl.format(
                "身份证号校验位错误 invalid citizen ID, wrong check digit (expected {}): '{}'",
                check_digit(t.str.slice(0, 17)),
                s,
            )
        )
    )
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

    Thousands separators and full-width digits are accepted (width is folded
    before). A third decimal that is not zero is refused rather than rounded:
    two decimals are significant and silent rounding would hide a bad extract.
    """
    value = _MONEY(s)
    return value, _reason(s, value, "金额无法解析 unparseable amount")


def _money_all_forms(s: pl.Expr) -> pl.Expr:
    t = s.str.replace_all(r"[,\s]", "").str.replace(r"^\+", "").str.replace(r"^¥|^￥|元$", "")
    t = t.str.replace(r"(\.\d\d)0+$", "$1")
    ok = t.str.contains(r"^-?(\d+(\.\d{0,2})?|\.\d{1,2})$")
    return pl.when(ok).then(t.cast(pl.Decimal(18, 2), strict=False))


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


def region(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """6-digit administrative division code (统筹区编码)."""
    t = s.str.replace_all(r"\s+", "")
    value = pl.when(t.str.contains(r"^\d{6}$")).then(t)
    return value, _reason(s, value, "统筹区编码无效 invalid region code, not 6 digits")


def key(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Identifiers compared exactly (accounts, business ids): no whitespace at all."""
    return s.str.replace_all(r"\s+", ""), pl.lit(None, pl.String)


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

    def normalise(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
        t = s.str.replace_all(r"\s+", "").str.to_lowercase()
        # Integer-typed cells of numeric codes arrive as e.g. "110.0" from spreadsheets.
        t = t.str.replace(r"^(\d+)\.0+$", "$1")
        value = t.replace_strict(mapping, default=None, return_dtype=pl.String)
        return value, _reason(s, value, f"未知代码 unknown code of {set_name}")

    return normalise


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
