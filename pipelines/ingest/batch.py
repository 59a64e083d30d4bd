"""One batch of raw text cells of a file -> valid canonical rows and quarantine rows.

The steps, each a small function:

1. `map_headers`    English or Chinese headers, padded, any order -> canonical names
   `check_twins`    a contract column given twice (`amount` and `金额`) must hold the same values
2. `stringify`      native Parquet/XLSX types -> the text forms the normalisers read
3. `normalise`      text -> canonical typed values plus a parse reason per cell
4. validation       the pandera schema of the dataset (`schemas.validation`) -> failed checks per row
5. `row_problems`   parse reasons and failed checks -> one reason line per invalid row
6. `mistyped_rows`  of those, the rows whose only fault is a mistyped citizen ID (CONTRACT.md section 6), set
                    aside with their values for the lookup in enrollment (`pipelines.ingest.resolve`)
7. `process_batch`  all of it: the valid rows with their lineage, the quarantine rows, the mistyped rows
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from pipelines.ingest.normalize import clean_frame, normaliser_for
from pipelines.ingest.readers import RawBatch, UnreadableFile
from pipelines.ingest.reasons import EXCERPT_CHARS, quoted
from pipelines.ingest.resolve import QUARANTINE, RAW, TYPED, is_mistyped, typed_form
from pipelines.warehouse.session import RESOLVED_ID_DATASETS
from schemas.datasets import POLARS_TYPES, Dataset
from schemas.validation import DateWindow, failures


def header_aliases(spec: Dataset) -> dict[str, str]:
    """Every accepted header spelling (case-folded English, Chinese) -> canonical column name."""
    aliases: dict[str, str] = {}
    for c in spec.columns:
        aliases[c.name.lower()] = c.name
        aliases[c.zh] = c.name
    return aliases


def map_headers(headers: Iterable[str], spec: Dataset) -> dict[str, str]:
    """File header -> canonical column, for the headers that are contract columns.

    Unknown headers are left out (kept only in the raw row of quarantine).
    Raises UnreadableFile when a required column is missing.
    """
    aliases = header_aliases(spec)
    mapping: dict[str, str] = {}
    for h in headers:
        canonical = aliases.get(h.strip().lower()) or aliases.get(h.strip())
        if canonical and canonical not in mapping.values():
            mapping[h] = canonical
    missing = [c for c in spec.required if c not in mapping.values()]
    if missing:
        names = ", ".join(f"{c} ({spec.column(c).zh})" for c in missing)
        raise UnreadableFile(f"缺少必填列 missing required column(s): {names}")
    return mapping


def twin_headers(headers: Iterable[str], spec: Dataset) -> dict[str, list[str]]:
    """Contract columns the header gives more than once -> those headers, in file order.

    E.g. `amount` and `金额`, or `amount` and `Amount`: `map_headers` reads the first; the file loads only
    if every row holds the same value under each (`check_twins`).
    """
    aliases = header_aliases(spec)
    found: dict[str, list[str]] = {}
    for h in headers:
        canonical = aliases.get(h.strip().lower()) or aliases.get(h.strip())
        if canonical:
            found.setdefault(canonical, []).append(h)
    return {c: hs for c, hs in found.items() if len(hs) > 1}


def check_twins(batch: RawBatch, twins: dict[str, list[str]], spec: Dataset) -> None:
    """Raise UnreadableFile at the first row where a column given twice holds two different values.

    Values are compared as text, trimmed, an empty cell equal to a missing one. Raised half-way through a
    file, it rejects the whole file: the rows of it already loaded are removed again.
    """
    for canonical, headers in twins.items():
        first = headers[0]
        for other in headers[1:]:
            differs = batch.frame.select(
                _comparable(first).ne_missing(_comparable(other)).fill_null(False).alias("differs")
            ).to_series()
            if differs.any():
                line = batch.lines.filter(differs)[0]
                column = f"{canonical} ({spec.column(canonical).zh})"
                raise UnreadableFile(
                    f"同一列出现两次且取值不同 column {column} given twice, as {quoted(first)} and {quoted(other)}, "
                    f"with different values: line {line}"
                )


def _comparable(name: str) -> pl.Expr:
    text = pl.col(name).cast(pl.String).str.strip_chars()
    return pl.when(text != "").then(text)


def stringify(frame: pl.DataFrame, mapping: dict[str, str], spec: Dataset) -> pl.DataFrame:
    """Every column as text. Native types (Parquet, XLSX) become the forms the normalisers read.

    Floats in money columns become exact 2-decimal text via integer fen, so a
    binary float like 0.30000000000000004 arrives as '0.30'; integral floats
    (a period 202403.0, a code 110.0) lose the '.0'.
    """
    exprs = []
    for name, dtype in frame.schema.items():
        c = pl.col(name)
        kind = spec.column(mapping[name]).kind if name in mapping else "text"
        if dtype == pl.String:
            exprs.append(c)
        elif dtype == pl.Date:
            exprs.append(c.dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            exprs.append(c.dt.strftime("%Y-%m-%d %H:%M:%S"))
        elif dtype.is_float() and kind == "money":
            fen = (c * 100).round(0).cast(pl.Int64)
            sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
            exprs.append(
                pl.concat_str(
                    [
                        sign,
                        (fen.abs() // 100).cast(pl.String),
                        pl.lit("."),
                        (fen.abs() % 100).cast(pl.String).str.zfill(2),
                    ]
                )
            )
        elif dtype.is_float():
            exprs.append(
                pl.when(c == c.round(0))
                .then(c.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(c.cast(pl.String))
            )
        else:
            exprs.append(c.cast(pl.String))
    return frame.select(e.alias(n) for e, n in zip(exprs, frame.columns, strict=True))


def normalise(cleaned: pl.DataFrame, mapping: dict[str, str], spec: Dataset) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(canonical typed values, parse reasons).

    `cleaned` is the file's text after `clean_frame`, with the file's headers.
    `values` has one column per contract column. `reasons` has an `index`
    column (row position in `cleaned`) and one column per contract column, for
    the rows where some non-empty cell did not parse; it is computed on those
    rows only, as reasons are rare and their texts costly.
    Each stage is materialised: Polars does not share sub-expressions in eager
    mode, and the normalisers refer to their cleaned input many times.
    """
    source = {canonical: header for header, canonical in mapping.items()}
    present = [c for c in spec.columns if c.name in source]
    cleaned = cleaned.select(pl.col(source[c.name]).alias(c.name) for c in present)
    values = cleaned.select(
        [normaliser_for(c)(pl.col(c.name))[0].cast(POLARS_TYPES[c.kind]).alias(c.name) for c in present]
    )
    values = values.with_columns(
        pl.lit(None, POLARS_TYPES[c.kind]).alias(c.name) for c in spec.columns if c.name not in source
    ).select(c.name for c in spec.columns)
    failed_to_parse = pl.any_horizontal(
        [cleaned[c.name].is_not_null() & values[c.name].is_null() for c in present] or [pl.lit(False)]
    )
    suspects = cleaned.with_row_index("index").filter(failed_to_parse)
    if suspects.height == 0:  # the common case, and a batch of one payment: no reason to plan
        return values, pl.DataFrame(schema={"index": pl.Int64, **{c.name: pl.String for c in present}})
    reasons = suspects.select(
        pl.col("index").cast(pl.Int64),
        *[normaliser_for(c)(pl.col(c.name))[1].cast(pl.String).alias(c.name) for c in present],
    )
    return values, reasons


def row_problems(reasons: pl.DataFrame, checks: pl.DataFrame, spec: Dataset) -> pl.DataFrame:
    """One row per invalid row: index, first failing column, and every reason of the row.

    A parse reason ("unparseable date: '2024-13-45'") is more telling than the
    check it then fails ("missing required value"), so it wins for that cell.
    """
    if reasons.height == 0 and checks.height == 0:  # a batch of valid rows: nothing to plan
        return pl.DataFrame(schema={"index": pl.Int64, "column": pl.String, "reason": pl.String, "columns": pl.UInt32})
    order = {c.name: i for i, c in enumerate(spec.columns)}
    parsed = (
        reasons.unpivot(index="index", variable_name="column", value_name="reason")
        .drop_nulls("reason")
        .with_columns(_sanitised(pl.col("reason")), pl.lit(0).alias("priority"))
    )
    checked = checks.with_columns(pl.lit(1).alias("priority"))
    cells = (
        pl.concat([parsed, checked.select(parsed.columns)])
        .sort("index", "priority")
        .unique(["index", "column"], keep="first", maintain_order=True)
        .with_columns(pl.col("column").replace_strict(order, return_dtype=pl.Int32).alias("order"))
        .sort("index", "order")
    )
    return cells.group_by("index", maintain_order=True).agg(
        pl.col("column").first(),
        pl.format("{}: {}", "column", "reason").str.join("; ").alias("reason"),
        pl.len().alias("columns"),  # how many columns of the row failed
    )


def mistyped_rows(problems: pl.DataFrame, cleaned: pl.DataFrame, id_header: str | None, spec: Dataset) -> pl.Series:
    """Indexes of the invalid rows whose only fault is a mistyped citizen ID: `person_id` is the one column that
    failed, and it is 18 characters with a wrong check digit (CONTRACT.md section 6; the datasets of
    `RESOLVED_ID_DATASETS` only). `id_header` is the file's header of person_id (None: not in the file)."""
    none = pl.Series("index", [], pl.Int64)
    if spec.name not in RESOLVED_ID_DATASETS or id_header is None or not problems.height:
        return none
    only_id = problems.filter((pl.col("columns") == 1) & (pl.col("column") == "person_id"))["index"]
    if not only_id.len():
        return none
    typed = cleaned[id_header].gather(only_id).to_frame("id").select(typed_form(pl.col("id"))).to_series()
    return only_id.filter(pl.Series(is_mistyped(typed)))


# A parse reason quotes the cell: a short excerpt of it, on one line, without control characters.
REASON_CELL_CHARS = EXCERPT_CHARS + 40


def _sanitised(reason: pl.Expr) -> pl.Expr:
    one_line = reason.str.replace_all(r"[\t\n\r\x0b\x0c\x85\u2028\u2029]", " ").str.replace_all(
        r"[\p{Cc}\p{Cf}\p{Co}]", ""
    )
    cut = one_line.str.slice(0, REASON_CELL_CHARS - 1) + pl.lit("…")
    return pl.when(one_line.str.len_chars() > REASON_CELL_CHARS).then(cut).otherwise(one_line)


# The columns of a quarantine row (the table `quarantine` holds them, with the time).
QUARANTINE_COLUMNS = {
    "run_id": pl.String,
    "dataset": pl.String,
    "file": pl.String,
    "line": pl.Int64,
    "column": pl.String,
    "reason": pl.String,
    "raw": pl.String,
}


@dataclass
class BatchOutcome:
    """The rows of a batch: valid, quarantined, and quarantined but awaiting the lookup of their mistyped ID.

    `mistyped` holds the dataset's columns (person_id null) and the lineage columns of each such row, its ID as
    it arrived (`person_id_raw`), the ID's typed form (`_typed_id`) and its quarantine row (`_quarantine`, a
    struct of the columns of `quarantine`); `pipelines.ingest.resolve.Resolver` writes them.
    """

    valid: pl.DataFrame
    quarantine: pl.DataFrame
    mistyped: pl.DataFrame | None = None

    @property
    def rows_quarantined(self) -> int:
        return self.quarantine.height + (self.mistyped.height if self.mistyped is not None else 0)


def process_batch(
    batch: RawBatch, mapping: dict[str, str], spec: Dataset, window: DateWindow, file: str, run_id: str
) -> BatchOutcome:
    text = stringify(batch.frame, mapping, spec)
    cleaned = clean_frame(text)
    # A fully empty line carries nothing: not a row, not a quarantine.
    keep = cleaned.select(pl.any_horizontal(pl.all().is_not_null())).to_series()
    text, cleaned, lines = text.filter(keep), cleaned.filter(keep), batch.lines.filter(keep)

    values, reasons = normalise(cleaned, mapping, spec)
    problems = row_problems(reasons, failures(spec.name, window, values), spec)
    bad = pl.repeat(False, values.height, eager=True)
    if problems.height:
        bad = pl.int_range(values.height, eager=True).is_in(problems["index"].implode())

    quarantined = (
        pl.DataFrame(schema={"index": pl.Int64, **QUARANTINE_COLUMNS})
        if problems.height == 0  # every row valid (the common case; a service call of one payment): nothing to join
        else text.with_row_index("index")
        .with_columns(pl.col("index").cast(pl.Int64), lines.alias("line"))
        .join(problems, on="index", how="inner")
        .select(
            pl.col("index"),
            pl.lit(run_id).alias("run_id"),
            pl.lit(spec.name).alias("dataset"),
            pl.lit(file).alias("file"),
            pl.col("line"),
            pl.col("column"),
            pl.col("reason"),
            pl.struct(text.columns).struct.json_encode().alias("raw"),
        )
    )
    id_header = next((h for h, c in mapping.items() if c == "person_id"), None)
    mistyped_index = mistyped_rows(problems, cleaned, id_header, spec)
    mistyped = None
    if mistyped_index.len():
        aside = pl.int_range(values.height, eager=True).is_in(mistyped_index.implode())
        assert id_header is not None
        mistyped = values.filter(aside).with_columns(
            pl.lit(file).alias("source_file"),
            lines.filter(aside).alias("source_line"),
            pl.lit(run_id).alias("run_id"),
            text[id_header].filter(aside).alias(RAW),
            cleaned.filter(aside).select(typed_form(pl.col(id_header))).to_series().alias(TYPED),
            quarantined.filter(pl.col("index").is_in(mistyped_index.implode()))
            .sort("index")
            .select(pl.struct(pl.exclude("index")).alias(QUARANTINE))
            .to_series(),
        )
        quarantined = quarantined.filter(~pl.col("index").is_in(mistyped_index.implode()))
    quarantined = quarantined.drop("index")
    assert dict(quarantined.schema) == QUARANTINE_COLUMNS, quarantined.schema
    malformed = pl.DataFrame(
        {
            "run_id": [run_id] * len(batch.malformed),
            "dataset": [spec.name] * len(batch.malformed),
            "file": [file] * len(batch.malformed),
            "line": [m.line for m in batch.malformed],
            "column": [None] * len(batch.malformed),
            "reason": [m.reason for m in batch.malformed],
            "raw": [m.text for m in batch.malformed],
        },
        schema=quarantined.schema,
    )
    valid = values.filter(~bad).with_columns(
        pl.lit(file).alias("source_file"), lines.filter(~bad).alias("source_line"), pl.lit(run_id).alias("run_id")
    )
    return BatchOutcome(valid, pl.concat([quarantined, malformed]), mistyped)
