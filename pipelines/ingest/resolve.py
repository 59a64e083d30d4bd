"""Mistyped citizen IDs resolved against enrollment (CONTRACT.md section 6).

IDs are typed by hand at counters, and a typo almost always breaks the GB 11643 check digit. In a dataset of
`RESOLVED_ID_DATASETS`, a row whose only fault is a `person_id` of 18 characters (17 digits, then a digit or
X, after the usual canonicalisation: widths folded, spaces removed, x upper-cased) with a wrong check digit
is quarantined like any invalid row, and looked up:

1. `variants`     every ID one substituted character or one swap of two adjacent characters away from it
                  that has a right check digit (vectorised: numpy over the IDs' bytes, no Python per row);
2. `resolve`      the variants joined with the IDs registered in enrollment (the join itself runs in DuckDB,
                  `enrolled_with`); where the row carries a name (death_records, custody_records) and the
                  name is present, only persons enrolled under the same name count (`name_key`: spaces and
                  full-width forms ignored);
3. `Resolver`     exactly one candidate: the row is also loaded into its dataset with that ID
                  (`id_resolved = true`, `person_id_raw` = the ID as it arrived) and its quarantine row
                  carries it (`resolved_person_id`); none or several: the row stays only in quarantine. The
                  quarantine row always stays, so the counts of quarantined rows are those without
                  resolution; its reason ends with what was found, and `id_candidates` says how many.

When. `Resolver.settle` runs at the end of each group of files the loader commits, after the group's rows
are appended, and the loader reads enrollment files before any other dataset's (in the nightly flow,
enrollment is the first dataset loaded, in a call of its own; within one call, its files go first). So
"registered in enrollment" is the enrollment in force after this run's enrollment files, and a resolved row
is committed with its file, in the same transaction (a retry, a correction or a withdrawal of the file
treats it as any other row of the file: `source_file`). A row is resolved once, when its file is loaded: an
enrollment delivered on a later night does not revisit the rows of files loaded before (resolving again
would need their values, which quarantine holds only as raw text).

Counting the variants of one ID, characters c1..c18 with c18 the check character (weights w1..w17):

* substituted in the body (c1..c17): 17 positions x 9 other digits = 153. The typed c18 stays, so a variant
  is right only if its weighted sum has the residue that c18 needs. Replacing digit d by e changes the sum by
  w*(e-d); the 9 values e-d lie in [-9, 9] without 0 and no two of them are 11 apart, and w is prime to 11,
  so they give 9 different non-zero residues: at most one of them is the one needed. At most 17 variants.
* substituted at c18: 10 other characters, of which only the right check character of c1..c17. One variant.
* adjacent swaps: 16 inside the body (a variant only when the two digits differ, right when the typed c18
  is the check character of the swapped body) and 1 across c17/c18 (only when c18 is a digit: the new body
  ends in it, and the new c18, the old c17, must be its check character). At most 17 variants.

So 171 edits, of which at most 35 carry a right check digit and are joined; no two are the same ID (a
substitution changes one character, a swap two adjacent ones, two swaps different pairs).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from pipelines.ingest.normalize import ID_CHECK_CHARS, ID_WEIGHTS, _byte_matrix, _strings, fold_width
from pipelines.warehouse.append import Appender, append_frame
from pipelines.warehouse.session import RESOLVED_ID_DATASETS
from schemas.datasets import BY_NAME

# Columns of a batch's mistyped rows (`pipelines.ingest.batch.BatchOutcome.mistyped`) besides the dataset's
# own (person_id null) and the lineage: the ID as it arrived, its canonicalised typed form, its quarantine row.
RAW = "person_id_raw"
TYPED = "_typed_id"
QUARANTINE = "_quarantine"

# The datasets whose rows carry a name to compare with the enrollment name (CONTRACT.md section 6).
NAMED_DATASETS = tuple(d for d in RESOLVED_ID_DATASETS if any(c.name == "name" for c in BY_NAME[d].columns))

_WEIGHTS = np.array(ID_WEIGHTS, dtype=np.int32)
_CHECK = np.frombuffer(ID_CHECK_CHARS.encode("ascii"), dtype=np.uint8)
_ZERO, _X = ord("0"), ord("X")
_DIGITS = np.arange(10, dtype=np.int32)
# IDs are expanded this many at a time: (rows, 17, 10) sums of int32, 34 MB per chunk.
_CHUNK = 50_000


def typed_form(cleaned: pl.Expr) -> pl.Expr:
    """An ID cell after `clean_cell` as the check-digit test reads it: without spaces, upper-case."""
    return cleaned.str.replace_all(r"\s+", "").str.to_uppercase()


def is_mistyped(typed: pl.Series) -> np.ndarray:
    """Per value of `typed_form`: 18 characters, 17 digits then a digit or X, and a wrong check character."""
    shaped = typed.str.contains(r"^[0-9]{17}[0-9X]$").fill_null(False).to_numpy()
    if not shaped.any():
        return shaped
    raw = _byte_matrix(typed, 18)
    total = (raw[:, :17].astype(np.int32) - _ZERO) @ _WEIGHTS
    return shaped & (_CHECK[total % 11] != raw[:, 17])


def variants(typed: pl.Series) -> pl.DataFrame:
    """(row, candidate): every ID one substituted character or one adjacent swap away from `typed[row]` whose
    check character is right, `row` its position in `typed` (values of 17 digits and a digit or X; others
    give no variant). At most 35 per ID (the module's docstring counts them)."""
    parts = [_variants_of(typed.slice(start, _CHUNK), start) for start in range(0, typed.len(), _CHUNK)]
    return pl.concat(parts) if parts else pl.DataFrame(schema={"row": pl.Int64, "candidate": pl.String})


def _variants_of(typed: pl.Series, offset: int) -> pl.DataFrame:
    shaped = typed.str.contains(r"^[0-9]{17}[0-9X]$").fill_null(False).to_numpy()
    raw = _byte_matrix(typed, 18)[shaped]
    rows_of = np.flatnonzero(shaped)
    body = raw[:, :17].astype(np.int32) - _ZERO  # (n, 17) digits
    last = raw[:, 17]
    total = body @ _WEIGHTS
    rows: list[np.ndarray] = []
    ids: list[np.ndarray] = []

    # c1..c17 substituted: the typed check character must be right for the new body.
    changed = total[:, None, None] + _WEIGHTS[None, :, None] * (_DIGITS[None, None, :] - body[:, :, None])
    right = (_CHECK[changed % 11] == last[:, None, None]) & (_DIGITS[None, None, :] != body[:, :, None])
    r, pos, digit = np.nonzero(right)
    sub = raw[r].copy()
    sub[np.arange(r.size), pos] = (digit + _ZERO).astype(np.uint8)
    rows.append(r)
    ids.append(sub)

    # c18 substituted: the right check character (different from the typed one, unless the ID is right).
    check = raw.copy()
    check[:, 17] = _CHECK[total % 11]
    keep = check[:, 17] != last
    rows.append(np.flatnonzero(keep))
    ids.append(check[keep])

    # ci and ci+1 swapped inside the body (i = 1..16): the sum changes by (wi - wi+1) * (ci+1 - ci).
    a, b = body[:, :16], body[:, 1:]
    swapped = total[:, None] + (_WEIGHTS[:16] - _WEIGHTS[1:])[None, :] * (b - a)
    right = (a != b) & (_CHECK[swapped % 11] == last[:, None])
    r, i = np.nonzero(right)
    swap = raw[r].copy()
    swap[np.arange(r.size), i], swap[np.arange(r.size), i + 1] = raw[r, i + 1], raw[r, i]
    rows.append(r)
    ids.append(swap)

    # c17 and c18 swapped: c18 must be a digit (it becomes the body's last), and c17 the new check character.
    digit_last = last.astype(np.int32) - _ZERO
    new_total = total + _WEIGHTS[16] * (digit_last - body[:, 16])
    right = (last != _X) & (last != raw[:, 16]) & (_CHECK[new_total % 11] == raw[:, 16])
    across = raw[right].copy()
    across[:, 16], across[:, 17] = raw[right, 17], raw[right, 16]
    rows.append(np.flatnonzero(right))
    ids.append(across)

    row = np.concatenate(rows)
    matrix = np.concatenate(ids) if row.size else np.zeros((0, 18), dtype=np.uint8)
    return pl.DataFrame(
        {"row": pl.Series((rows_of[row] + offset).astype(np.int64), dtype=pl.Int64), "candidate": _strings(matrix, "c")}
    )


def name_key(name: pl.Expr) -> pl.Expr:
    """A name as compared with the enrollment name: full-width forms folded, every space removed; '' -> null."""
    key = fold_width(name).str.replace_all(r"\s+", "")
    return pl.when(key != "").then(key)


# Finds the enrollment rows (person_id, name) of the given candidate IDs: the distinct ones.
Enrolled = Callable[[pl.Series], pl.DataFrame]


def resolve(mistyped: pl.DataFrame, enrolled: Enrolled) -> pl.DataFrame:
    """Per row of `mistyped` (columns `typed_id`: the typed form of a mistyped ID, `name_key`: the row's name
    key or null), in its order: `id_candidates` (the number of persons of enrollment it could be),
    `resolved_person_id` (the one, if exactly one) and `other_name` (candidates left out for another name).
    """
    ids = mistyped.select(pl.col("typed_id").unique(maintain_order=True)).with_row_index("row")
    found = variants(ids["typed_id"])
    registered = enrolled(found["candidate"].unique()).select(
        pl.col("person_id").alias("candidate"), name_key(pl.col("name")).alias("enrolled_name")
    )
    per_id = (
        found.join(registered, on="candidate", how="inner")
        .join(ids.with_columns(pl.col("row").cast(pl.Int64)), on="row", how="inner")
        .select("typed_id", "candidate", "enrolled_name")
    )
    rows = mistyped.select("typed_id", "name_key").with_row_index("index")
    pairs = rows.join(per_id, on="typed_id", how="inner").with_columns(
        same_name=pl.col("name_key").is_null() | (pl.col("name_key") == pl.col("enrolled_name"))
    )
    # A person counts when one of its enrollment spells carries the row's name (or the row has none).
    persons = pairs.group_by("index", "candidate").agg(pl.col("same_name").any())
    counted = persons.group_by("index").agg(
        pl.col("candidate").filter("same_name").n_unique().alias("id_candidates"),
        pl.col("candidate").filter("same_name").first().alias("one"),
        (~pl.col("same_name")).sum().alias("other_name"),
    )
    return rows.join(counted, on="index", how="left", maintain_order="left").select(
        pl.col("id_candidates").fill_null(0).cast(pl.Int64),
        pl.when(pl.col("id_candidates") == 1).then(pl.col("one")).alias("resolved_person_id"),
        pl.col("other_name").fill_null(0).cast(pl.Int64),
    )


def outcome_reason() -> pl.Expr:
    """What the lookup found, said after the check-digit reason (over `resolve`'s columns)."""
    k, other = pl.col("id_candidates"), pl.col("other_name")
    other_names = pl.when(other > 0).then(pl.format(" ({} 个候选姓名不同 {} with another name)", other, other))
    return (
        pl.when(k == 1)
        .then(pl.lit(" — 已纠正 resolved: 参保登记中唯一候选 the one candidate in enrollment"))
        .when(k == 0)
        .then(pl.concat_str(pl.lit(" — 无匹配候选 no candidate"), other_names.fill_null("")))
        .otherwise(pl.format(" — 多个候选 {} candidates", k))
    )


_ENROLLED_SQL = """
SELECT DISTINCT e.person_id, e.name
FROM enrollment AS e
SEMI JOIN _fundwatch_candidates AS c ON e.person_id = c.candidate
"""


def enrolled_with(con: duckdb.DuckDBPyConnection) -> Enrolled:
    """The enrollment rows of `con` with given IDs, found by a join in DuckDB (enrollment is not read out)."""

    def lookup(candidates: pl.Series) -> pl.DataFrame:
        con.register("_fundwatch_candidates", pa.table({"candidate": candidates.cast(pl.String).to_arrow()}))
        try:
            found = pl.from_arrow(con.sql(_ENROLLED_SQL).to_arrow_table())
        finally:
            con.unregister("_fundwatch_candidates")
        assert isinstance(found, pl.DataFrame)
        return found

    return lookup


class Resolver:
    """The mistyped rows of the files read since the last `settle`, resolved and written at `settle`."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.pending: list[tuple[str, str, pl.DataFrame]] = []  # (dataset, file, mistyped rows of a batch)

    def add(self, dataset: str, file: str, mistyped: pl.DataFrame | None) -> None:
        if mistyped is not None and mistyped.height:
            self.pending.append((dataset, file, mistyped))

    def discard(self, file: str) -> None:
        """Forget the rows of a file that was rejected half-way (nothing of it stays)."""
        self.pending = [p for p in self.pending if p[1] != file]

    def settle(self, appends: Appender) -> None:
        """Resolve every pending row against the enrollment table of `con` (the appends flushed first, so the
        enrollment rows of this group are in it), then write their quarantine rows and the resolved rows."""
        if not self.pending:
            return
        appends.flush()
        by_dataset: dict[str, list[pl.DataFrame]] = {}
        for dataset, _, frame in self.pending:
            by_dataset.setdefault(dataset, []).append(frame)
        frames = {d: pl.concat(fs, how="vertical_relaxed") for d, fs in by_dataset.items()}
        keys = pl.concat(
            [
                f.select(
                    pl.col(TYPED).alias("typed_id"),
                    (name_key(pl.col("name")) if d in NAMED_DATASETS else pl.lit(None, pl.String)).alias("name_key"),
                )
                for d, f in frames.items()
            ]
        )
        found = resolve(keys, enrolled_with(self.con))
        start = 0
        for dataset, frame in frames.items():
            outcome = found.slice(start, frame.height)
            start += frame.height
            self._write(dataset, frame, outcome)
        self.pending = []

    def _write(self, dataset: str, frame: pl.DataFrame, found: pl.DataFrame) -> None:
        quarantine = (
            pl.concat([frame.select(QUARANTINE).unnest(QUARANTINE), found], how="horizontal")
            .with_columns(pl.col("reason") + outcome_reason())
            .drop("other_name")
        )
        append_frame(self.con, "quarantine", quarantine)
        resolved = (
            pl.concat([frame.drop(QUARANTINE, TYPED), found.select("resolved_person_id")], how="horizontal")
            .filter(pl.col("resolved_person_id").is_not_null())
            .with_columns(pl.col("resolved_person_id").alias("person_id"), pl.lit(True).alias("id_resolved"))
            .drop("resolved_person_id")
        )
        append_frame(self.con, dataset, resolved)
