"""The analyst views (sql/views/): given a handful of rows, expect each view's rows (grain and numbers); every
view masks personal data with the SQL macros of sql/views/000_masking.sql exactly as
pipelines.present.masking does, on made-up strings and on the database of a run over the sample inbox."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.present import masking
from pipelines.present.labels import FILE_STATUSES
from pipelines.warehouse.session import connect
from pipelines.warehouse.views import create_macros, create_views, macro_names, view_files
from schemas.datasets import DATASETS
from tests.sample_run import sample_database

VIEWS = [
    "v_suspects_by_rule_region",
    "v_top_amounts",
    "v_persons_multiple_rules",
    "v_new_since_last_run",
    "v_quality_by_file",
    "v_quarantine_reasons",
    "v_missing_deliveries",
    "v_resolved_ids",
    "v_blacklist",
    "v_indicators",
    "v_early_warnings",
]

P1, P2, P3 = "330102195001010011", "330102195002020022", "330102195003030033"

RUNS = [
    # run_id, as_of, started_at, finished_at, status
    ("R1", dt.date(2026, 10, 1), dt.datetime(2026, 10, 1, 22), dt.datetime(2026, 10, 1, 22, 5), "succeeded"),
    ("R2", dt.date(2026, 11, 1), dt.datetime(2026, 11, 1, 22), dt.datetime(2026, 11, 1, 22, 5), "bad_input"),
    # started later but never finished (killed): not "the latest finished run"
    ("R3", dt.date(2026, 11, 2), dt.datetime(2026, 11, 2, 22), None, "running"),
]

SUSPECTS = [
    # suspect_id, rule, rule_name_zh, subject_id, person_id, region, amount, status, active, first_run_id
    ("S1", "DECEASED_PAID", "死亡后继续领取", P1, P1, "330100", "1000.00", "open", True, "R1"),
    ("S2", "DUP_BENEFIT", "重复领取待遇", P1, P1, "330100", "500.50", "under_verification", True, "R2"),
    ("S3", "DECEASED_PAID", "死亡后继续领取", P2, P2, "330100", "2000.00", "confirmed", True, "R2"),
    ("S4", "DECEASED_PAID", "死亡后继续领取", P3, P3, "330200", "300.00", "overdue", True, "R1"),
    ("S5", "DUP_BENEFIT", "重复领取待遇", P2, P2, "330200", "999.99", "dismissed", False, "R1"),
    ("S6", "RECON_CONTRIB", "征缴对账差异", "E1|110|202511", None, "330100", "2000.00", "open", True, "R3"),
    ("S7", "UNEMP_WHILE_EMPLOYED", "就业期间领取失业金", P1, P1, "330300", "100.00", "rectified", True, "R2"),
]

INGESTED = [
    # run_id, dataset, file, status, rows_loaded, rows_quarantined, reason
    ("R2", "contributions", "contributions/c1.csv", "loaded", 10, 2, None),
    (
        "R2",
        "contributions",
        "contributions/c_bad.csv",
        "rejected",
        0,
        0,
        "缺少必填列 missing required column(s): amount_due",
    ),
    ("R2", "benefit_payments", "benefit_payments/b.csv", "skipped", 0, 0, "same bytes"),
]

QUARANTINE = [
    # dataset, file, line, column, reason
    ("contributions", "contributions/c1.csv", 3, "period", "period: 所属期无法解析 unparseable period: '2025年13月'"),
    ("contributions", "contributions/c2.csv", 7, "period", "period: 所属期无法解析 unparseable period: '2025-00'"),
    (
        "contributions",
        "contributions/c1.csv",
        4,
        "scheme",
        "scheme: 未知代码 unknown code of scheme: '999'; period: 缺少必填值 missing required value",
    ),
    ("contributions", "contributions/c1.csv", 9, None, "wrong number of fields: expected 5, got 7"),
    (
        "enrollment",
        "enrollment/e.csv",
        2,
        "person_id",
        "person_id: 身份证号校验位错误 invalid citizen ID, wrong check digit (expected 4): '330603195908255733'",
    ),
    (
        "enrollment",
        "enrollment/e.csv",
        5,
        "person_id",
        "person_id: 身份证号校验位错误 invalid citizen ID, wrong check digit (expected 7): '330603195908255731'",
    ),
]


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    for run_id, as_of, started_at, finished_at, status in RUNS:
        con.execute(
            "INSERT INTO runs (run_id, as_of, started_at, finished_at, status) VALUES (?, ?, ?, ?, ?)",
            [run_id, as_of, started_at, finished_at, status],
        )
    for sid, rule, zh, subject, person, region, amount, status, active, first_run in SUSPECTS:
        con.execute(
            """
            INSERT INTO suspects (suspect_id, rule, rule_name_zh, subject_id, person_id, region_code,
                                  amount_at_risk, first_seen, last_seen, active, first_run_id, last_run_id, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, DATE '2026-10-01', DATE '2026-11-01', ?, ?, 'R2', ?)
            """,
            [sid, rule, zh, subject, person, region, Decimal(amount), active, first_run, status],
        )
    for i, (run_id, dataset, file, status, loaded, quarantined, reason) in enumerate(INGESTED):
        con.execute(
            """
            INSERT INTO ingested_files (run_id, dataset, file, sha256, status, rows_loaded, rows_quarantined,
                                        reason, ingested_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [run_id, dataset, file, f"sha{i}", status, loaded, quarantined, reason, dt.datetime(2026, 11, 1, 22, 1, i)],
        )
    for dataset, file, line, column, reason in QUARANTINE:
        con.execute(
            'INSERT INTO quarantine (run_id, dataset, file, line, "column", reason, raw) VALUES (?, ?, ?, ?, ?, ?, ?)',
            ["R2", dataset, file, line, column, reason, "{}"],
        )
    lineage = "'f.csv', 'R2'"
    con.execute(
        f"""
        INSERT INTO contributions (employer_id, scheme, period, amount_due, source_file, run_id)
        VALUES ('E1', '110', '202510', 1.00, {lineage}), ('E1', '110', '202511', 1.00, {lineage});
        INSERT INTO tax_collections (voucher_no, employer_id, scheme, period, amount_collected, source_file, run_id)
        VALUES ('V1', 'E1', '110', '202511', 1.00, {lineage});
        INSERT INTO benefit_payments (payment_id, person_id, period, amount, source_file, run_id)
        VALUES ('BP1', '{P1}', '202510', 1.00, {lineage});
        -- a mistyped future period (after the latest finished run's as_of month 202611) is ignored
        INSERT INTO payroll_withholding (employer_id, person_id, period, wage_income, source_file, run_id)
        VALUES ('E1', '{P1}', '202511', 1.00, {lineage}), ('E1', '{P2}', '202712', 1.00, {lineage});
        INSERT INTO medical_claims (claim_id, service_date, source_file, run_id)
        VALUES ('MC1', DATE '2025-11-15', {lineage});
        INSERT INTO death_records (person_id, death_date, source, source_file, run_id)
        VALUES ('{P1}', DATE '2025-09-03', 'police', {lineage});
        INSERT INTO operators (operator_id, role, source_file, run_id) VALUES ('OP1', 'business', {lineage});
        """
    )


@pytest.fixture
def con(tmp_path: Path):
    con = connect(tmp_path / "fundwatch.duckdb")
    _fill(con)
    assert create_views(con) == VIEWS
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, view: str, columns: str = "*") -> list[dict]:
    result = con.execute(f"SELECT {columns} FROM {view}")  # view names are this module's constants
    names = [d[0] for d in result.description]
    return [dict(zip(names, r, strict=True)) for r in result.fetchall()]


def test_every_view_file_states_its_grain_and_creation_is_repeatable(con: duckdb.DuckDBPyConnection) -> None:
    for path in view_files():
        head = path.read_text(encoding="utf-8").split("CREATE OR REPLACE VIEW")[0]
        assert head.startswith("-- ") and "one row per" in head, path.name
    assert create_views(con) == VIEWS  # a second run replaces them
    macros = {
        name
        for (name,) in con.execute(
            "SELECT function_name FROM duckdb_functions() WHERE function_type = 'macro' AND NOT internal"
        ).fetchall()
    }
    assert set(macro_names()) <= macros
    assert {"mask_id", "mask_account", "mask_text", "shown_subject"} <= set(macro_names())


def test_suspects_by_rule_region(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(
        con,
        "v_suspects_by_rule_region",
        "rule, region_code, suspects, amount_at_risk, open_count, under_verification_count, confirmed_count, "
        "overdue_count, rectified_count",
    )
    assert got == [
        dict(
            rule="DECEASED_PAID",
            region_code="330100",
            suspects=2,
            amount_at_risk=Decimal("3000.00"),
            open_count=1,
            under_verification_count=0,
            confirmed_count=1,
            overdue_count=0,
            rectified_count=0,
        ),
        dict(
            rule="DECEASED_PAID",
            region_code="330200",
            suspects=1,
            amount_at_risk=Decimal("300.00"),
            open_count=0,
            under_verification_count=0,
            confirmed_count=0,
            overdue_count=1,
            rectified_count=0,
        ),
        # the dismissed DUP_BENEFIT of 330200 stopped firing (inactive): not counted
        dict(
            rule="DUP_BENEFIT",
            region_code="330100",
            suspects=1,
            amount_at_risk=Decimal("500.50"),
            open_count=0,
            under_verification_count=1,
            confirmed_count=0,
            overdue_count=0,
            rectified_count=0,
        ),
        dict(
            rule="RECON_CONTRIB",
            region_code="330100",
            suspects=1,
            amount_at_risk=Decimal("2000.00"),
            open_count=1,
            under_verification_count=0,
            confirmed_count=0,
            overdue_count=0,
            rectified_count=0,
        ),
        dict(
            rule="UNEMP_WHILE_EMPLOYED",
            region_code="330300",
            suspects=1,
            amount_at_risk=Decimal("100.00"),
            open_count=0,
            under_verification_count=0,
            confirmed_count=0,
            overdue_count=0,
            rectified_count=1,
        ),
    ]


def test_top_amounts_ranks_active_suspects_with_ties(con: duckdb.DuckDBPyConnection) -> None:
    got = [(r["amount_rank"], r["suspect_id"]) for r in rows(con, "v_top_amounts")]
    assert got == [(1, "S3"), (1, "S6"), (3, "S1"), (4, "S2"), (5, "S4"), (6, "S7")]
    assert rows(con, "v_top_amounts LIMIT 1", "suspect_id") == [{"suspect_id": "S3"}]


def test_persons_multiple_rules(con: duckdb.DuckDBPyConnection) -> None:
    # P2 has two rules, but the DUP_BENEFIT one is inactive; P3 has one rule; S6 has no person.
    assert rows(con, "v_persons_multiple_rules", "person_id, rule_count, rules, findings, amount_at_risk") == [
        dict(
            person_id="330102********0011",  # masked (mask_id)
            rule_count=3,
            rules="DECEASED_PAID, DUP_BENEFIT, UNEMP_WHILE_EMPLOYED",
            findings=3,
            amount_at_risk=Decimal("1600.50"),
        )
    ]


def test_new_since_last_run_is_the_latest_finished_run(con: duckdb.DuckDBPyConnection) -> None:
    # R3 started later but has no finished_at: R2 is the latest finished run.
    assert rows(con, "v_new_since_last_run", "run_id, suspect_id, amount_at_risk") == [
        dict(run_id="R2", suspect_id="S3", amount_at_risk=Decimal("2000.00")),
        dict(run_id="R2", suspect_id="S2", amount_at_risk=Decimal("500.50")),
        dict(run_id="R2", suspect_id="S7", amount_at_risk=Decimal("100.00")),
    ]


def test_quality_by_file(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(
        con,
        "v_quality_by_file ORDER BY file",
        "run_id, as_of, file, status, status_zh, rows_loaded, rows_quarantined, quarantined_share, reason",
    )
    assert got == [
        dict(
            run_id="R2",
            as_of=dt.date(2026, 11, 1),
            file="benefit_payments/b.csv",
            status="skipped",
            status_zh="跳过",
            rows_loaded=0,
            rows_quarantined=0,
            quarantined_share=None,
            reason="same bytes",
        ),
        dict(
            run_id="R2",
            as_of=dt.date(2026, 11, 1),
            file="contributions/c1.csv",
            status="loaded",
            status_zh="载入",
            rows_loaded=10,
            rows_quarantined=2,
            quarantined_share=pytest.approx(0.1667),
            reason=None,
        ),
        dict(
            run_id="R2",
            as_of=dt.date(2026, 11, 1),
            file="contributions/c_bad.csv",
            status="rejected",
            status_zh="拒收",
            rows_loaded=0,
            rows_quarantined=0,
            quarantined_share=None,
            reason="缺少必填列 missing required column(s): amount_due",
        ),
    ]


def test_quarantine_reasons_by_kind(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(con, "v_quarantine_reasons", 'dataset, "column", reason_kind, reason_en, rows_quarantined, files')
    assert got == [
        dict(
            dataset="contributions",
            column="period",
            reason_kind="所属期无法解析",
            reason_en="unparseable period",
            rows_quarantined=2,
            files=2,
        ),
        # several reasons: the first, the one of "column", gives the kind
        dict(
            dataset="contributions",
            column="scheme",
            reason_kind="未知代码",
            reason_en="unknown code of scheme",
            rows_quarantined=1,
            files=1,
        ),
        # a line that could not be split into fields has no column; its kind is the text before ':'
        dict(
            dataset="contributions",
            column=None,
            reason_kind="wrong number of fields",
            reason_en="wrong number of fields",
            rows_quarantined=1,
            files=1,
        ),
        # the expected check digit differs per row but the kind is one
        dict(
            dataset="enrollment",
            column="person_id",
            reason_kind="身份证号校验位错误",
            reason_en="invalid citizen ID, wrong check digit",
            rows_quarantined=2,
            files=1,
        ),
    ]


def test_missing_deliveries(con: duckdb.DuckDBPyConnection) -> None:
    got = {
        r["dataset"]: r
        for r in rows(
            con,
            "v_missing_deliveries",
            "source, dataset, periodic, row_count, latest_period, latest_period_overall, months_behind, missing_latest",
        )
    }
    # one row per contract dataset, with the department the spec names
    assert [(d.name, d.source) for d in DATASETS] == [(name, r["source"]) for name, r in got.items()]
    # 202712 (payroll) lies after the latest finished run's month (202611): ignored
    assert {r["latest_period_overall"] for r in got.values()} == {"202511"}
    delivered = {name: (r["latest_period"], r["months_behind"], r["missing_latest"]) for name, r in got.items()}
    assert delivered["contributions"] == ("202511", 0, False)
    assert delivered["tax_collections"] == ("202511", 0, False)
    assert delivered["payroll_withholding"] == ("202511", 0, False)
    assert delivered["medical_claims"] == ("202511", 0, False)
    # delivered, but not the latest month
    assert delivered["benefit_payments"] == ("202510", 1, True)
    assert delivered["death_records"] == ("202509", 2, True)
    # no rows at all: listed, and missing
    for name in (
        "enrollment",
        "business_log",
        "fund_accounts",
        "finance_ledger",
        "bank_statements",
        "bank_disbursements",
    ):
        assert got[name]["row_count"] == 0 and delivered[name] == (None, None, True), name
    # a registry without periods (enrollment, operators, fund_accounts) is missing only when empty
    assert got["operators"]["periodic"] is False and got["enrollment"]["periodic"] is False
    assert delivered["operators"] == (None, None, False)


def test_file_status_labels_are_those_of_the_present_labels(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM ingested_files")
    for i, code in enumerate(FILE_STATUSES):
        con.execute(
            "INSERT INTO ingested_files (run_id, dataset, file, sha256, status, rows_loaded, rows_quarantined, "
            "ingested_at) VALUES ('R2', 'contributions', ?, ?, ?, 0, 0, now())",
            [f"f{i}.csv", f"sha{i}", code],
        )
    got = dict(con.execute("SELECT status, status_zh FROM v_quality_by_file").fetchall())
    assert got == {code: status.zh for code, status in FILE_STATUSES.items()}
    assert got["replaced"] == "替换"


# ---- masking: every v_* view shows personal data as pipelines.present.masking does -------------------------

ACCOUNT = "6217330002145882303"
P4 = "33010219601224002X"


def test_views_mask_ids_accounts_and_free_text(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        INSERT INTO suspects (suspect_id, rule, rule_name_zh, subject_id, person_id, region_code, amount_at_risk,
                              first_seen, last_seen, active, first_run_id, last_run_id, status, summary)
        VALUES
            ('S8', 'SHARED_ACCOUNT', '多人共用收款账户', ?, NULL, '330100', 5000.00, DATE '2026-10-01',
             DATE '2026-11-01', true, 'R2', 'R2', 'open', ?),
            ('S9', 'DUP_BENEFIT', '重复领取待遇', ?, ?, '330100', 4000.00, DATE '2026-10-01',
             DATE '2026-11-01', true, 'R2', 'R2', 'open', ?),
            ('S10', 'RECON_CONTRIB', '征缴对账差异', 'DW330400900003|410|202506', NULL, '330100', 3000.00,
             DATE '2026-10-01', DATE '2026-11-01', true, 'R2', 'R2', 'open', '单位DW330400900003：差额3,000.00元')
        """,
        [
            ACCOUNT,
            f"银行账号{ACCOUNT}收到{P1}、{P2}的待遇",
            P4,
            P4,
            f"{P4}重复领取，打入{ACCOUNT}",
        ],
    )
    con.execute(
        'INSERT INTO quarantine (run_id, dataset, file, line, "column", reason, raw) VALUES '
        "('R2', 'aaa', 'aaa/x.csv', 1, 'person_id', ?, '{}')",
        [f"person_id: 身份证号校验位错误 invalid citizen ID, wrong check digit (expected 4): '{P3}'"],
    )
    con.execute(
        "UPDATE ingested_files SET reason = ? WHERE file = 'benefit_payments/b.csv'", [f"重复报送 copy of {ACCOUNT}"]
    )
    top = {r["suspect_id"]: r for r in rows(con, "v_top_amounts", "suspect_id, subject_id, person_id, summary")}
    assert top["S8"] == dict(
        suspect_id="S8",
        subject_id="***************2303",
        person_id=None,
        summary="银行账号***************2303收到330102********0011、330102********0022的待遇",
    )
    assert top["S9"] == dict(
        suspect_id="S9",
        subject_id="330102********002X",
        person_id="330102********002X",
        summary="330102********002X重复领取，打入***************2303",
    )
    assert top["S10"]["subject_id"] == "DW330400900003|410|202506"  # not personal: as it is
    new = {r["suspect_id"]: r for r in rows(con, "v_new_since_last_run", "suspect_id, subject_id, person_id, summary")}
    assert new["S8"] == top["S8"] and new["S9"] == top["S9"]
    assert rows(con, "v_persons_multiple_rules", "person_id") == [{"person_id": "330102********0011"}]
    reasons = rows(con, "v_quarantine_reasons WHERE dataset = 'aaa'", "example_reason")
    assert reasons == [
        {
            "example_reason": "person_id: 身份证号校验位错误 invalid citizen ID, wrong check digit "
            "(expected 4): '330102********0033'"
        }
    ]
    quality = rows(con, "v_quality_by_file WHERE file = 'benefit_payments/b.csv'", "reason")
    assert quality == [{"reason": "重复报送 copy of ***************2303"}]
    # the tables keep the full values
    assert con.execute("SELECT subject_id FROM suspects WHERE suspect_id = 'S8'").fetchone() == (ACCOUNT,)


def _random_id(rng: random.Random) -> str:
    region = rng.choice(["330102", "330603", "110101", "440305", "331021"])
    birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(365 * 80))
    if rng.random() < 0.2:  # the legacy 15-digit form
        return f"{region}{birth:%y%m%d}{rng.randrange(1000):03d}"
    return f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}{rng.choice('0123456789Xx')}"


def _random_text(rng: random.Random) -> str:
    pieces = [
        lambda: _random_id(rng),
        lambda: "".join(rng.choice("0123456789") for _ in range(rng.randint(8, 35))),  # account-like or not
        lambda: "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 9))),
        lambda: rng.choice(["账号", "收到", "，", "、", " ", "\n", "'", ": ", "（", ")", "*", "**", "-", "|"]),
        lambda: rng.choice(["a", "X", "bank:", "DW", "PZ2025P", "元"]),
    ]
    return "".join(rng.choice(pieces)() for _ in range(rng.randint(0, 7)))


def test_masking_macros_equal_the_python_policy_on_random_inputs() -> None:
    """Property-style: thousands of made-up texts, IDs and accounts, glued in every order (an ID beside
    digits, a letter or a star), masked by the SQL macros and by pipelines.present.masking alike."""
    rng = random.Random(20261127)
    texts = [_random_text(rng) for _ in range(3000)]
    values = [_random_id(rng) for _ in range(500)] + [
        "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 25))) for _ in range(500)
    ]
    # DUP_IDENTITY's subjects: two or three IDs joined by '|' (one person under several IDs)
    joined = ["|".join(sorted(_random_id(rng) for _ in range(rng.randint(2, 3)))) for _ in range(200)]
    subjects = [
        (rng.choice(["SHARED_ACCOUNT", "DUP_BENEFIT", "RECON_CONTRIB", "SOD_BREACH", "DUP_IDENTITY"]), subject, person)
        for subject, person in (
            (v, rng.choice([v, None, _random_id(rng)])) for v in values + joined + ["DW330400900003|410|202506", "YW1"]
        )
    ]
    con = duckdb.connect()
    try:
        create_macros(con)
        got = con.execute("SELECT v, mask_text(v) FROM (SELECT unnest(?) AS v)", [texts]).fetchall()
        assert sorted(got) == sorted((t, masking.mask_text(t)) for t in texts)
        got = con.execute(
            "SELECT v, mask_id(v), mask_account(v), is_citizen_id(v) FROM (SELECT unnest(?) AS v)", [values]
        ).fetchall()
        expected = [(v, masking.mask_id(v), masking.mask_account(v), masking.is_citizen_id(v)) for v in values]
        assert sorted(got) == sorted(expected)
        got = con.execute(
            "SELECT s.r, s.v, s.p, shown_subject(s.r, s.v, s.p) "
            "FROM (SELECT unnest(?) AS r, unnest(?) AS v, unnest(?) AS p) AS s",
            [[r for r, _, _ in subjects], [v for _, v, _ in subjects], [p for _, _, p in subjects]],
        ).fetchall()
        expected = [
            (r, v, p, masking.shown_subject({"rule": r, "subject_id": v, "person_id": p})) for r, v, p in subjects
        ]
        assert sorted(got, key=repr) == sorted(expected, key=repr)
    finally:
        con.close()
    # a subject of several IDs shows none of them in full
    shown = [masking.shown_subject({"rule": "DUP_IDENTITY", "subject_id": v, "person_id": None}) for v in joined]
    assert all(masking.is_citizen_id(p) for v in joined for p in v.split("|"))
    assert not [v for v in shown if _ID_SHAPED.search(v)] and all(v.count("|") >= 1 for v in shown)
    # the inputs did exercise every branch
    assert any(masking.mask_text(t) != masking.mask_ids_in_text(t) for t in texts)  # an account masked
    assert any(masking.mask_ids_in_text(t) != t for t in texts)  # an ID masked
    assert any(masking.mask_text(t) == t and re.search(r"\d{10}", t) for t in texts)  # digits left as they are


# ---- the sample run ------------------------------------------------------------------------------------------

_ID_SHAPED = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_DIGIT_RUNS = re.compile(r"[0-9Xx]{10,}")


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_database(tmp_path_factory)


def _personal_data(con: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str]]:
    """Every citizen ID and every personal bank account the sample's database holds."""
    id_columns = con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() WHERE column_name = 'person_id' "
        "AND table_name NOT LIKE 'v\\_%' ESCAPE '\\'"
    ).fetchall()
    ids: set[str] = set()
    for schema, table, column in id_columns:  # also the evidence lookup's copies (schema evidence_lookup)
        found = con.execute(f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL')
        ids |= {r[0] for r in found.fetchall()}
    for (text,) in con.execute("SELECT raw || ' ' || reason FROM quarantine").fetchall():
        ids |= set(_ID_SHAPED.findall(text))
    accounts = {
        r[0]
        for r in con.execute(
            "SELECT bank_account FROM benefit_payments UNION SELECT bank_account FROM bank_disbursements "
            "UNION SELECT subject_id FROM suspects WHERE rule = 'SHARED_ACCOUNT'"
        ).fetchall()
        if r[0]
    }
    return ids, accounts


def _leaks(values: list[str], ids: set[str], accounts: set[str]) -> list[str]:
    """The values that show a full citizen ID or a full personal account (or anything shaped like an ID)."""
    found = []
    lengths = {len(a) for a in accounts} | {18, 15}
    for value in values:
        runs = _DIGIT_RUNS.findall(value)
        windows = {run[i : i + n] for run in runs for n in lengths for i in range(len(run) - n + 1)}
        if windows & (ids | accounts) or _ID_SHAPED.search(value):
            found.append(value)
    return found


def _string_values(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    columns = [r[0] for r in con.execute(f'DESCRIBE "{relation}"').fetchall()]
    values = []
    for column in columns:
        query = f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{relation}" WHERE "{column}" IS NOT NULL'
        values += [r[0] for r in con.execute(query).fetchall()]
    return values


@pytest.mark.slow
def test_no_view_of_the_sample_shows_a_full_id_or_account(sample_db: Path) -> None:
    with duckdb.connect(str(sample_db), read_only=True) as con:
        ids, accounts = _personal_data(con)
        assert len(ids) > 1000 and len(accounts) > 500
        views = [
            r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()
        ]
        assert views == sorted(VIEWS)
        shown = {view: _string_values(con, view) for view in views}
        # the scan finds what the tables hold in full (the views' sources): it would see a leak
        assert _leaks(_string_values(con, "suspects"), ids, accounts)
    assert all(shown[v] for v in ("v_top_amounts", "v_quality_by_file", "v_quarantine_reasons"))
    assert {view: _leaks(values, ids, accounts) for view, values in shown.items()} == {view: [] for view in views}


@pytest.mark.slow
def test_the_sample_views_mask_as_the_python_policy(sample_db: Path) -> None:
    with duckdb.connect(str(sample_db), read_only=True) as con:
        ids, accounts = _personal_data(con)
        sql = con.execute(
            "SELECT v, mask_id(v), mask_account(v), mask_text(v) FROM (SELECT unnest(?) AS v)",
            [sorted(ids | accounts)],
        ).fetchall()
        assert sql == [
            (v, masking.mask_id(v), masking.mask_account(v), masking.mask_text(v)) for v in sorted(ids | accounts)
        ]
        texts = [
            r[0]
            for r in con.execute(
                "SELECT summary FROM suspects UNION ALL SELECT reason FROM quarantine "
                "UNION ALL SELECT reason FROM ingested_files WHERE reason IS NOT NULL"
            ).fetchall()
        ]
        got = con.execute("SELECT v, mask_text(v) FROM (SELECT unnest(?) AS v)", [texts]).fetchall()
        assert got == [(t, masking.mask_text(t)) for t in texts]
        suspects = con.execute(
            "SELECT suspect_id, rule, subject_id, person_id, summary FROM suspects WHERE active ORDER BY suspect_id"
        ).fetchall()
        shown = con.execute(
            "SELECT suspect_id, rule, subject_id, person_id, summary FROM v_top_amounts ORDER BY suspect_id"
        ).fetchall()
    expected = [
        (
            sid,
            rule,
            masking.shown_subject({"rule": rule, "subject_id": subject, "person_id": person}),
            None if person is None else masking.mask_id(person),
            masking.mask_text(summary),
        )
        for sid, rule, subject, person, summary in suspects
    ]
    assert shown == expected
    assert any(rule == "SHARED_ACCOUNT" for _, rule, *_ in shown) and any(p for *_, p, _ in shown)
