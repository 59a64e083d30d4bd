"""Mistyped citizen IDs resolved against enrollment (CONTRACT.md section 6): the variants of a mistyped ID against
a brute-force reference, the lookup table by table (substitution, adjacent swap, the check-digit position, two
candidates, none, names), then through the real loader (CSV files in an inbox -> DuckDB) and the rules."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.detect.engine import COMPARED_COLUMNS, detect_sql, run_rule
from pipelines.detect.stage import stage_datasets
from pipelines.ingest.inbox import discover
from pipelines.ingest.load import ingest_files
from pipelines.ingest.resolve import NAMED_DATASETS, is_mistyped, resolve, typed_form, variants
from pipelines.rules import BY_CODE, RULES
from pipelines.synth.ids import CHECK_CHARS, check_digit, is_valid_id
from pipelines.warehouse.session import RESOLVED_ID_DATASETS, connect, dataset_ddl
from pipelines.warehouse.views import create_views
from schemas.datasets import BY_NAME, DATASETS

AS_OF = dt.date(2026, 11, 27)
THRESHOLD = Decimal("100000.00")


def valid(first17: str) -> str:
    return first17 + check_digit(first17)


def substituted(pid: str, position: int, char: str) -> str:
    """`pid` with its character at `position` (0-based) replaced."""
    assert pid[position] != char
    return pid[:position] + char + pid[position + 1 :]


def swapped(pid: str, position: int) -> str:
    """`pid` with its characters at `position` and `position + 1` (0-based) swapped."""
    assert pid[position] != pid[position + 1]
    return pid[:position] + pid[position + 1] + pid[position] + pid[position + 2 :]


def reference_variants(typed: str) -> set[str]:
    """Every ID one substituted character or one adjacent swap away from `typed` that is right by GB 11643,
    by brute force (every character at every position, every pair; the check digit from the synthetic
    generator's own implementation)."""
    edits = {typed[:i] + c + typed[i + 1 :] for i in range(18) for c in "0123456789X"}
    edits |= {typed[:i] + typed[i + 1] + typed[i] + typed[i + 2 :] for i in range(17)}
    return {e for e in edits if e != typed and is_valid_id(e)}


def random_mistyped(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(17))
    return body + rng.choice([c for c in CHECK_CHARS if c != check_digit(body)])


# --- the variants --------------------------------------------------------------------------------------------


def test_variants_are_exactly_the_right_ids_one_edit_away_and_at_most_35():
    rng = random.Random(14)
    typed = [random_mistyped(rng) for _ in range(400)]
    typed += ["11010519491231002" + c for c in CHECK_CHARS if c != "X"]  # every wrong check character
    misplaced_x = ["1101051949123100X" + c for c in "0123456789"]  # not 17 digits: no ID to resolve, no variant
    found = variants(pl.Series(typed + misplaced_x))
    by_row = found.group_by("row").agg("candidate")
    got = {(typed + misplaced_x)[row]: set(candidates) for row, candidates in by_row.iter_rows()}
    for pid in typed:
        assert got.get(pid, set()) == reference_variants(pid), pid
    assert not set(got) & set(misplaced_x)
    assert found.height == found.unique().height  # no variant twice
    assert by_row["candidate"].list.len().max() <= 35


def test_at_most_one_substitution_per_body_position_and_one_at_the_check_position():
    rng = random.Random(11643)
    for _ in range(300):
        typed = random_mistyped(rng)
        changed = [
            [i for i in range(18) if c[i] != typed[i]] for c in variants(pl.Series([typed]))["candidate"].to_list()
        ]
        substitutions = [d[0] for d in changed if len(d) == 1]
        assert len(substitutions) == len(set(substitutions))  # one per position at most (9 distinct residues)
        assert substitutions.count(17) == 1  # the right check character, always
        assert all(len(d) == 1 or (len(d) == 2 and d[1] == d[0] + 1) for d in changed)


@pytest.mark.parametrize(
    ("edit", "typo"),
    [
        ("a body digit substituted", lambda pid: substituted(pid, 9, "7" if pid[9] != "7" else "8")),
        ("the check digit substituted", lambda pid: pid[:17] + ("0" if pid[17] != "0" else "1")),
        ("two body digits swapped", lambda pid: swapped(pid, 14)),
        ("the last body digit and the check digit swapped", lambda pid: swapped(pid, 16)),
    ],
)
def test_the_true_id_is_among_the_variants_of_each_kind_of_typo(edit, typo):
    true = valid("33010219500101051")  # ends in 5, check digit 6: every edit applies
    typed = typo(true)
    assert not is_valid_id(typed), edit
    assert true in variants(pl.Series([typed]))["candidate"].to_list()


def test_an_x_typed_into_the_body_is_not_a_mistyped_check_digit():
    pid = valid("11010519491231002")  # ...002X
    assert pid.endswith("X")
    across = pid[:16] + "X" + pid[16]  # the X swapped into the body: not 17 digits, not resolvable
    typed = pl.Series([pid, pid[:17] + "1", across, pid[:6] + pid[8:17], "abc", None])
    assert is_mistyped(typed).tolist() == [False, True, False, False, False, False]
    assert variants(pl.Series([across])).height == 0


def test_the_typed_form_folds_spaces_and_case():
    frame = pl.DataFrame({"id": [" 11010519491231002x ", "110105 19491231 0021"]})
    assert frame.select(typed_form(pl.col("id"))).to_series().to_list() == ["11010519491231002X", "110105194912310021"]


# --- the lookup ----------------------------------------------------------------------------------------------

A = valid("33010219500101051")  # the pensioner, 张伟
B = valid("33010219600202022")
TYPO_A = substituted(A, 9, "7")


def enrolled(*rows: tuple[str, str]):
    """An enrollment of (person_id, name) rows as `resolve` asks it: the rows of the given IDs."""
    frame = pl.DataFrame(rows, schema={"person_id": pl.String, "name": pl.String}, orient="row")

    def lookup(candidates: pl.Series) -> pl.DataFrame:
        return frame.filter(pl.col("person_id").is_in(candidates.implode())).unique()

    return lookup


def looked_up(typed: str, name: str | None, *enrollment: tuple[str, str]) -> dict:
    rows = pl.DataFrame(
        {"typed_id": [typed], "name_key": [name]}, schema={"typed_id": pl.String, "name_key": pl.String}
    )
    return resolve(rows, enrolled(*enrollment)).row(0, named=True)


def resolved(resolved_id: str | None, candidates: int, other_name: int = 0) -> dict:
    return {"id_candidates": candidates, "resolved_person_id": resolved_id, "other_name": other_name}


@pytest.mark.parametrize(
    ("case", "typed", "name", "enrollment", "expected"),
    [
        ("a substituted body digit", TYPO_A, None, [(A, "张伟"), (B, "李四")], resolved(A, 1)),
        ("two adjacent digits swapped", swapped(A, 14), None, [(A, "张伟")], resolved(A, 1)),
        ("the check digit mistyped", A[:17] + "0", None, [(A, "张伟")], resolved(A, 1)),
        ("last body digit and check digit swapped", swapped(A, 16), None, [(A, "张伟")], resolved(A, 1)),
        ("nobody one typo away", TYPO_A, None, [(B, "李四")], resolved(None, 0)),
        (
            "two persons one typo away",
            TYPO_A,
            None,
            [(A, "张伟"), (TYPO_A[:17] + check_digit(TYPO_A[:17]), "王五")],
            resolved(None, 2),
        ),
        ("the same name", TYPO_A, "张伟", [(A, "张伟")], resolved(A, 1)),
        ("another name blocks", TYPO_A, "王五", [(A, "张伟")], resolved(None, 0, other_name=1)),
        (
            "the name tells two candidates apart",
            TYPO_A,
            "王五",
            [(A, "张伟"), (TYPO_A[:17] + check_digit(TYPO_A[:17]), "王 五")],
            resolved(TYPO_A[:17] + check_digit(TYPO_A[:17]), 1, other_name=1),
        ),
        ("one of a person's spells under the name", TYPO_A, "张伟", [(A, "张卫"), (A, "张伟")], resolved(A, 1)),
        ("a person's spells counted once", TYPO_A, None, [(A, "张卫"), (A, "张伟")], resolved(A, 1)),
    ],
)
def test_resolve(case, typed, name, enrollment, expected):
    assert not is_valid_id(typed), case
    assert looked_up(typed, name, *enrollment) == expected, case


def test_resolve_keeps_the_rows_order_and_repeats():
    rows = pl.DataFrame(
        {"typed_id": [TYPO_A, swapped(B, 14), TYPO_A, TYPO_A], "name_key": [None, None, "王五", "张伟"]},
        schema={"typed_id": pl.String, "name_key": pl.String},
    )
    found = resolve(rows, enrolled((A, "张伟"), (B, "李四")))
    assert found["resolved_person_id"].to_list() == [A, B, None, A]
    assert found["id_candidates"].to_list() == [1, 1, 0, 1]


def test_the_scope_is_the_six_datasets_of_the_contract_and_the_named_ones():
    assert set(RESOLVED_ID_DATASETS) == {
        d.name for d in DATASETS if d.name != "enrollment" and any(c.name == "person_id" for c in d.columns)
    }
    assert set(NAMED_DATASETS) == {"death_records", "custody_records"}


# --- through the loader --------------------------------------------------------------------------------------

C = TYPO_A[:17] + check_digit(TYPO_A[:17])  # one typo away from TYPO_A, as A is: TYPO_A is ambiguous
D = valid("33010219700303033")  # never enrolled
NOTICE_TYPO = swapped(A, 14)  # the death notice's ID: two digits swapped
NOTICE_RAW = f"{NOTICE_TYPO[:6]} {NOTICE_TYPO[6:]}"  # as typed at the counter, with a space
PAYMENT_TYPO = A[:17] + ("0" if A[17] != "0" else "1")  # a payment's ID with a mistyped check digit

ENROLLMENT = (
    "enrollment_id,person_id,name,region_code,scheme,start_date\n"
    f"E1,{A},张伟,330100,110,1990-01-01\n"
    f"E2,{B},李四,330100,110,1990-01-01\n"
    f"E3,{C},王五,330100,110,1990-01-01\n"
)
PAYMENTS = (
    "payment_id,person_id,region_code,scheme,benefit_type,period,amount,bank_account\n"
    f"P1,{A},330100,110,pension,202501,1000.00,6222001\n"
    f"P2,{A},330100,110,pension,202502,1000.00,6222001\n"
    f"P3,{A},330100,110,pension,202503,1000.00,6222001\n"
    f"P4,{PAYMENT_TYPO},330100,110,pension,202504,1000.00,6222001\n"  # resolved to A
    f"P5,{TYPO_A},330100,110,pension,202504,500.00,6222002\n"  # A and C: ambiguous
    f"P6,{swapped(D, 14)},330100,110,pension,202504,500.00,6222003\n"  # nobody
    f"P7,{PAYMENT_TYPO},330100,110,pension,202504,-1.00,6222001\n"  # a second fault: not looked up
)
DEATHS = (
    "person_id,name,death_date,source\n"
    f"{NOTICE_RAW},张 伟,2025-02-10,police\n"  # A's, typed with two digits swapped; the name spaced
    f"{NOTICE_TYPO},王五,2025-02-10,civil\n"  # the same ID under another name: not A
)


def write(inbox: Path, rel: str, text: str) -> None:
    path = inbox / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def load(inbox: Path, db: Path, run_id: str = "r1") -> dict:
    con = connect(db)
    try:
        return {r.file: r for r in ingest_files(con, discover(inbox), run_id, AS_OF)}
    finally:
        con.close()


def query(db: Path, sql: str, params=None) -> list[tuple]:
    con = connect(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Path, Path, dict]:
    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    write(inbox, "enrollment/e.csv", ENROLLMENT)
    write(inbox, "benefit_payments/p.csv", PAYMENTS)
    write(inbox, "death_records/d.csv", DEATHS)
    return inbox, db, load(inbox, db)


def test_a_resolved_row_is_quarantined_and_loaded_with_the_enrolled_id(loaded):
    _, db, results = loaded
    assert [(r.rows_loaded, r.rows_quarantined) for r in results.values()] == [(3, 4), (0, 2), (3, 0)]
    assert query(
        db,
        "SELECT payment_id, person_id, person_id_raw, id_resolved, source_line FROM benefit_payments ORDER BY ALL",
    ) == [
        ("P1", A, None, False, 2),
        ("P2", A, None, False, 3),
        ("P3", A, None, False, 4),
        ("P4", A, PAYMENT_TYPO, True, 5),
    ]
    assert query(db, "SELECT person_id, name, person_id_raw, id_resolved, source_line FROM death_records") == [
        (A, "张 伟", NOTICE_RAW, True, 2)
    ]
    quarantine = query(
        db, 'SELECT file, line, "column", id_candidates, resolved_person_id, reason FROM quarantine ORDER BY ALL'
    )
    assert [q[:5] for q in quarantine] == [
        ("benefit_payments/p.csv", 5, "person_id", 1, A),
        ("benefit_payments/p.csv", 6, "person_id", 2, None),
        ("benefit_payments/p.csv", 7, "person_id", 0, None),
        ("benefit_payments/p.csv", 8, "person_id", None, None),  # and amount
        ("death_records/d.csv", 2, "person_id", 1, A),
        ("death_records/d.csv", 3, "person_id", 0, None),
    ]
    reasons = [q[5] for q in quarantine]
    assert all("wrong check digit" in r for r in reasons[:3] + reasons[4:])
    assert reasons[0].endswith("已纠正 resolved: 参保登记中唯一候选 the one candidate in enrollment")
    assert reasons[1].endswith("多个候选 2 candidates")
    assert reasons[2].endswith("无匹配候选 no candidate")
    assert reasons[5].endswith("无匹配候选 no candidate (1 个候选姓名不同 1 with another name)")
    assert "候选" not in reasons[3]  # two faults: not looked up, reason as ever
    # the other datasets' tables carry no resolution columns
    assert "id_resolved" not in [r[0] for r in query(db, "DESCRIBE enrollment")]


def test_resolution_leaves_the_quarantine_as_it_was_and_changes_only_the_reasons_end(loaded, tmp_path):
    inbox, db, results = loaded
    alone = tmp_path / "without_enrollment"
    write(alone, "benefit_payments/p.csv", PAYMENTS)
    write(alone, "death_records/d.csv", DEATHS)
    before = load(alone, tmp_path / "alone.duckdb")
    assert {f: r.rows_quarantined for f, r in before.items()} == {
        f: r.rows_quarantined for f, r in results.items() if f in before
    }
    sql = 'SELECT dataset, file, line, "column", raw, reason FROM quarantine ORDER BY file, line'
    without, with_enrollment = query(tmp_path / "alone.duckdb", sql), query(db, sql)
    assert [q[:5] for q in without] == [q[:5] for q in with_enrollment]
    for (*_, plain), (*_, told) in zip(without, with_enrollment, strict=True):
        assert told.startswith(plain.split(" — ")[0])
    assert query(tmp_path / "alone.duckdb", "SELECT count(*) FROM death_records WHERE id_resolved") == [(0,)]


def test_a_death_notice_with_a_typo_makes_the_deceased_paid_finding(loaded, tmp_path):
    _, db, _ = loaded
    stage = tmp_path / "stage"
    con = connect(db)
    try:
        stage_datasets(con, stage)
        found = run_rule(BY_CODE["DECEASED_PAID"], stage, AS_OF, THRESHOLD)
        twin = detect_sql(con, BY_CODE["DECEASED_PAID"], AS_OF, THRESHOLD)
    finally:
        con.close()
    assert found.select("subject_id", "period_from", "period_to", "amount_at_risk").rows() == [
        (A, "202503", "202504", Decimal("2000.00"))  # 202503, and 202504 paid under the mistyped ID
    ]
    assert found.select(COMPARED_COLUMNS).to_dicts() == twin.to_dicts()


def test_every_rule_runs_over_tables_with_the_resolution_columns(loaded, tmp_path):
    _, db, _ = loaded
    stage = tmp_path / "stage"
    con = connect(db)
    try:
        stage_datasets(con, stage)
        for rule in RULES:
            polars = run_rule(rule, stage, AS_OF, THRESHOLD).select(COMPARED_COLUMNS)
            assert polars.to_dicts() == detect_sql(con, rule, AS_OF, THRESHOLD).to_dicts(), rule.code
    finally:
        con.close()


def test_the_view_shows_each_looked_up_row_masked(loaded):
    _, db, _ = loaded
    con = connect(db)
    try:
        create_views(con)
        result = con.execute("SELECT * FROM v_resolved_ids")
        names = [d[0] for d in result.description]
        rows = [dict(zip(names, r, strict=True)) for r in result.fetchall()]
    finally:
        con.close()

    def masked(pid: str) -> str:
        return pid[:6] + "*" * (len(pid) - 10) + pid[-4:]

    assert [(r["dataset"], r["line"], r["outcome"], r["outcome_zh"], r["id_candidates"]) for r in rows] == [
        ("benefit_payments", 5, "resolved", "已纠正", 1),
        ("benefit_payments", 6, "ambiguous", "多个候选", 2),
        ("benefit_payments", 7, "no_candidate", "无匹配候选", 0),
        ("death_records", 2, "resolved", "已纠正", 1),
        ("death_records", 3, "no_candidate", "无匹配候选", 0),
    ]
    assert [r["person_id_raw"] for r in rows] == [
        masked(PAYMENT_TYPO),
        masked(TYPO_A),
        masked(swapped(D, 14)),
        masked(NOTICE_RAW),
        masked(NOTICE_TYPO),
    ]
    assert [r["resolved_person_id"] for r in rows] == [masked(A), None, None, masked(A), None]
    shown = json.dumps(rows, default=str)
    assert not any(pid in shown for pid in (A, C, PAYMENT_TYPO, TYPO_A, NOTICE_TYPO, swapped(D, 14)))


def test_the_run_summary_says_resolved_and_unresolved_per_dataset(loaded):
    from pipelines.app.summary import run_summary
    from pipelines.warehouse import runs

    _, db, _ = loaded
    con = connect(db)
    try:
        runs.start_run(con, "r1", AS_OF, "inbox", dt.datetime(2026, 11, 27, 22, tzinfo=dt.UTC))
        lines = [line for line in run_summary(con, "r1") if isinstance(line, str)]
    finally:
        con.close()
    at = lines.index(
        "身份证号校验位错误的行按参保登记纠正 rows with a mistyped citizen ID looked up in enrollment "
        "(5; 视图 view `v_resolved_ids`):"
    )
    assert lines[at + 1 : at + 3] == [
        "  - 待遇发放明细 benefit_payments: 已纠正 resolved 1, 未纠正 unresolved 2 "
        "(无匹配候选 no candidate 1, 多个候选 several candidates 1)",
        "  - 死亡信息 death_records: 已纠正 resolved 1, 未纠正 unresolved 1 "
        "(无匹配候选 no candidate 1, 多个候选 several candidates 0)",
    ]


def test_redelivery_changes_nothing_and_a_correction_takes_the_resolved_row_away(loaded):
    inbox, db, _ = loaded
    snapshot = "SELECT * EXCLUDE (run_id) FROM {} ORDER BY ALL"
    before = {t: query(db, snapshot.format(t)) for t in ("benefit_payments", "death_records", "quarantine")}
    load(inbox, db, "r2")
    assert {t: query(db, snapshot.format(t)) for t in before} == before
    write(inbox, "death_records/d.csv", DEATHS.replace(NOTICE_RAW, A))  # the department corrects its notice
    assert load(inbox, db, "r3")["death_records/d.csv"].status == "replaced"
    assert query(db, "SELECT person_id, person_id_raw, id_resolved FROM death_records") == [(A, None, False)]
    assert query(db, "SELECT line, id_candidates FROM quarantine WHERE dataset = 'death_records'") == [(3, 0)]


def test_a_file_rejected_half_way_leaves_no_resolved_row(tmp_path, monkeypatch):
    import pipelines.ingest.load as ingest
    from pipelines.ingest.readers import UnreadableFile

    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    write(inbox, "enrollment/e.csv", ENROLLMENT)
    write(inbox, "death_records/d.csv", DEATHS)
    real_open = ingest.open_file

    def deaths_cut_off(path, **options):
        fmt, batches = real_open(path, **options)
        if path.name != "d.csv":
            return fmt, batches

        def gen():
            yield from batches
            raise UnreadableFile("cut off")

        return fmt, gen()

    monkeypatch.setattr(ingest, "open_file", deaths_cut_off)
    assert load(inbox, db)["death_records/d.csv"].status == "rejected"
    assert query(db, "SELECT count(*) FROM death_records") == [(0,)]
    assert query(db, "SELECT count(*) FROM quarantine") == [(0,)]


def test_enrollment_committed_in_a_group_of_its_own_is_found(tmp_path, monkeypatch):
    """Files committed one by one, the deaths' folder listed before enrollment's: enrollment is loaded first."""
    import pipelines.ingest.load as ingest

    monkeypatch.setattr(ingest, "COMMIT_ROWS", 1)
    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    write(inbox, "death_records/d.csv", DEATHS)
    write(inbox, "enrollment/e.csv", ENROLLMENT)
    assert [f.dataset for f in discover(inbox)] == ["death_records", "enrollment"]
    load(inbox, db)
    assert query(db, "SELECT person_id, id_resolved FROM death_records") == [(A, True)]


def test_the_flow_loads_enrollment_before_the_other_datasets(tmp_path):
    from pipelines.app.flow import group_by_dataset

    inbox = tmp_path / "inbox"
    for name in sorted(RESOLVED_ID_DATASETS) + ["enrollment"]:
        write(inbox, f"{name}/x.csv", "a\n")
    assert next(iter(group_by_dataset(discover(inbox)))) == "enrollment"


def test_a_file_created_before_gets_the_new_columns(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    try:  # the schema as it was: dataset tables and quarantine without the resolution columns
        for path in sorted((Path(__file__).resolve().parents[1] / "sql" / "ddl").glob("00[1-7]_*.sql")):
            con.execute(path.read_text(encoding="utf-8"))
        for spec in DATASETS:
            con.execute(dataset_ddl(spec))
            if spec.name in RESOLVED_ID_DATASETS:
                con.execute(f'ALTER TABLE "{spec.name}" DROP COLUMN person_id_raw')
                con.execute(f'ALTER TABLE "{spec.name}" DROP COLUMN id_resolved')
        con.execute(
            "INSERT INTO death_records (person_id, death_date, source, source_file, run_id) "
            f"VALUES ('{A}', DATE '2025-02-10', 'police', 'death_records/old.csv', 'r0')"
        )
        con.execute(
            "INSERT INTO quarantine (run_id, dataset, file, line, reason, raw) "
            "VALUES ('r0', 'death_records', 'death_records/old.csv', 3, 'x', '{}')"
        )
    finally:
        con.close()
    assert query(db, "SELECT person_id, person_id_raw, id_resolved FROM death_records") == [(A, None, False)]
    assert query(db, "SELECT id_candidates, resolved_person_id FROM quarantine") == [(None, None)]
    fresh = duckdb.connect()
    try:
        for name in RESOLVED_ID_DATASETS:
            fresh.execute(dataset_ddl(BY_NAME[name]))
            created = fresh.execute(f'DESCRIBE "{name}"').fetchall()
            assert query(db, f'DESCRIBE "{name}"') == created, name  # as in a file created today
            assert [r[0] for r in created][-2:] == ["person_id_raw", "id_resolved"]
    finally:
        fresh.close()
