"""Every reason to hold a payment (CONTRACT.md section 7) and its near miss, table-driven: a small published file,
a batch, the reasons each line must get (none: it passes). Every case runs twice: against the screening lookup a
run publishes, and against a file without it (the datasets read directly) — the verdicts must not differ."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from pipelines.screen import service
from tests.screen.world import AS_OF, D, batch_of, enrol, open_world, pay, person, publish

A, B, C, E = person(1), person(2), person(3), person(4)
NOBODY = person(9)
ENROLLED = [enrol(A), enrol(B), enrol(C), enrol(E)]
NO_BLACKLIST = pl.DataFrame(schema=service.BLACKLIST)


def death(who: str, day: dt.date, source: str = "police") -> dict[str, object]:
    return {"person_id": who, "name": None, "death_date": day, "source": source}


def custody(who: str, kind: str, start: dt.date, end: dt.date | None = None) -> dict[str, object]:
    return {"person_id": who, "name": None, "sentence_type": kind, "start_date": start, "end_date": end}


def wage(who: str, period: str, amount: str = "5000.00") -> dict[str, object]:
    return {"employer_id": "EMP1", "person_id": who, "period": period, "wage_income": Decimal(amount)}


# (name, published tables besides enrollment, batch rows, {line: reasons})
CASES = [
    # DECEASED: after the month of death, not funeral/survivor; the month of death itself is paid
    (
        "deceased",
        {"death_records": [death(A, D(2025, 3, 15))]},
        [
            pay(1, A, "202504"),
            pay(2, A, "202503"),
            pay(3, A, "202504", kind="funeral", scheme="110"),
            pay(4, A, "202505", kind="survivor"),
        ],
        {2: "DECEASED"},
    ),
    (
        "earliest death of any source",
        {"death_records": [death(A, D(2025, 6, 1), "civil"), death(A, D(2025, 2, 10), "health")]},
        [pay(1, A, "202503")],
        {2: "DECEASED"},
    ),
    # IN_CUSTODY: strictly after the admission month, strictly before the release month; stopping types only
    (
        "custody bounds",
        {"custody_records": [custody(A, "imprisonment", D(2025, 3, 10), D(2025, 8, 1))]},
        [pay(1, A, "202503"), pay(2, A, "202504"), pay(3, A, "202507"), pay(4, A, "202508")],
        {3: "IN_CUSTODY", 4: "IN_CUSTODY"},
    ),
    (
        "suspended sentence and surveillance do not stop a pension",
        {"custody_records": [custody(A, "suspended", D(2025, 1, 1)), custody(B, "surveillance", D(2025, 1, 1))]},
        [pay(1, A, "202506"), pay(2, B, "202506")],
        {},
    ),
    (
        "open custody, and only pensions",
        {"custody_records": [custody(A, "life", D(2024, 5, 2))]},
        [pay(1, A, "202601"), pay(2, A, "202601", kind="injury", scheme="410")],
        {2: "IN_CUSTODY"},
    ),
    # ALREADY_PAID: the same type and period paid already (pension schemes as one), or an earlier line
    (
        "already paid",
        {
            "benefit_payments": [
                pay(90, A, "202601", scheme="170"),
                pay(91, B, "202601", kind="unemployment", scheme="210"),
            ]
        },
        [
            pay(1, A, "202601", scheme="110"),
            pay(2, B, "202601"),
            pay(3, C, "202601"),
            pay(4, C, "202601"),
            pay(5, C, "202602"),
        ],
        {2: "ALREADY_PAID", 5: "ALREADY_PAID"},
    ),
    # EMPLOYED: a wage > 0 that month, or an active 110/120 spell with an employer
    (
        "employed",
        {
            "payroll_withholding": [wage(A, "202601"), wage(B, "202601", "0.00")],
            "enrollment": [
                enrol(C, "110", D(2020, 1, 1), None, "EMP9", n=2),
                enrol(E, "110", D(2020, 1, 1), D(2025, 12, 31), "EMP9", n=2),
                enrol(B, "170", D(2020, 1, 1), None, None, n=2),
            ],
        },
        [
            pay(1, A, "202601", kind="unemployment", scheme="210"),
            pay(2, B, "202601", kind="unemployment", scheme="210"),
            pay(3, C, "202601", kind="unemployment", scheme="210"),
            pay(4, E, "202601", kind="unemployment", scheme="210"),
            pay(5, E, "202512", kind="unemployment", scheme="210"),
        ],
        {2: "EMPLOYED", 4: "EMPLOYED", 6: "EMPLOYED"},
    ),
    # PENSIONER: a pension for that month paid already or in this batch (any line); adjacent months are fine
    (
        "pensioner",
        {"benefit_payments": [pay(90, A, "202601")]},
        [
            pay(1, A, "202601", kind="unemployment", scheme="210"),
            pay(2, A, "202602", kind="unemployment", scheme="210"),
            pay(3, B, "202601", kind="unemployment", scheme="210"),
            pay(4, B, "202601"),
        ],
        {2: "PENSIONER", 4: "PENSIONER"},
    ),
    # SHARED_ACCOUNT: 3+ persons on one account in one period, the paid ones and the batch's together
    (
        "shared account",
        {"benefit_payments": [pay(90, A, "202601", account="6217ACC1"), pay(91, B, "202601", account="6217ACC1")]},
        [
            pay(1, C, "202601", account="6217ACC1"),
            pay(2, A, "202601", account="6217ACC2", kind="injury", scheme="410"),
            pay(3, B, "202601", account="6217ACC2", kind="injury", scheme="410"),
            pay(4, C, "202602", account="6217ACC2"),
            pay(5, E, "202603", account="6217ACC2"),
        ],
        {2: "SHARED_ACCOUNT"},
    ),
    (
        "shared account formed by the batch alone",
        {},
        [
            pay(1, A, "202601", account="6217ACC3"),
            pay(2, B, "202601", account="6217ACC3"),
            pay(3, C, "202601", account="6217ACC3"),
        ],
        {2: "SHARED_ACCOUNT", 3: "SHARED_ACCOUNT", 4: "SHARED_ACCOUNT"},
    ),
    # UNKNOWN_PERSON: no enrollment spell at all
    ("unknown person", {}, [pay(1, NOBODY, "202601"), pay(2, A, "202601")], {2: "UNKNOWN_PERSON"}),
    # the contract's order, whatever order they are found in
    (
        "several reasons in order",
        {
            "death_records": [death(NOBODY, D(2025, 1, 5))],
            "custody_records": [custody(NOBODY, "detention", D(2024, 11, 1))],
            "benefit_payments": [pay(90, NOBODY, "202601", kind="pension")],
        },
        [pay(1, NOBODY, "202601")],
        {2: "DECEASED;IN_CUSTODY;ALREADY_PAID;UNKNOWN_PERSON"},
    ),
]


@pytest.fixture(params=[True, False], ids=["lookup", "datasets"])
def lookup(request) -> bool:
    return request.param


@pytest.mark.parametrize(("published", "rows", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_reasons(tmp_path, lookup, published, rows, expected):
    tables = {"enrollment": ENROLLED + published.get("enrollment", [])}
    tables |= {k: v for k, v in published.items() if k != "enrollment"}
    path = publish(tmp_path / "w.duckdb", tables, lookup=lookup)
    with open_world(path) as con:
        result = service.screen(batch_of(rows), con, NO_BLACKLIST, AS_OF).results
    got = {r["line"]: r["reasons"] for r in result.iter_rows(named=True) if r["verdict"] == "hold"}
    assert got == expected
    assert result["line"].to_list() == list(range(2, len(rows) + 2))
    passed = result.filter(pl.col("verdict") == "pass")
    assert passed["reasons"].is_null().all() and (passed["explanation"] == service.PASS_EXPLANATION).all()
    held = result.filter(pl.col("verdict") == "hold")
    # one sentence each, naming no citizen ID
    assert held["explanation"].str.count_matches("。").eq(1).all()
    for text in held["explanation"]:
        assert not any(p in text for p in (A, B, C, E, NOBODY)), text


def test_explanations_say_what_and_when(tmp_path):
    path = publish(
        tmp_path / "w.duckdb",
        {
            "enrollment": ENROLLED,
            "death_records": [death(A, D(2025, 3, 15))],
            "benefit_payments": [pay(90, B, "202601", "1000.00")],
        },
        lookup=True,
    )
    rows = [pay(1, A, "202505"), pay(2, B, "202601", "1000.00"), pay(3, C, "202601", account="6217000011112222")]
    rows += [pay(4, A, "202601", account="6217000011112222"), pay(5, E, "202601", account="6217000011112222")]
    with open_world(path) as con:
        result = service.screen(batch_of(rows), con, NO_BLACKLIST, AS_OF).results
    text = dict(zip(result["line"], result["explanation"], strict=True))
    assert text[2] == "2025年3月死亡（公安户籍注销，2025-03-15），本批次仍发放2025年5月基本养老金3,210.00元。"
    assert text[3] == "2026年1月基本养老金已发放（发放流水号P90，1,000.00元）。"
    assert "账户************2222在2026年1月将收到3人的待遇" in text[4]
    assert "6217000011112222" not in text[4]


def test_blacklist_persons_and_accounts(tmp_path):
    path = publish(tmp_path / "w.duckdb", {"enrollment": ENROLLED}, lookup=True)
    blacklist = pl.DataFrame(
        [
            ("person", A, "骗取养老金", "2026-11-02T10:00:00+08:00"),
            ("account", "6217BAD", "冒领账户", "2026-11-03T09:00:00+08:00"),
        ],
        schema=service.BLACKLIST,
        orient="row",
    )
    rows = [
        pay(1, A, "202601"),
        pay(2, B, "202601", account="6217BAD"),
        pay(3, C, "202601"),
        pay(4, A, "202601", account="6217BAD"),
    ]
    with open_world(path) as con:
        result = service.screen(batch_of(rows), con, blacklist, AS_OF).results
    got = dict(zip(result["line"], result["reasons"], strict=True))
    assert got == {2: "BLACKLISTED", 3: "BLACKLISTED", 4: None, 5: "ALREADY_PAID;BLACKLISTED"}
    explanation = dict(zip(result["line"], result["explanation"], strict=True))
    assert "收款人已列入黑名单（骗取养老金，2026-11-02列入）" in explanation[2]
    assert "收款账户已列入黑名单（冒领账户，2026-11-03列入）" in explanation[3]


def test_an_open_job_runs_through_the_month_screened(tmp_path):
    """Screened before the month begins (as of 2026-11-27 for December), an open job is still a job then."""
    path = publish(
        tmp_path / "w.duckdb",
        {"enrollment": ENROLLED + [enrol(A, "120", D(2026, 12, 10), None, "EMP2", n=2)]},
        lookup=True,
    )
    rows = [pay(1, A, "202612", kind="unemployment", scheme="210")]
    with open_world(path) as con:
        result = service.screen(batch_of(rows), con, NO_BLACKLIST, AS_OF).results
    assert result["reasons"].to_list() == ["EMPLOYED"]


def test_the_lookup_is_rebuilt_only_where_its_dataset_changed(tmp_path):
    from pipelines.screen import facts
    from pipelines.warehouse.session import connect

    path = publish(tmp_path / "w.duckdb", {"enrollment": ENROLLED}, lookup=True)
    con = connect(path)
    try:
        assert facts.build(con).rebuilt == ()  # nothing new since `publish` built it
        con.execute(
            "INSERT INTO ingested_files (run_id, dataset, file, sha256, status, ingested_at)"
            " VALUES ('r2', 'benefit_payments', 'benefit_payments/a.csv', 'abc', 'loaded', now())"
        )
        con.execute(f"INSERT INTO benefit_payments BY NAME SELECT * FROM (SELECT {pay_sql(A)})")
        again = facts.build(con)
        assert again.rebuilt == ("payments", "account_payments")
        assert again.rows["payments"] == 1 and again.rows["enrollment"] == len(ENROLLED)
        assert facts.build(con).rebuilt == ()
    finally:
        con.close()


def pay_sql(who: str) -> str:
    return (
        f"'P1' AS payment_id, '{who}' AS person_id, '330100' AS region_code, '110' AS scheme,"
        " 'pension' AS benefit_type, '202601' AS period, 10.00 AS amount, '6217' AS bank_account,"
        " 'benefit_payments/a.csv' AS source_file, 2 AS source_line, 'r2' AS run_id"
    )


def _every_table(tmp_path, lookup: bool):
    return publish(
        tmp_path / "w.duckdb",
        {
            "enrollment": ENROLLED,
            "death_records": [death(A, D(2025, 3, 15))],
            "custody_records": [custody(B, "detention", D(2024, 11, 1))],
            "benefit_payments": [pay(90, A, "202601", "1000.00"), pay(91, B, "202601", account="6217SHARED")],
            "payroll_withholding": [wage(A, "202601", "5000.00")],
        },
        lookup=lookup,
    )


def test_one_statement_for_a_few_keys_reads_what_each_table_reads(tmp_path, lookup):
    """`read_all` of one payment's keys (one statement, rows as lists) gives each table's frame exactly as `read`
    gives it (DuckDB's own conversion): the same types, the same rows."""
    from pipelines.screen import facts

    path = _every_table(tmp_path, lookup)
    persons = pl.DataFrame({"person_id": [A, B, C, None]})
    asked = {name: persons for name in ("payments", "enrollment", "deaths", "custody", "wages")}
    asked["account_payments"] = pl.DataFrame({"bank_account": ["6217SHARED", "NONE"], "period": ["202601"] * 2})
    with open_world(path) as con:
        source = facts.Facts(con)
        assert source.lookup is lookup
        together = source.read_all(asked)
        for name, keys in asked.items():
            alone = source.read(name, keys)
            assert together[name].schema == alone.schema, name
            assert together[name].sort(alone.columns).equals(alone.sort(alone.columns)), name
        assert together["deaths"].height == 1 and together["custody"].height == 1
        assert together["account_payments"]["person_id"].to_list() == [B]
        assert together["wages"].height == 1 and together["payments"].height == 2


def test_the_lookup_reads_one_row_group_for_one_account(tmp_path):
    """The lookup is sorted by its key reversed (`_probe`): DuckDB keeps 8 bytes of a string's min/max, and
    300,000 accounts sharing their first 8 characters would otherwise be read whole for each one asked."""
    from pipelines.screen import facts
    from pipelines.warehouse.session import connect

    path = publish(tmp_path / "w.duckdb", {"enrollment": ENROLLED}, lookup=False)
    con = connect(path)
    try:
        con.execute(
            "INSERT INTO benefit_payments BY NAME SELECT 'P' || i AS payment_id, ? AS person_id,"
            " '330100' AS region_code, '110' AS scheme, 'pension' AS benefit_type, '202601' AS period,"
            " 10.00 AS amount, '62170000' || lpad(i::VARCHAR, 10, '0') AS bank_account,"
            " 'benefit_payments/a.csv' AS source_file, i AS source_line, 'r1' AS run_id FROM range(300000) AS r(i)",
            [A],
        )
        facts.build(con)
    finally:
        con.close()
    with open_world(path) as con:
        assert facts.has_lookup(con)
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute("PRAGMA profiling_output = ?", [str(tmp_path / "plan.json")])
        sql, params = facts.Facts(con, True)._literal("account_payments", [("621700000000123456", "202601")])
        assert con.execute(sql, params).fetchall() == [("621700000000123456", "202601", A)]
    scans = list(_scans(json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))))
    assert [(s["row_groups_scanned"], s["total_row_groups_to_scan"]) for s in scans] == [(1, 3)]


def _scans(node: dict):
    """The table scans of a DuckDB JSON profile."""
    for child in node.get("operator", []) + node.get("children", []):
        if child.get("type") == "TABLE_SCAN":
            yield child
        yield from _scans(child)


def test_a_lookup_keyed_by_the_reversed_key_is_not_read(tmp_path):
    """A file published by the fundwatch that sorted the lookup by the key reversed (a VARCHAR `_probe`) is read
    from its datasets: a hash asked of a reversed text would find nothing."""
    from pipelines.screen import facts

    path = _every_table(tmp_path, True)
    _alter(
        path,
        *(
            f"CREATE OR REPLACE TABLE {facts.SCHEMA}.{name} AS SELECT reverse({source.key[0]}) AS {facts.PROBE}, "
            f"* FROM ({source.select()})"
            for name, source in facts.SOURCES.items()
        ),
    )
    assert _reasons_without_the_lookup(path) == ["DECEASED;ALREADY_PAID"]


def test_a_lookup_hashed_by_another_duckdb_is_not_read_and_is_rebuilt(tmp_path, monkeypatch):
    """DuckDB does not promise hash() across versions: a lookup whose hash mark is not this DuckDB's is read from
    the datasets (the same reasons), and the next build rebuilds every table."""
    from pipelines.screen import facts
    from pipelines.warehouse.session import connect

    path = _every_table(tmp_path, True)
    _alter(path, f"UPDATE {facts.SCHEMA}._built SET signature = '1,2,3' WHERE name = '{facts.HASH_MARK}'")
    assert _reasons_without_the_lookup(path) == ["DECEASED;ALREADY_PAID"]
    con = connect(path)
    try:
        assert facts.build(con).rebuilt == ()  # the same DuckDB: the tables stand, the mark is written again
        assert facts.has_lookup(con)
        monkeypatch.setattr(facts, "hash_mark", lambda con: "another DuckDB")
        assert set(facts.build(con).rebuilt) == set(facts.SOURCES)
    finally:
        con.close()


def test_a_lookup_without_its_probe_is_not_read(tmp_path):
    """A file published before `_probe` (an older fundwatch) is read from its datasets, not wrongly."""
    from pipelines.screen import facts

    path = _every_table(tmp_path, True)
    _alter(path, f"ALTER TABLE {facts.SCHEMA}.payments DROP COLUMN {facts.PROBE}")
    assert _reasons_without_the_lookup(path) == ["DECEASED;ALREADY_PAID"]


def _alter(path, *statements: str) -> None:
    """Run statements on a published file (a lookup as another fundwatch or DuckDB left it)."""
    from pipelines.warehouse.session import connect

    con = connect(path)
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def _reasons_without_the_lookup(path) -> list[str]:
    """The reasons of one payment of person A screened from a file whose lookup is not read (checked)."""
    from pipelines.screen import facts

    with open_world(path) as con:
        assert not facts.has_lookup(con)
        result = service.screen(batch_of([pay(1, A, "202601", "1000.00")]), con, NO_BLACKLIST, AS_OF).results
    return result["reasons"].to_list()
