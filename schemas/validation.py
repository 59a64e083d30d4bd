"""pandera schemas of the normalised datasets, derived from `schemas.datasets`.

The normalisers turn what arrived into canonical values (or null with a parse
reason). These schemas then state what a *valid* canonical row is, per the
contract: required values present, codes in their code set, amounts > 0 where
the contract says so, 6-digit region codes, citizen IDs of 18 characters (the GB 11643
check digit, the birth date and the division code are verified by the normaliser) born
in the plausible window of a birth, dates, timestamps and periods in the plausible window
of their column (`Column.window`) around the run's data date. Rows that fail go to
quarantine with the failed check translated into words by `describe_failure`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import pandera.backends.polars.builtin_checks  # noqa: F401  (registers the checks' Polars functions)
import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.datasets import BY_NAME, POLARS_TYPES, WINDOWS, Column, code_sets

# The plausible window of dates and periods around a run's data date (`DateWindow`), in years.
DEFAULT_YEARS_BACK = 80
DEFAULT_YEARS_AHEAD = 1


def years_from(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (earlier when negative); 29 February becomes the 28th in a common year."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


@dataclass(frozen=True)
class DateWindow:
    """Where a run's dates and periods may plausibly lie: `years_back` before `as_of` to `years_ahead` after.

    The run's settings give the years (FUNDWATCH_PLAUSIBLE_YEARS_BACK / _AHEAD); a column's kind of window
    (`schemas.datasets.WINDOWS`) may replace either. A date outside is quarantined.
    """

    as_of: dt.date
    years_back: int = DEFAULT_YEARS_BACK
    years_ahead: int = DEFAULT_YEARS_AHEAD

    @classmethod
    def of(cls, value: DateWindow | dt.date) -> DateWindow:
        return value if isinstance(value, DateWindow) else cls(value)

    def bounds(self, kind: str) -> tuple[dt.date, dt.date]:
        """The first and the last plausible day of a window of `kind` (a key of `WINDOWS`)."""
        back, ahead = WINDOWS[kind]
        back = self.years_back if back is None else back
        ahead = self.years_ahead if ahead is None else ahead
        return years_from(self.as_of, -back), years_from(self.as_of, ahead)


def _between(lo: object, hi: object, error: str) -> pa.Check:
    return pa.Check.in_range(lo, hi, error=f"{error}, expected between {lo} and {hi}")


def _id_born_between(lo: dt.date, hi: dt.date) -> pa.Check:
    """The birth date a canonical citizen ID encodes (characters 7-14, YYYYMMDD) lies in [lo, hi]."""
    first, last = pl.lit(lo.strftime("%Y%m%d")), pl.lit(hi.strftime("%Y%m%d"))
    return pa.Check(
        lambda data: data.lazyframe.select(pl.col(data.key).str.slice(6, 8).is_between(first, last)),
        error=f"身份证号出生日期不合理 implausible citizen ID, birth date not between {lo} and {hi}",
    )


def _checks(column: Column, window: DateWindow) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if column.kind == "id":
        # The check digit, the birth date's existence and the division code are the normaliser's to verify
        # (`pipelines.ingest.normalize.citizen_id`: a value exists only when they are right); recomputing the
        # check digit here cost 5% of ingestion (ADR 0009). Whether the person can be born then is a window's.
        checks.append(pa.Check.str_matches(r"^\d{17}[\dX]$", error="citizen ID must be 18 characters"))
        checks.append(_id_born_between(*window.bounds("birth")))
    elif column.kind == "region":
        checks.append(pa.Check.str_matches(r"^\d{6}$", error="region code must be 6 digits"))
    elif column.kind == "period":
        checks.append(pa.Check.str_matches(r"^\d{4}(0[1-9]|1[0-2])$", error="period must be YYYYMM"))
        lo, hi = window.bounds(column.window)
        checks.append(_between(lo.strftime("%Y%m"), hi.strftime("%Y%m"), "所属期不合理 implausible period"))
    elif column.kind == "code":
        assert column.codes is not None
        checks.append(pa.Check.isin(sorted(code_sets()[column.codes]), error=f"code of {column.codes}"))
    elif column.kind == "date":
        checks.append(_between(*window.bounds(column.window), "日期不合理 implausible date"))
    elif column.kind == "timestamp":
        lo, hi = window.bounds(column.window)
        # The bounds said as days: a time of day would put a ':' into the reason, where the view
        # v_quarantine_reasons ends the reason's phrase.
        checks.append(
            pa.Check.in_range(
                dt.datetime.combine(lo, dt.time()),
                dt.datetime.combine(hi, dt.time.max),
                error=f"时间不合理 implausible timestamp, expected between {lo} and {hi}",
            )
        )
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


def all_pass(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> bool:
    """Whether pandera would find nothing wrong with `frame`, asked in one go: every check's own function (the
    schema's, the same pandera runs) over one LazyFrame, collected together, nulls passing where the check ignores
    them, required values present, types as declared. Anything it cannot judge (a column missing, another type, an
    element-wise check) says False, and pandera is asked.

    pandera runs each check as queries of its own (a hundred collects for a dataset): for a batch of one payment
    (pre-payment screening's service, issue 15) that is most of the time, for a batch of a million rows nothing.
    tests/test_schemas.py holds the two to the same verdict on the valid and invalid rows of every dataset.
    """
    lazy = frame.lazy()
    verdicts: list[pl.LazyFrame] = []
    for name, column in schema.columns.items():
        if name not in frame.columns or frame.schema[name] != column.dtype.type:
            return False
        if not column.nullable:
            verdicts.append(lazy.select(pl.col(name).is_not_null().all()))
        for check in column.checks:
            if check.element_wise or not check.ignore_na:
                return False
            try:
                result = check._check_fn(PolarsData(lazy, name), **(check._check_kwargs or {}))
            except (KeyError, TypeError):  # a check pandera dispatches otherwise: let pandera run it
                return False
            if not isinstance(result, pl.LazyFrame) or len(result.collect_schema()) != 1:
                return False
            outcome = pl.col(result.collect_schema().names()[0])
            verdicts.append(
                pl.concat(
                    [result.select(outcome.alias("ok")), lazy.select(pl.col(name).is_null().alias("na"))],
                    how="horizontal",
                ).select((pl.col("ok") | pl.col("na")).all())
            )
    return all(bool(v.item()) for v in pl.collect_all(verdicts))


def failures(dataset: str, window: DateWindow | dt.date, frame: pl.DataFrame) -> pl.DataFrame:
    """Failed checks of `frame` as rows (index, column, reason); empty when all rows are valid."""
    schema = dataset_schema(dataset, DateWindow.of(window))
    if all_pass(schema, frame):
        return pl.DataFrame(schema={"index": pl.Int64, "column": pl.String, "reason": pl.String})
    try:
        schema.validate(frame, lazy=True)
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
