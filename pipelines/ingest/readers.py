"""Readers: one inbox file in, batches of raw text cells out.

Every reader yields `RawBatch`es: a Polars frame of *string* columns named as
the file's own headers (trimmed), the line of each row in the file (header =
1; for XLSX the sheet row; for Parquet the row index + 2, as if it had a
header line), and the rows that could not even be split into fields
(`malformed`). Reading stays streaming for CSV and Parquet: batches of a
bounded size, never the whole file in memory.

CSV encoding is detected, not declared: UTF-8 (with or without BOM) or
GB18030 (a superset of GBK). Neither Polars nor DuckDB read GB18030 here, so a
GB18030 file is first transcoded to a temporary UTF-8 file in chunks. Rows are
split by pyarrow's streaming CSV reader, whose invalid-row handler gives the
physical line of a row with the wrong number of fields: that row is
quarantined, the rest of the file still loads.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CHUNK_BYTES = 8 << 20
CSV_BLOCK_BYTES = 64 << 20
PARQUET_BATCH_ROWS = 1_000_000
SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".parquet")


class UnreadableFile(Exception):
    """The file cannot be read at all: it is rejected as a whole, with this reason."""


@dataclass
class Malformed:
    line: int
    text: str
    reason: str


@dataclass
class RawBatch:
    frame: pl.DataFrame  # string columns, the file's own (trimmed) headers
    lines: pl.Series  # Int64, the line of each row
    malformed: list[Malformed] = field(default_factory=list)


def clean_header(name: str) -> str:
    return name.strip(" \t\r\n\u3000\u00a0\ufeff")


def detect_encoding(path: Path) -> str:
    """'utf-8-sig', 'utf-8' or 'gb18030', by decoding the whole file in chunks.

    Raises UnreadableFile for content that is binary (NUL bytes) or valid in neither.
    """
    with path.open("rb") as f:
        head = f.read(3)
    if head == codecs.BOM_UTF8:
        candidates = ["utf-8-sig"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as f:
                while chunk := f.read(CHUNK_BYTES):
                    if b"\x00" in chunk:
                        raise UnreadableFile("非文本文件 binary content (NUL bytes): not a CSV text file")
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("编码无法识别 not text in UTF-8 or GB18030: not a CSV file")


def transcode_to_utf8(path: Path, encoding: str, out: Path) -> None:
    with path.open("rb") as src, out.open("wb") as dst:
        decoder = codecs.getincrementaldecoder(encoding)()
        while chunk := src.read(CHUNK_BYTES):
            dst.write(decoder.decode(chunk).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))


def _shift_past(lines: np.ndarray, skipped: list[int]) -> np.ndarray:
    """Lines of the rows read, given the physical lines the parser skipped before them."""
    for s in sorted(skipped):
        lines[lines >= s] += 1
    return lines


def read_csv(path: Path, encoding: str) -> Iterator[RawBatch]:
    with tempfile.TemporaryDirectory(prefix="fundwatch-") as tmp:
        utf8 = path
        if encoding == "gb18030":
            utf8 = Path(tmp) / "utf8.csv"
            transcode_to_utf8(path, encoding, utf8)
        with utf8.open("r", encoding="utf-8-sig", newline="") as f:
            first = f.readline()
        if not first.strip():
            raise UnreadableFile("空文件 empty file: no header line")
        header = next(csv.reader(io.StringIO(first)))
        if len(set(header)) != len(header):
            raise UnreadableFile(f"表头列名重复 duplicate column names in header: {header}")
        yield from _read_csv_utf8(utf8, header)


def _read_csv_utf8(utf8: Path, header: list[str]) -> Iterator[RawBatch]:
    malformed: list[Malformed] = []
    skipped: list[int] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        skipped.append(row.number)
        malformed.append(
            Malformed(
                row.number,
                row.text,
                f"wrong number of fields: expected {row.expected_columns}, got {row.actual_columns}",
            )
        )
        return "skip"

    try:
        reader = pacsv.open_csv(
            utf8,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False, encoding="utf8"),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid_row, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        rows_before = 0
        reported = 0
        for record_batch in reader:
            frame = pl.from_arrow(record_batch)
            assert isinstance(frame, pl.DataFrame)
            frame = frame.rename({old: clean_header(old) for old in frame.columns})
            lines = _shift_past(np.arange(frame.height, dtype=np.int64) + rows_before + 2, skipped)
            rows_before += frame.height
            yield RawBatch(frame, pl.Series("line", lines), malformed[reported:])
            reported = len(malformed)
        if reported < len(malformed):
            empty = pl.DataFrame(schema={clean_header(h): pl.String for h in header})
            yield RawBatch(empty, pl.Series("line", [], pl.Int64), malformed[reported:])
    except pa.ArrowInvalid as err:
        raise UnreadableFile(f"CSV无法解析 CSV cannot be parsed: {err}") from err


def read_xlsx(path: Path) -> Iterator[RawBatch]:
    """The first sheet, header in row 1; every cell read as text (dates as ISO)."""
    try:
        sheet = fastexcel.read_excel(path).load_sheet(0, header_row=0, dtypes="string")
        frame = sheet.to_polars()
    except Exception as err:  # fastexcel raises its own error classes for every kind of bad file
        raise UnreadableFile(f"XLSX无法读取 not a readable XLSX workbook: {err}") from err
    frame = frame.rename({old: clean_header(old) for old in frame.columns})
    yield RawBatch(frame, pl.Series("line", np.arange(frame.height, dtype=np.int64) + 2))


def read_parquet(path: Path) -> Iterator[RawBatch]:
    try:
        parquet = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises ArrowInvalid/OSError for truncated or foreign files
        raise UnreadableFile(f"Parquet无法读取 not a readable Parquet file: {err}") from err
    rows_before = 0
    try:
        for record_batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            frame = pl.from_arrow(record_batch)
            assert isinstance(frame, pl.DataFrame)
            frame = frame.rename({old: clean_header(old) for old in frame.columns})
            lines = np.arange(frame.height, dtype=np.int64) + rows_before + 2
            rows_before += frame.height
            yield RawBatch(frame, pl.Series("line", lines))
    except (pa.ArrowException, OSError) as err:
        raise UnreadableFile(f"Parquet文件不完整 Parquet file cannot be read to its end (truncated?): {err}") from err


def open_file(path: Path) -> tuple[str, Iterator[RawBatch]]:
    """(format, batches). The format is e.g. 'csv:gb18030', 'xlsx', 'parquet'."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        encoding = detect_encoding(path)
        return f"csv:{encoding}", read_csv(path, encoding)
    if suffix == ".xlsx":
        return "xlsx", read_xlsx(path)
    if suffix == ".parquet":
        return "parquet", read_parquet(path)
    raise UnreadableFile(f"不支持的文件类型 unsupported file type '{suffix}': expected .csv, .xlsx or .parquet")
