"""The queue and the person page read less since issue 13's page benchmark, and must read the same:

* the queue is filtered, counted, sorted and paged by the register (SQLite: `casework.case_conditions`,
  `reg.case_rows`) instead of reading every case into Polars per request. Held here against that Polars
  pipeline (the reference below, as the queue had it), for every kind of staff member, filter, sort, direction
  and page, over a register with cases in every state, overdue ones, regions reassigned, amounts tied and
  amounts in every form a Decimal takes;
* the derived flags (逾期 overdue, report_overdue) come from SQL, `cases_frame` included: held against the
  Polars formula they replace;
* the person page reads each large table once and makes its header from those rows (`evidence.person_summary`
  given the rows read): held equal to `evidence.person_summary` asking for itself, and its accounts and months
  to the queries they replace, for every person of the test world.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.cases import casework, evidence
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.present.masking import mask_account
from pipelines.web import casepages, personpages
from tests.cases.test_evidence import citizen
from tests.web.conftest import World

ASSIGNED_ON = dt.date(2026, 1, 5)
TODAY = dt.date(2026, 3, 2)  # after the 整改期限 of the cases assigned on ASSIGNED_ON: those not closed are overdue
# Amounts as a Decimal may be written: the queue must order and bound them as Decimal(18, 2) does.
ODD_AMOUNTS = ("1234.5", "77", "1E+3", "0.10", "-5.00", ".50", "910.00")


# ---- the reference: the queue as it was, in Polars -----------------------------------------------------------


def reference_frame(con: sqlite3.Connection, as_of: dt.date) -> pl.DataFrame:
    """`reg.cases_frame` as it was: the flags derived in Polars."""
    day = as_of.isoformat()
    frame = reg.query_frame(con, "SELECT * FROM cases ORDER BY suspect_id")
    return frame.with_columns(
        (pl.col("due_date").is_not_null() & (pl.col("due_date") < day) & ~pl.col("status").is_in(reg.CLOSED))
        .fill_null(False)
        .alias("overdue"),
        (pl.col("report_due").is_not_null() & pl.col("reported_on").is_null() & (pl.col("report_due") < day))
        .fill_null(False)
        .alias("report_overdue"),
    )


def reference_queue(con, member, wanted, today, sort, descending, page):
    frame = casework.filter_cases(casework.visible_to(reference_frame(con, today), member), wanted)
    key = {
        "amount": casework.amount_column(),
        "due": pl.col("due_date"),
        "first_seen": pl.col("first_seen"),
        "suspect_id": pl.col("suspect_id"),
    }[sort]
    frame = frame.sort([key, pl.col("suspect_id")], descending=[descending, False], nulls_last=True)
    total = frame.height
    pages = max(1, -(-total // casepages.PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = frame.slice((page - 1) * casepages.PAGE_SIZE, casepages.PAGE_SIZE)
    return total, page, pages, shown["suspect_id"].to_list(), shown["overdue"].to_list()


# ---- a register with cases in every state ------------------------------------------------------------------


@pytest.fixture
def worked(world: World) -> World:
    """The world's 20 cases worked: assigned (one to a verifier of another region than its finding's), verified,
    partly recovered, written off, dismissed; due dates passed by TODAY; amounts tied and in odd forms."""
    on, day = ASSIGNED_ON, ASSIGNED_ON
    con = reg.open_register(world.register, create=False)
    try:
        cases = con.execute("SELECT suspect_id, region_code FROM cases ORDER BY suspect_id").fetchall()
        ours = [sid for sid, region in cases if region == "330100"]
        theirs = [sid for sid, region in cases if region != "330100"]
        reg.assign(con, ours[0], assignee="V01", by="chief", on=on, today=day)
        reg.assign(con, ours[1], assignee="V02", by="chief", on=on, today=day)
        reg.verify(con, ours[1], by="V02", on=on, today=day)
        reg.assign(con, ours[2], assignee="V01", by="chief", on=on, today=day)
        reg.verify(con, ours[2], by="V01", on=on, today=day)
        reg.rectify(con, ours[2], by="V01", on=on, today=day, recovered=Decimal("1.00"))
        reg.assign(con, ours[3], assignee="V01", by="chief", on=on, today=day)
        reg.dismiss(con, ours[3], by="V01", on=on, today=day, reason="核实无误")
        reg.assign(con, ours[4], assignee="chief", by="chief", on=on, today=day)
        reg.verify(con, ours[4], by="chief", on=on, today=day)
        reg.write_off(con, ours[4], by="chief", on=on, today=day, reason="无法追回")
        # a case of another region, assigned to a verifier of 330100: theirs now, by assigned region
        reg.assign(con, theirs[0], assignee="V01", by="chief", on=on, today=day, region_code="330100")
        reg.assign(con, theirs[1], assignee="V99", by="chief", on=on, today=day, region_code="330200")
        with reg.write_transaction(con):
            # odd amount forms (never written by a run, read all the same), and a tie at 910.00
            for sid, amount in zip(ours[5:] + theirs[2:], ODD_AMOUNTS, strict=False):
                con.execute("UPDATE cases SET amount_at_risk = ? WHERE suspect_id = ?", [amount, sid])
    finally:
        con.close()
    return world


def members(con: sqlite3.Connection) -> list[staff_register.Staff]:
    return [staff_register.find(con, s) for s in ("chief", "V01", "V99", "AUD", "ADM")]  # type: ignore[misc]


def filters(con: sqlite3.Connection) -> list[casework.CaseFilter]:
    rules = [r for (r,) in con.execute("SELECT DISTINCT rule FROM cases ORDER BY 1")]
    regions = [r for (r,) in con.execute("SELECT DISTINCT region_code FROM cases WHERE region_code IS NOT NULL")]
    person, subject = con.execute(
        "SELECT person_id, subject_id FROM cases WHERE person_id IS NOT NULL AND subject_id <> person_id LIMIT 1"
    ).fetchone()
    amounts = [Decimal("0.10"), Decimal("0.5"), Decimal("77"), Decimal("910.00"), Decimal("1000"), Decimal("-5")]
    out = [casework.CaseFilter()]
    out += [casework.CaseFilter(rule=r) for r in rules]
    out += [casework.CaseFilter(region=r) for r in [*regions, "330100", "999999"]]
    out += [casework.CaseFilter(person=p) for p in (person, subject, "nobody")]
    statuses = ("open", "under_verification", "confirmed", "partially_recovered", "rectified", "dismissed")
    out += [casework.CaseFilter(status=s) for s in (*statuses, "overdue")]
    out += [casework.CaseFilter(min_amount=a) for a in amounts]
    out += [casework.CaseFilter(max_amount=a) for a in amounts]
    out += [casework.CaseFilter(min_amount=Decimal("0.10"), max_amount=Decimal("910.00"))]
    out += [casework.CaseFilter(due_before=d) for d in ("2026-02-01", "2026-02-16", "2026-12-31")]
    out += [
        casework.CaseFilter(rule=rules[0], region="330100", status="overdue"),
        casework.CaseFilter(region="330100", min_amount=Decimal("100"), due_before="2026-12-31"),
    ]
    return out


def test_the_queue_reads_what_the_polars_queue_read(worked, monkeypatch):
    monkeypatch.setattr(casepages, "PAGE_SIZE", 3)
    checked = seen_overdue = 0
    with reg.reader(worked.register) as con:
        everyone, wanted_all = members(con), filters(con)
        for member, wanted in itertools.product(everyone, wanted_all):
            for sort, descending in itertools.product(casepages.SORTS, (True, False)):
                for page in (1, 2, 4, 99):
                    got = casepages.queue(con, member, wanted, TODAY, sort, descending, page)
                    ids = [r["suspect_id"] for r in got.rows]
                    overdue = [r["overdue"] for r in got.rows]
                    want = reference_queue(con, member, wanted, TODAY, sort, descending, page)
                    assert (got.total, got.page, got.pages, ids, overdue) == want, (member.staff_id, wanted, sort)
                    checked += 1
                    seen_overdue += sum(overdue)
    assert checked == len(everyone) * len(wanted_all) * 8 * 4
    assert seen_overdue > 0  # the fixture did make overdue cases


def test_the_queue_s_filters_see_what_a_verifier_may_see_and_nothing_else(worked):
    with reg.reader(worked.register) as con:
        v01 = staff_register.find(con, "V01")
        admin = staff_register.find(con, "ADM")
        assert v01 is not None and admin is not None
        everything = casepages.queue(con, v01, casework.CaseFilter(), TODAY, "suspect_id", False, 1)
        frame = reg.cases_frame(con, TODAY)
        mine = [c for c in frame.iter_rows(named=True) if casework.may_see(v01, c)]
        assert everything.total == len(mine) == 20  # the 19 of 330100 and the one assigned to V01 from elsewhere
        assert casepages.queue(con, admin, casework.CaseFilter(), TODAY, "amount", True, 1).total == 0


def test_the_derived_flags_are_the_polars_formula_they_replace(worked):
    with reg.reader(worked.register) as con:
        for day in (dt.date(2026, 1, 5), dt.date(2026, 2, 16), dt.date(2026, 2, 17), TODAY, dt.date(2027, 1, 1)):
            new = reg.cases_frame(con, day)
            old = reference_frame(con, day)
            assert new.columns == old.columns
            assert new.dtypes == old.dtypes
            assert new.to_dicts() == old.to_dicts()
            one = old["suspect_id"][0]
            assert reg.cases_frame(con, day, one).to_dicts() == old.filter(pl.col("suspect_id") == one).to_dicts()
            rows = reg.case_rows(con, day)
            assert [{k: r[k] for k in old.columns} for r in rows] == old.to_dicts()
        assert reference_frame(con, TODAY)["overdue"].sum() > 0
        assert reference_frame(con, TODAY)["report_overdue"].sum() > 0


@pytest.mark.parametrize(
    "text",
    [
        "41220.00",
        "0.10",
        ".50",
        "-3.50",
        "-.50",
        "12.5",
        "77",
        "1E+3",
        "1.005",
        "1.015",
        "2.675",
        "0",
        "1234567890123456.78",
    ],
)
def test_an_amount_in_fen_is_what_a_cast_to_decimal_18_2_makes_of_it(text):
    expected = pl.Series([text]).cast(pl.Decimal(18, 2)).to_list()[0]
    assert reg.amount_fen(text) == int(expected * 100)
    con = sqlite3.connect(":memory:")
    reg._prepared(con)
    (in_sql,) = con.execute(f"SELECT {reg.fen_sql(':a')}", {"a": text}).fetchone()
    assert in_sql == int(expected * 100)
    assert isinstance(in_sql, int)


def test_what_is_not_an_amount_has_no_fen():
    for text in ("abc", "", " 5.00", "NaN", "Infinity", None):
        assert reg.amount_fen(text) is None


# ---- the person page --------------------------------------------------------------------------------------


def old_accounts(duck: duckdb.DuckDBPyConnection, person_id: str) -> list[dict]:
    """The accounts query the page had (one correlated count per account)."""
    cursor = duck.execute(
        "WITH mine AS (SELECT bank_account, count(*) AS payments, sum(amount) AS amount, min(period) AS first,"
        " max(period) AS last FROM benefit_payments WHERE person_id = ? GROUP BY bank_account)"
        " SELECT m.*, (SELECT count(DISTINCT b.person_id) FROM benefit_payments AS b"
        " WHERE b.bank_account = m.bank_account) - 1 AS others FROM mine AS m ORDER BY m.first, m.bank_account",
        [person_id],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def old_months(duck: duckdb.DuckDBPyConnection, person_id: str) -> dict[str, dict[str, Decimal]]:
    paid = duck.execute(
        "SELECT period, benefit_type, sum(amount) FROM benefit_payments WHERE person_id = ?"
        " GROUP BY period, benefit_type ORDER BY period, benefit_type",
        [person_id],
    ).fetchall()
    out: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for period, benefit, amount in paid:
        out[period][benefit] = Decimal(str(amount))
    return out


NEVER = citizen("33010219700707007")  # on two death notices and paid into two accounts, never enrolled


def more_people(db: Path) -> None:
    """The world and a person never enrolled (named by the earlier of two notices), paid into two accounts."""
    con = duckdb.connect(str(db))
    try:
        for day, name in (("2025-06-01", "甲某"), ("2025-05-01", "乙某")):
            con.execute(
                "INSERT INTO death_records SELECT * REPLACE (? AS person_id, ?::DATE AS death_date, ? AS name)"
                " FROM death_records LIMIT 1",
                [NEVER, day, name],
            )
        for n, (period, account) in enumerate((("202506", "6217000055550001"), ("202507", "6217000055550002"))):
            con.execute(
                "INSERT INTO benefit_payments SELECT * REPLACE (? AS payment_id, ? AS person_id, ? AS period,"
                " ? AS bank_account) FROM benefit_payments LIMIT 1",
                [f"PX{n}", NEVER, period, account],
            )
    finally:
        con.close()


def test_the_person_page_reads_each_table_once_and_shows_what_it_showed(published, tmp_path):
    db = tmp_path / "fw.duckdb"
    shutil.copy(published, db)
    more_people(db)
    duck = duckdb.connect(str(db), read_only=True)
    try:
        persons = sorted(
            {
                p
                for dataset in evidence.PERSON_DATASETS
                for (p,) in duck.execute(
                    f'SELECT DISTINCT person_id FROM "{dataset}" WHERE person_id IS NOT NULL'
                ).fetchall()
            }
        )
        assert len(persons) >= 5
        kinds = {"never enrolled": 0, "several accounts": 0, "shared account": 0}
        for person_id in [*persons, "110101199003070038"]:
            picture = personpages.picture(duck, person_id, TODAY)
            assert picture.summary == evidence.person_summary(duck, person_id), person_id
            old = old_accounts(duck, person_id)
            assert [
                {k: a[k] for k in ("payments", "amount", "first", "last", "others", "masked", "bank_account")}
                for a in picture.accounts
            ] == [{**a, "masked": mask_account(str(a["bank_account"]))} for a in old], person_id
            months = old_months(duck, person_id)
            assert [m["period"] for m in picture.months] == sorted(months)
            total = sum((v for cells in months.values() for v in cells.values()), Decimal(0))
            assert picture.grand_total == personpages.fmt_money(total)
            kinds["never enrolled"] += picture.summary["name_source"] not in (None, "enrollment")
            kinds["several accounts"] += len(old) > 1
            kinds["shared account"] += any(a["others"] > 0 for a in old)
        assert all(kinds.values()), kinds  # the world has each kind of person the page treats apart
    finally:
        duck.close()
