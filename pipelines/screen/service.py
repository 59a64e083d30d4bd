"""Screen a batch: every data row gets a verdict, its reasons in the contract's order and one Chinese sentence.

`screen` is what the command (`fundwatch screen`) and the service (POST /api/screen) both call: the batch
(`pipelines.screen.batch`), a read-only connection to the published file, the blacklist in force, the date.
`record` keeps the screening in the case register (`screenings`, `screening_counts`, `screening_holds`,
sql/cases/006_screening.sql) so that every held row can be adjudicated.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import polars as pl

from pipelines.cases import blacklist
from pipelines.cases import register as reg
from pipelines.screen import checks
from pipelines.screen.batch import Batch
from pipelines.screen.facts import Facts, has_lookup

PASS_EXPLANATION = "未发现暂停发放情形，准予发放。"
# What a result row holds (the contract's six first), in the order a result file shows them.
RESULT_COLUMNS = (
    "line",
    "payment_id",
    "person_id",
    "verdict",
    "reasons",
    "explanation",
    "region_code",
    "scheme",
    "benefit_type",
    "period",
    "amount",
    "bank_account",
)
# What a result file or a service response holds: the contract's columns and what identifies the payment; not the
# bank account (the payment system has it; a result file need not carry it again).
RESULT_FILE_COLUMNS = RESULT_COLUMNS[:-1]
BLACKLIST = pl.Schema({"kind": pl.String, "key": pl.String, "reason": pl.String, "added_at": pl.String})


@dataclass
class Screening:
    results: pl.DataFrame  # RESULT_COLUMNS, one row per data row of the batch, by line
    batch: Batch
    as_of: dt.date
    run_id: str | None

    @property
    def held(self) -> int:
        return int(self.results.filter(pl.col("verdict") == "hold").height)

    def by_reason(self) -> dict[str, int]:
        """Held rows per reason code, in the contract's order (a row with two reasons counts under each)."""
        codes = self.results["reasons"].drop_nulls().str.split(";").explode()
        return {code: int((codes == code).sum()) for code in checks.REASONS if (codes == code).any()}


@dataclass(frozen=True)
class Published:
    """What screening asks of a published file once, not per batch: the run it holds, whether it has the lookup."""

    run_id: str | None
    lookup: bool

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection) -> Published:
        return cls(published_run(con), has_lookup(con))


def published_run(con: duckdb.DuckDBPyConnection) -> str | None:
    """The run whose data the published file holds."""
    rows = con.execute(
        "SELECT run_id FROM runs WHERE status IN ('succeeded', 'bad_input') ORDER BY finished_at DESC NULLS LAST "
        "LIMIT 1"
    ).fetchall()
    return str(rows[0][0]) if rows else None


def blacklist_in_force(register: sqlite3.Connection) -> pl.DataFrame:
    """The blacklist's entries in force (`pipelines.cases.blacklist.in_force_frame`); none in a register older
    than the blacklist (opened read-only, it is not brought up to date)."""
    try:
        return blacklist.in_force_frame(register).select(BLACKLIST.names())
    except sqlite3.OperationalError as err:
        if "no such table" in str(err):
            return pl.DataFrame(schema=BLACKLIST)
        raise


def screen(
    batch: Batch,
    con: duckdb.DuckDBPyConnection,
    blacklist: pl.DataFrame,
    as_of: dt.date,
    published: Published | None = None,
) -> Screening:
    """Screen `batch` against the published file `con` reads (`published`: what is known of it already)."""
    published = published or Published.of(con)
    valid = batch.valid
    held = checks.holds(valid, Facts(con, published.lookup), blacklist, as_of)
    order = {code: i for i, code in enumerate(checks.REASONS)}
    per_line = (
        pl.DataFrame(schema={"line": pl.Int64, "reasons": pl.String, "explanation": pl.String})
        if held.height == 0  # every valid line passes (most payments): nothing to group
        else held.with_columns(pl.col("reason").replace_strict(order, return_dtype=pl.Int32).alias("rank"))
        .sort("line", "rank")
        .group_by("line", maintain_order=True)
        .agg(
            pl.col("reason").str.join(";").alias("reasons"),
            (pl.col("clause").str.join("；") + pl.lit("。")).alias("explanation"),
        )
    )
    checked = (
        valid.join(per_line, on="line", how="left")
        .with_columns(
            pl.when(pl.col("reasons").is_null()).then(pl.lit("pass")).otherwise(pl.lit("hold")).alias("verdict"),
            pl.col("explanation").fill_null(PASS_EXPLANATION),
        )
        .select(RESULT_COLUMNS)
    )
    invalid = batch.invalid.select(
        "line",
        "payment_id",
        "person_id",
        pl.lit("hold").alias("verdict"),
        pl.lit("INVALID").alias("reasons"),
        pl.format("数据无效：{}", pl.col("reason")).alias("explanation"),
    )
    results = pl.concat([checked, invalid], how="diagonal_relaxed").select(RESULT_COLUMNS).sort("line")
    return Screening(results, batch, as_of, published.run_id)


def _money(values: pl.Series | list[Decimal | None]) -> Decimal:
    """The exact sum of amounts (none missing counted)."""
    listed = values.to_list() if isinstance(values, pl.Series) else values
    return sum((v for v in listed if v is not None), Decimal("0.00")).quantize(Decimal("0.01"))


def screened_by(register: sqlite3.Connection, os_user: str) -> str:
    """Who screens from the command line: the staff member the OS account maps to, else 'os:<account>'."""
    row = register.execute("SELECT staff_id FROM staff WHERE os_user = ? AND active = 1", [os_user]).fetchone()
    return str(row[0]) if row else f"os:{os_user}"


def record(
    register: sqlite3.Connection, screening: Screening, *, batch_file: str, by: str, channel: str, at: str
) -> int:
    """Keep the screening, its counts per region and its held rows in the register (one transaction); its id."""
    results = screening.results
    held = results.filter(pl.col("verdict") == "hold")
    valid_held = held.filter(pl.col("amount").is_not_null())
    counts = (
        results.with_columns(pl.col("region_code").fill_null(""))
        .group_by("region_code")
        .agg(
            pl.len().alias("rows"),
            (pl.col("verdict") == "hold").sum().alias("held"),
            pl.col("amount"),
            pl.col("amount").filter(pl.col("verdict") == "hold").alias("held_amount"),
        )
        .sort("region_code")
    )
    with reg.write_transaction(register):
        cursor = register.execute(
            "INSERT INTO screenings (batch_file, sha256, screened_at, screened_by, channel, as_of, run_id, rows, held,"
            " amount, held_amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_file,
                screening.batch.sha256,
                at,
                by,
                channel,
                screening.as_of.isoformat(),
                screening.run_id,
                results.height,
                held.height,
                str(_money(results["amount"])),
                str(_money(valid_held["amount"])),
            ],
        )
        screening_id = int(cursor.lastrowid or 0)
        register.executemany(
            "INSERT INTO screening_counts (screening_id, region_code, rows, held, amount, held_amount)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    screening_id,
                    r["region_code"],
                    r["rows"],
                    r["held"],
                    str(_money(r["amount"])),
                    str(_money(r["held_amount"])),
                )
                for r in counts.iter_rows(named=True)
            ],
        )
        register.executemany(
            "INSERT INTO screening_holds (screening_id, line, payment_id, person_id, region_code, scheme, benefit_type,"
            " period, amount, bank_account, reasons, explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    screening_id,
                    r["line"],
                    r["payment_id"],
                    r["person_id"],
                    r["region_code"],
                    r["scheme"],
                    r["benefit_type"],
                    r["period"],
                    None if r["amount"] is None else str(r["amount"]),
                    r["bank_account"],
                    r["reasons"],
                    r["explanation"],
                )
                for r in held.iter_rows(named=True)
            ],
        )
    return screening_id
