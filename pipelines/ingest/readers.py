"""Readers: one inbox file in, batches of raw text cells out.

Every reader yields `RawBatch`es: a Polars frame of *string* columns named as
the file's own headers (trimmed), the line of each row in the file (header =
1; for XLSX the sheet row; for Parquet the row index + 2, as if it had a
header line), and the rows that could not even be split into fields
(`malformed`). Reading stays streaming for CSV and Parquet: batches of a
bounded size, never the whole file in memory.

CSV encoding is detected, not declared: UTF-8 (with or without BOM) or
GB18030 (a superset of GBK). A file that is not UTF-8 as a whole but has lines
that read as Chinese in UTF-8 mixes the two and is rejected (`detect_encoding`).
Neither Polars nor DuckDB read GB18030 here, so a GB18030 file is first
transcoded to a UTF-8 copy in chunks, in the `scratch` folder the caller gives
(the run's private `<db>.scratch-<run>`) or else in a private temporary folder;
the copy is created 0600 and removed when the file has been read. Rows are
split by pyarrow's streaming CSV reader, whose invalid-row handler gives the
physical line of a row with the wrong number of fields: that row is
quarantined, the rest of the file still loads.

Headers are checked before any row is read: two columns of one name, also
only after trimming (`amount` and ` amount `), reject the file. A file with a
header and no rows yields one empty batch: a delivery of zero rows.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import io
import os
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

from pipelines.ingest.reasons import excerpt, quoted

CHUNK_BYTES = 8 << 20
CSV_BLOCK_BYTES = 64 << 20
PARQUET_BATCH_ROWS = 1_000_000
MAX_CHECKED_LINE_BYTES = 1 << 20  # a longer line is checked for mixed encodings on its first MiB
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


def check_header(names: list[str]) -> None:
    """Raise UnreadableFile when two columns have one name, exactly or only after trimming (`clean_header`)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            columns = f"columns {seen[name] + 1} and {i + 1}"
            raise UnreadableFile(f"表头列名重复 duplicate column names in the header: {quoted(name)} ({columns})")
        seen[name] = i
    trimmed: dict[str, int] = {}
    for i, name in enumerate(names):
        clean = clean_header(name)
        if clean in trimmed:
            raise UnreadableFile(
                f"表头列名重复 duplicate column names in the header, after trimming: {quoted(clean)} "
                f"(columns {trimmed[clean] + 1} and {i + 1})"
            )
        trimmed[clean] = i


def detect_encoding(path: Path) -> str:
    """'utf-8-sig', 'utf-8' or 'gb18030', by decoding the whole file in chunks.

    Raises UnreadableFile for content that is binary (NUL bytes), valid in neither, or GB18030 with
    lines in UTF-8 (`_check_not_mixed`).
    """
    with path.open("rb") as f:
        head = f.read(3)
    candidates = ["utf-8-sig"] if head == codecs.BOM_UTF8 else ["utf-8", "gb18030"]
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    raise UnreadableFile("编码无法识别 not text in UTF-8 or GB18030: not a CSV file")


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes; a GB18030 file is also scanned line by line for lines in UTF-8."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = _LineScan() if encoding == "gb18030" else None
    try:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                if b"\x00" in chunk:
                    raise UnreadableFile("非文本文件 binary content (NUL bytes): not a CSV text file")
                decoder.decode(chunk)
                if lines is not None:
                    lines.feed(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    if lines is not None:
        lines.close()
    return True


@functools.cache
def _familiar() -> frozenset[str]:
    """The characters Chinese text is mostly made of: GB2312's punctuation and full-width rows, its 3,755
    level-1 (most frequent) hanzi."""
    chars = set()
    for lead in (0xA1, 0xA3, *range(0xB0, 0xD8)):
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes([lead, trail]).decode("gb2312"))
    return frozenset(chars)


def _familiar_share(text: str) -> float:
    familiar = _familiar()
    wide = [ch for ch in text if ord(ch) > 0x7F]
    return sum(ch in familiar for ch in wide) / len(wide) if wide else 0.0


def utf8_line_in_gb18030(line: bytes, partial: bool = False) -> bool:
    """Whether a line of a file that decodes as GB18030 is in fact UTF-8 text.

    It is when it holds non-ASCII bytes, is valid UTF-8 (about one GB18030 line of Chinese in 200 is, by
    chance), and reads as familiar Chinese in UTF-8 (more than half of its non-ASCII characters common) and
    more familiar than in GB18030: a true GB18030 line reads as common characters in GB18030 and as rare
    ones or foreign letters in UTF-8 (郑露 is "֣¶"); a UTF-8 line the reverse (张伟 read as GB18030 is
    寮犱紵). On simulated lines of names and text (one character in ten rare) no GB18030 line in 4 million
    was taken for UTF-8, and 97% of UTF-8 lines that decode as GB18030 were caught (a file mixing the two
    has many). `partial`: the line was cut, maybe inside a character.
    """
    if line.isascii():
        return False
    as_utf8 = line.decode("utf-8", "replace")
    if partial:
        as_utf8 = as_utf8.rstrip("\ufffd")
    if "\ufffd" in as_utf8:
        return False
    share = _familiar_share(as_utf8)
    return share > 0.5 and share > _familiar_share(line.decode("gb18030", "replace"))


class _LineScan:
    """Feeds on a GB18030 file's chunks; raises UnreadableFile at the first line that is UTF-8.

    Cost: one split of each chunk, one C-speed test per line holding non-ASCII bytes. A line longer than
    MAX_CHECKED_LINE_BYTES is checked on its first MiB only, so memory stays bounded.
    """

    def __init__(self) -> None:
        self.carry = b""
        self.line = 0  # lines completed so far
        self.skipping = False  # inside an over-long line already checked

    def feed(self, chunk: bytes) -> None:
        parts = (self.carry + chunk).split(b"\n")
        self.carry = parts.pop()
        for part in parts:
            self.line += 1
            if self.skipping:
                self.skipping = False
                continue
            self._check(part, self.line)
        if len(self.carry) > MAX_CHECKED_LINE_BYTES:
            if not self.skipping:
                self._check(self.carry[:MAX_CHECKED_LINE_BYTES], self.line + 1, partial=True)
                self.skipping = True
            self.carry = b""

    def close(self) -> None:
        if self.carry and not self.skipping:
            self._check(self.carry, self.line + 1)

    @staticmethod
    def _check(part: bytes, line: int, partial: bool = False) -> None:
        if utf8_line_in_gb18030(part, partial):
            raise UnreadableFile(f"编码混杂 mixed encodings: line {line} is UTF-8 in a GB18030 file")


def transcode_to_utf8(path: Path, encoding: str, out: io.RawIOBase | io.BufferedIOBase) -> None:
    """Write `path`, decoded from `encoding`, as UTF-8 to the open binary file `out`, chunk by chunk."""
    with path.open("rb") as src:
        decoder = codecs.getincrementaldecoder(encoding)()
        while chunk := src.read(CHUNK_BYTES):
            out.write(decoder.decode(chunk).encode("utf-8"))
        out.write(decoder.decode(b"", final=True).encode("utf-8"))


def private_copy(folder: Path) -> tuple[int, Path]:
    """(descriptor, path) of a new empty file in `folder`, readable by its owner only (0600)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="utf8-", suffix=".csv", dir=folder)
    os.fchmod(fd, 0o600)
    return fd, Path(name)


def _shift_past(lines: np.ndarray, skipped: list[int]) -> np.ndarray:
    """Lines of the rows read, given the physical lines the parser skipped before them."""
    for s in sorted(skipped):
        lines[lines >= s] += 1
    return lines


def read_csv(path: Path, encoding: str, *, scratch: Path | None = None) -> Iterator[RawBatch]:
    """Batches of a CSV file; a GB18030 file is read from a UTF-8 copy in `scratch` (or a private temporary
    folder), removed when the file has been read, also on error."""
    with contextlib.ExitStack() as cleanup:
        utf8 = path
        if encoding == "gb18030":
            folder = scratch or Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="fundwatch-")))
            try:
                fd, utf8 = private_copy(folder)
                cleanup.callback(utf8.unlink, missing_ok=True)
                with os.fdopen(fd, "wb") as out:
                    transcode_to_utf8(path, encoding, out)
            except OSError as err:  # a full disk, a folder not writable: this file, not the run
                raise UnreadableFile(f"转码失败 cannot make the UTF-8 copy of the file: {excerpt(err)}") from err
        with utf8.open("r", encoding="utf-8-sig", newline="") as f:
            first = f.readline()
        if not first.strip():
            raise UnreadableFile("空文件 empty file: no header line")
        try:
            header = next(csv.reader(io.StringIO(first)))
        except csv.Error as err:  # e.g. a name longer than the csv module's field limit (128 KiB)
            raise UnreadableFile(f"表头无法解析 the header line cannot be parsed: {excerpt(err)}") from err
        check_header(header)
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
        yielded = False
        for record_batch in reader:
            frame = pl.from_arrow(record_batch)
            assert isinstance(frame, pl.DataFrame)
            frame = frame.rename({old: clean_header(old) for old in frame.columns})
            lines = _shift_past(np.arange(frame.height, dtype=np.int64) + rows_before + 2, skipped)
            rows_before += frame.height
            yield RawBatch(frame, pl.Series("line", lines), malformed[reported:])
            reported = len(malformed)
            yielded = True
        if reported < len(malformed) or not yielded:  # rows left to report, or a header and no rows
            empty = pl.DataFrame(schema={clean_header(h): pl.String for h in header})
            yield RawBatch(empty, pl.Series("line", [], pl.Int64), malformed[reported:])
    except pa.ArrowInvalid as err:
        raise UnreadableFile(f"CSV无法解析 CSV cannot be parsed: {excerpt(err)}") from err


def read_xlsx(path: Path) -> Iterator[RawBatch]:
    """The first sheet, header in row 1; every cell read as text (dates as ISO).

    The sheet is read without a header, so that the header row is seen as it is: fastexcel would
    rename a second `amount` to `amount_1` and hide the duplicate.
    """
    try:
        sheet = fastexcel.read_excel(path).load_sheet(0, header_row=None, dtypes="string")
        cells = sheet.to_polars()
    except Exception as err:  # fastexcel raises its own error classes for every kind of bad file
        raise UnreadableFile(f"XLSX无法读取 not a readable XLSX workbook: {excerpt(err)}") from err
    if not cells.height:
        yield RawBatch(pl.DataFrame(), pl.Series("line", [], pl.Int64))
        return
    # An empty header cell keeps fastexcel's placeholder name (`__UNNAMED__<n>`).
    header = [cell if cell is not None else column for cell, column in zip(cells.row(0), cells.columns, strict=True)]
    check_header(header)
    frame = cells.slice(1).rename(dict(zip(cells.columns, (clean_header(h) for h in header), strict=True)))
    yield RawBatch(frame, pl.Series("line", np.arange(frame.height, dtype=np.int64) + 2))


def read_parquet(path: Path) -> Iterator[RawBatch]:
    try:
        parquet = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises ArrowInvalid/OSError for truncated or foreign files
        raise UnreadableFile(f"Parquet无法读取 not a readable Parquet file: {excerpt(err)}") from err
    check_header(parquet.schema_arrow.names)
    rows_before = 0
    yielded = False
    try:
        for record_batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            frame = pl.from_arrow(record_batch)
            assert isinstance(frame, pl.DataFrame)
            frame = frame.rename({old: clean_header(old) for old in frame.columns})
            lines = np.arange(frame.height, dtype=np.int64) + rows_before + 2
            rows_before += frame.height
            yielded = True
            yield RawBatch(frame, pl.Series("line", lines))
    except (pa.ArrowException, OSError) as err:
        raise UnreadableFile(
            f"Parquet文件不完整 Parquet file cannot be read to its end (truncated?): {excerpt(err)}"
        ) from err
    if not yielded:  # a schema and no rows
        empty = pl.DataFrame(schema={clean_header(n): pl.String for n in parquet.schema_arrow.names})
        yield RawBatch(empty, pl.Series("line", [], pl.Int64))


def open_file(path: Path, *, scratch: Path | None = None) -> tuple[str, Iterator[RawBatch]]:
    """(format, batches). The format is e.g. 'csv:gb18030', 'xlsx', 'parquet'.

    `scratch`: the folder for temporary files (a GB18030 file's UTF-8 copy); None: a private temporary folder.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        encoding = detect_encoding(path)
        return f"csv:{encoding}", read_csv(path, encoding, scratch=scratch)
    if suffix == ".xlsx":
        return "xlsx", read_xlsx(path)
    if suffix == ".parquet":
        return "parquet", read_parquet(path)
    raise UnreadableFile(f"不支持的文件类型 unsupported file type {quoted(suffix)}: expected .csv, .xlsx or .parquet")
