"""A payment batch in: read, normalised and validated exactly as the nightly run reads `benefit_payments`.

The batch is a `benefit_payments` file (CONTRACT.md section 7): any reader format, English or Chinese headers, the
dirt of section 1. The ingest's own steps read it (`pipelines.ingest.readers.open_file`, `batch.map_headers`,
`batch.process_batch`), so a row the nightly run would load is screened, and a row it would quarantine is held as
INVALID with the very reason quarantine would give. A row whose only fault is a mistyped ID is INVALID too: money
is not paid to an ID that does not exist, however close it is to one that does.

A file that cannot be read at all (no header, a required column missing, not CSV/XLSX/Parquet, truncated) raises
`UnreadableFile` naming the reason; nothing of it is screened.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.ingest.batch import check_twins, map_headers, process_batch, twin_headers
from pipelines.ingest.normalize import citizen_id, clean_cell
from pipelines.ingest.readers import RawBatch, UnreadableFile, open_file
from schemas.datasets import BY_NAME
from schemas.validation import DateWindow

SPEC = BY_NAME["benefit_payments"]
COLUMNS = tuple(c.name for c in SPEC.columns)
INVALID = pl.Schema(
    {"line": pl.Int64, "payment_id": pl.String, "person_id": pl.String, "reason": pl.String, "column": pl.String}
)

__all__ = ["Batch", "UnreadableFile", "from_records", "read_file"]


@dataclass
class Batch:
    """The data rows of a batch: the valid ones (`line` + the dataset's columns, canonical) and the invalid ones
    (`line`, payment_id and person_id as far as they can be read, the quarantine `reason`)."""

    valid: pl.DataFrame
    invalid: pl.DataFrame
    sha256: str

    @property
    def rows(self) -> int:
        return self.valid.height + self.invalid.height


def read_file(path: Path, as_of: dt.date, *, scratch: Path | None = None) -> Batch:
    """The batch in a file (CSV in UTF-8 or GB18030, XLSX, Parquet). Raises UnreadableFile."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    _, batches = open_file(path, scratch=scratch)
    try:
        return _screenable(batches, as_of, path.name, digest.hexdigest())
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()


def from_records(numbered: list[tuple[int, Mapping[str, object]]], as_of: dt.date, sha256: str) -> Batch:
    """The batch of a service call: (line, record) pairs (`records_of`), each record keyed by the headers a file
    would have; `line` is the record's line in the request body (1 = the first)."""
    records = [record for _, record in numbered]
    headers: list[str] = []
    for record in records:
        headers += [str(h) for h in record if str(h) not in headers]
    cells = {
        h: [
            None if r.get(h) is None else r.get(h) if isinstance(r.get(h), str) else json.dumps(r.get(h))
            for r in records
        ]
        for h in headers
    }
    frame = pl.DataFrame({h.strip(): pl.Series(values, dtype=pl.String) for h, values in cells.items()})
    lines = pl.Series("line", [number for number, _ in numbered], dtype=pl.Int64)
    return _screenable(iter([RawBatch(frame, lines)]), as_of, "api", sha256)


def _screenable(batches: Iterator[RawBatch], as_of: dt.date, name: str, sha256: str) -> Batch:
    window = DateWindow(as_of)
    mapping: dict[str, str] | None = None
    twins: dict[str, list[str]] = {}
    valid: list[pl.DataFrame] = []
    invalid: list[pl.DataFrame] = []
    for raw in batches:
        if mapping is None:
            mapping = map_headers(raw.frame.columns, SPEC)
            twins = twin_headers(raw.frame.columns, SPEC)
        check_twins(raw, twins, SPEC)
        outcome = process_batch(raw, mapping, SPEC, window, name, "screening")
        valid.append(outcome.valid.select(pl.col("source_line").alias("line"), *COLUMNS))
        quarantined = [outcome.quarantine.select("line", "column", "reason", "raw")]
        if outcome.mistyped is not None:
            quarantined.append(
                outcome.mistyped.select(pl.col("_quarantine").struct.unnest()).select("line", "column", "reason", "raw")
            )
        invalid.append(_invalid(pl.concat(quarantined), mapping))
    if mapping is None:
        raise UnreadableFile("空文件 empty file: no header")
    return Batch(
        pl.concat(valid).sort("line") if valid else pl.DataFrame(schema={"line": pl.Int64}),
        pl.concat(invalid).sort("line"),
        sha256,
    )


def _invalid(quarantined: pl.DataFrame, mapping: dict[str, str]) -> pl.DataFrame:
    """The quarantined rows as screening results: payment_id and person_id from the raw row (the ID canonical when
    it is valid, else as it arrived), one reason per line."""
    if quarantined.height == 0:
        return pl.DataFrame(schema=INVALID)
    header_of = {canonical: header for header, canonical in mapping.items()}
    raws = [_cells(r) for r in quarantined["raw"]]

    def cell(name: str) -> list[str | None]:
        header = header_of.get(name)
        return [(raw.get(header) if isinstance(raw, dict) and header else None) for raw in raws]

    frame = quarantined.select("line", "reason", "column").with_columns(
        pl.Series("payment_id", cell("payment_id"), dtype=pl.String),
        pl.Series("person_id_raw", cell("person_id"), dtype=pl.String),
    )
    canonical, problem = citizen_id(clean_cell(pl.col("person_id_raw")))
    frame = frame.with_columns(
        pl.when(pl.col("person_id_raw").is_not_null() & problem.is_null())
        .then(canonical)
        .otherwise(pl.col("person_id_raw"))
        .alias("person_id"),
        pl.col("payment_id").str.strip_chars(),
    )
    return (
        frame.group_by("line", maintain_order=True)
        .agg(
            pl.col("payment_id").first(),
            pl.col("person_id").first(),
            pl.col("reason").unique(maintain_order=True).str.join("；"),
            pl.col("column").drop_nulls().unique(maintain_order=True).str.join(","),
        )
        .cast(INVALID)
        .select(INVALID.names())
    )


def _cells(raw: str | None) -> dict[str, object]:
    """A quarantined row's cells by header; none for a line that could not even be split into fields (its raw
    is the line's text)."""
    try:
        cells = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}
    return cells if isinstance(cells, dict) else {}


def records_of(lines: Iterable[bytes | str]) -> list[tuple[int, Mapping[str, object]]]:
    """JSON lines (the service's request body) -> (line, record) pairs; a line that is no JSON object raises
    ValueError naming its number. Blank lines are skipped, like a blank line of a file."""
    records: list[tuple[int, Mapping[str, object]]] = []
    for number, line in enumerate(lines, 1):
        text = line.decode("utf-8") if isinstance(line, bytes) else line
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"第{number}行不是JSON line {number} is not JSON: {err.msg} (column {err.colno})") from err
        if not isinstance(record, dict):
            raise ValueError(f"第{number}行不是JSON对象 line {number} is not a JSON object")
        records.append((number, record))
    return records
