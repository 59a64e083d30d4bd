"""pandera schemas of the normalised datasets, derived from `schemas.datasets`.

The normalisers turn what arrived into canonical values (or null with a parse
reason). These schemas then state what a *valid* canonical row is, per the
contract: required values present, codes in their code set, amounts > 0 where
the contract says so, 6-digit region codes, citizen IDs of 18 characters with
(the GB 11643 check digit is verified by the normaliser), plausible dates. Rows that fail go to
quarantine with the failed check translated into words by `describe_failure`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import pandera.polars as pa
import polars as pl

from schemas.datasets import BY_NAME, POLARS_TYPES, Column, code_sets

EARLIEST_PLAUSIBLE_DATE = dt.date(1900, 1, 1)
LATEST_PLAUSIBLE_DATE = dt.date(2099, 12, 31)

# The plausible window of dates and periods around a run's data date (`DateWindow`), in years.
DEFAULT_YEARS_BACK = 80
DEFAULT_YEARS_AHEAD = 1


@dataclass(frozen=True)
class DateWindow:
    """Where a run's dates and periods may plausibly lie: `years_back` before `as_of` to `years_ahead` after.

    The run's settings give the years (FUNDWATCH_PLAUSIBLE_YEARS_BACK / _AHEAD); a date outside is quarantined.
    """

    as_of: dt.date
    years_back: int = DEFAULT_YEARS_BACK
    years_ahead: int = DEFAULT_YEARS_AHEAD

    @classmethod
    def of(cls, value: DateWindow | dt.date) -> DateWindow:
        return value if isinstance(value, DateWindow) else cls(value)


def _checks(column: Column, window: DateWindow) -> list[pa.Check]:
    as_of = window.as_of
    checks: list[pa.Check] = []
    if column.kind == "id":
        # The check digit itself is the normaliser's to verify (`pipelines.ingest.normalize.citizen_id`: a value
        # exists only when it is right); recomputing it here cost 5% of ingestion (ADR 0009).
        checks.append(pa.Check.str_matches(r"^\d{17}[\dX]$", error="citizen ID must be 18 characters"))
    elif column.kind == "region":
        checks.append(pa.Check.str_matches(r"^\d{6}$", error="region code must be 6 digits"))
    elif column.kind == "period":
        checks.append(pa.Check.str_matches(r"^\d{4}(0[1-9]|1[0-2])$", error="period must be YYYYMM"))
    elif column.kind == "code":
        assert column.codes is not None
        checks.append(pa.Check.isin(sorted(code_sets()[column.codes]), error=f"code of {column.codes}"))
    elif column.kind in ("date", "timestamp"):
        latest = as_of if column.not_after_as_of else LATEST_PLAUSIBLE_DATE
        lo, hi = EARLIEST_PLAUSIBLE_DATE, latest
        if column.kind == "timestamp":
            lo = dt.datetime.combine(lo, dt.time())
            hi = dt.datetime.combine(hi, dt.time.max)
        checks.append(pa.Check.in_range(lo, hi, error=f"日期不合理 implausible date, expected between {lo} and {hi}"))
    elif column.kind == "money" and column.positive:
        checks.append(pa.Check.gt(Decimal("0"), error="金额须大于0 amount must be > 0"))
    elif column.kind == "integer":
        checks.append(pa.Check.ge(0, error="must not be negative"))
    return checks


@cache
def dataset_schema(dataset: str, window: DateWindow) -> pa.DataFrameSchema:
    """The pandera schema of one normalised dataset, for a run's date window."""
    spec = BY_NAME[dataset]
    return pa.DataFrameSchema(
        {
            c.name: pa.Column(
                POLARS_TYPES[c.kind],
                checks=_checks(c, window),
                nullable=not c.required,
                required=True,
            )
            for c in spec.columns
        },
        name=dataset,
        strict=False,
    )


def describe_failure(check: str | None, failure_case: object) -> str:
    """A pandera failure as a sentence an analyst reads in quarantine."""
    if check == "not_nullable":
        return "缺少必填值 missing required value"
    if check and check.startswith("isin"):
        return f"未知代码 unknown code: '{failure_case}'"
    return f"{check}: '{failure_case}'"


def failures(dataset: str, window: DateWindow | dt.date, frame: pl.DataFrame) -> pl.DataFrame:
    """Failed checks of `frame` as rows (index, column, reason); empty when all rows are valid."""
    try:
        dataset_schema(dataset, DateWindow.of(window)).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        schema_level = cases.filter(pl.col("index").is_null())
        if schema_level.height:
            raise ValueError(f"{dataset}: schema-level failure {schema_level.to_dicts()}") from err
        return cases.select(
            pl.col("index").cast(pl.Int64),
            pl.col("column").cast(pl.String),
            pl.struct("check", "failure_case")
            .map_elements(lambda r: describe_failure(r["check"], r["failure_case"]), return_dtype=pl.String)
            .alias("reason"),
        )
    return pl.DataFrame(schema={"index": pl.Int64, "column": pl.String, "reason": pl.String})
