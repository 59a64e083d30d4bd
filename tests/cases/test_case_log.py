"""The case log as an audit record (docs/adr/0013-tamper-evident-case-log.md): append-only by trigger,
hash-chained by the register, checked by `fundwatch case verify-log`; registers older than the chain migrate.

The attacker here has the file: a plain sqlite3 connection that drops the triggers and edits, deletes or
renumbers events. Whatever they did, verify-log names the first broken event and what is wrong with it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.app import cli
from pipelines.app.commands.case import EXIT_LOG_BROKEN
from pipelines.app.settings import Settings
from pipelines.cases import audit, nightly
from pipelines.cases import register as reg
from pipelines.warehouse.session import connect
from schemas.suspects import SUSPECT_SCHEMA
from tests.cases.staffing import staff_up

ON = dt.date(2026, 3, 2)  # a Monday

# The register as it was before the chain (sql/cases/001_cases.sql before issue 11): no prev_hash, no hash,
# no triggers.
OLD_SCHEMA = """
CREATE TABLE cases (
    suspect_id TEXT PRIMARY KEY, rule TEXT NOT NULL, subject_id TEXT NOT NULL, person_id TEXT, region_code TEXT,
    period_from TEXT, period_to TEXT, amount_at_risk TEXT NOT NULL, summary TEXT, status TEXT NOT NULL,
    firing INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, recurrences INTEGER NOT NULL DEFAULT 0,
    assigned_region TEXT, assignee TEXT, assigned_on TEXT, due_date TEXT, confirmed_on TEXT, severity TEXT,
    report_due TEXT, reported_on TEXT, dismissed_reason TEXT, recovered_amount TEXT, rectified_on TEXT
);
CREATE TABLE case_events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT, suspect_id TEXT NOT NULL REFERENCES cases (suspect_id),
    at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, from_status TEXT, to_status TEXT, reason TEXT,
    details TEXT
);
CREATE INDEX case_events_by_case ON case_events (suspect_id, event_id);
CREATE TABLE case_payers (suspect_id TEXT NOT NULL, operator_id TEXT NOT NULL, PRIMARY KEY (suspect_id, operator_id));
"""


def findings(*rows: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "suspect_id": sid,
                "rule": "DECEASED_PAID",
                "subject_id": f"S-{sid}",
                "person_id": None,
                "region_code": "330100",
                "period_from": "202503",
                "period_to": "202504",
                "amount_at_risk": Decimal(amount),
                "summary": "句子",
                "evidence_rows": "[]",
            }
            for sid, amount in rows
        ],
        schema={"suspect_id": pl.String, **SUSPECT_SCHEMA},
    )


def populate(path: Path) -> None:
    """Six events: found A, B, C; A assigned, verified; B dismissed."""
    con = reg.open_register(path)
    staff_up(con)
    try:
        reg.sync_findings(con, findings(("A", "41220.00"), ("B", "10.00"), ("C", "20.00")), ON, "r1")
        reg.assign(con, "A", assignee="V01", by="chief", on=ON)
        reg.verify(con, "A", by="V01", on=ON, reason="属实")
        reg.dismiss(con, "B", by="chief", reason="死亡信息有误")
    finally:
        con.close()


def verify(path: Path) -> audit.LogCheck:
    con = reg.open_register(path)
    try:
        return audit.verify_log(con)
    finally:
        con.close()


def attack(path: Path, *statements: str) -> None:
    """Someone with the file: drop the triggers, then run SQL on the register."""
    con = sqlite3.connect(path)
    for trigger in ("case_events_no_update", "case_events_no_delete", "case_events_chained"):
        con.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()


@pytest.fixture
def register(tmp_path) -> Path:
    path = tmp_path / "fw.cases.sqlite"
    populate(path)
    return path


# ---- append-only ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE case_events SET reason = '无' WHERE event_id = 5",
        "UPDATE case_events SET hash = NULL",
        "DELETE FROM case_events WHERE event_id = 5",
        "DELETE FROM case_events",
    ],
)
def test_events_cannot_be_changed_or_deleted(register, statement):
    con = sqlite3.connect(register)  # sqlite3 by hand, as anyone who can write the file
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute(statement)
    con.close()
    assert verify(register).ok and verify(register).events == 6


def test_an_event_inserted_by_hand_must_chain_on(register):
    con = sqlite3.connect(register)
    with pytest.raises(sqlite3.IntegrityError, match="chained"):
        con.execute("INSERT INTO case_events (suspect_id, at, actor, action) VALUES ('A', '2026-03-02', 'x', 'y')")
    with pytest.raises(sqlite3.IntegrityError, match="chained"):
        con.execute(
            "INSERT INTO case_events (suspect_id, at, actor, action, prev_hash, hash)"
            " VALUES ('A', '2026-03-02', 'x', 'y', ?, ?)",
            [audit.GENESIS, "f" * 64],
        )
    con.close()


def test_after_a_migration_the_log_and_its_record_cannot_be_changed_or_deleted(tmp_path):
    path = old_register(tmp_path)
    reg.open_register(path).close()  # the migration lifts the UPDATE trigger inside its transaction only
    con = sqlite3.connect(path)
    for statement in (
        "UPDATE case_events SET reason = 'x' WHERE event_id = 1",
        "DELETE FROM case_events WHERE event_id = 1",
        "UPDATE case_log_chained SET events = 0",
        "DELETE FROM case_log_chained",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute(statement)
    con.close()


# ---- the chain -----------------------------------------------------------------------------------------


def test_every_event_carries_the_hash_of_the_one_before(register):
    con = sqlite3.connect(register)
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT * FROM case_events ORDER BY event_id").fetchall()
    con.close()
    assert [r["event_id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    previous = audit.GENESIS
    for row in rows:
        assert row["prev_hash"] == previous
        assert row["hash"] == audit.event_hash(previous, row) and len(row["hash"]) == 64
        previous = row["hash"]
    check = verify(register)
    assert (check.ok, check.events, check.head, check.chainings) == (True, 6, previous, ())


def test_the_hash_covers_every_field_and_the_previous_hash():
    fields = dict.fromkeys(audit.HASHED_FIELDS, "x")
    base = audit.event_hash(audit.GENESIS, fields)
    for name in audit.HASHED_FIELDS:
        assert audit.event_hash(audit.GENESIS, {**fields, name: "y"}) != base, name
        assert audit.event_hash(audit.GENESIS, {**fields, name: None}) != base, name
    assert audit.event_hash("1" * 64, fields) != base


@pytest.mark.parametrize(
    ("statements", "event_id", "kind"),
    [
        # an official's reason rewritten
        (["UPDATE case_events SET reason = '核实无误' WHERE event_id = 5"], 5, audit.EDITED),
        # who did it
        (["UPDATE case_events SET actor = 'V02' WHERE event_id = 4"], 4, audit.EDITED),
        # the severity recorded at confirmation
        (["UPDATE case_events SET details = json_set(details, '$.severity', '无') WHERE event_id = 5"], 5, "edited"),
        # the first event, a status
        (["UPDATE case_events SET to_status = 'dismissed' WHERE event_id = 1"], 1, audit.EDITED),
        # an event's hash blanked
        (["UPDATE case_events SET hash = NULL WHERE event_id = 3"], 3, audit.EDITED),
        # a dismissal deleted: a gap in event_id
        (["DELETE FROM case_events WHERE event_id = 6"], 6, audit.MISSING),
        (["DELETE FROM case_events WHERE event_id = 3"], 3, audit.MISSING),
        (["DELETE FROM case_events WHERE event_id IN (1, 2)"], 1, audit.MISSING),
        # deleted, and the later ones renumbered to close the gap
        (
            [
                "DELETE FROM case_events WHERE event_id = 4",
                "UPDATE case_events SET event_id = event_id - 1 WHERE event_id > 4",
                "UPDATE sqlite_sequence SET seq = 5 WHERE name = 'case_events'",
            ],
            4,
            audit.MISSING,
        ),
        # two events swapped
        (
            [
                "UPDATE case_events SET event_id = -1 WHERE event_id = 4",
                "UPDATE case_events SET event_id = 4 WHERE event_id = 5",
                "UPDATE case_events SET event_id = 5 WHERE event_id = -1",
            ],
            4,
            audit.REORDERED,
        ),
    ],
)
def test_verify_log_finds_the_first_broken_event(register, statements, event_id, kind):
    attack(register, *statements)
    check = verify(register)
    assert check.broken is not None
    assert (check.broken.event_id, check.broken.kind) == (event_id, kind)


def test_an_edit_with_its_hash_recomputed_breaks_the_link_of_the_next_event(register):
    con = sqlite3.connect(register)
    con.row_factory = sqlite3.Row
    row = dict(con.execute("SELECT * FROM case_events WHERE event_id = 2").fetchone())
    con.close()
    row["actor"] = "someone else"
    forged = audit.event_hash(row["prev_hash"], row)
    attack(register, f"UPDATE case_events SET actor = 'someone else', hash = '{forged}' WHERE event_id = 2")
    broken = verify(register).broken
    assert broken is not None and broken.event_id == 3 and broken.kind == audit.MISSING


def test_the_latest_events_deleted_are_found(register):
    attack(register, "DELETE FROM case_events WHERE event_id >= 5")
    broken = verify(register).broken
    assert broken is not None and (broken.event_id, broken.kind) == (5, audit.MISSING)
    assert "5–6" in broken.detail


def test_writers_at_once_keep_one_chain(tmp_path):
    path = tmp_path / "fw.cases.sqlite"
    con = reg.open_register(path)
    staff_up(con)
    reg.sync_findings(con, findings(*((f"S{i}", "10.00") for i in range(8))), ON, "r1")
    con.close()
    errors: list[BaseException] = []

    def analyst(ids: list[str]) -> None:
        mine = reg.open_register(path)
        try:
            for sid in ids:
                reg.assign(mine, sid, assignee="V01", by="chief", on=ON)
                reg.dismiss(mine, sid, by="V01", reason="核实无误")
        except BaseException as err:  # surfaced below
            errors.append(err)
        finally:
            mine.close()

    threads = [threading.Thread(target=analyst, args=([f"S{i}", f"S{i + 4}"],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    check = verify(path)
    assert (check.ok, check.events) == (True, 8 + 16)


# ---- registers from before the chain -------------------------------------------------------------------


def old_register(tmp_path: Path, *, deleted: tuple[int, ...] = ()) -> Path:
    """A register written before the chain: three cases, five events (some deleted, as anyone could)."""
    path = tmp_path / "old.cases.sqlite"
    con = sqlite3.connect(path)
    con.executescript(OLD_SCHEMA)
    for sid in ("A", "B", "C"):
        con.execute(
            "INSERT INTO cases (suspect_id, rule, subject_id, amount_at_risk, status, firing, first_seen, last_seen)"
            " VALUES (?, 'DECEASED_PAID', ?, '10.00', 'open', 1, '2026-01-05', '2026-01-05')",
            [sid, f"S-{sid}"],
        )
    con.executemany(
        "INSERT INTO case_events (suspect_id, at, actor, action, from_status, to_status, reason, details)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("A", "2026-01-05T02:00:00", "fundwatch-run r0", "found", None, "open", None, '{"amount_at_risk": "1.00"}'),
            ("B", "2026-01-05T02:00:00", "fundwatch-run r0", "found", None, "open", None, None),
            ("C", "2026-01-05T02:00:00", "fundwatch-run r0", "found", None, "open", None, None),
            ("A", "2026-01-06T09:00:00", "chief", "assign", "open", "under_verification", None, None),
            ("B", "2026-01-07T09:00:00", "chief", "dismiss", "open", "dismissed", "核实无误", None),
        ],
    )
    con.executemany("DELETE FROM case_events WHERE event_id = ?", [[i] for i in deleted])
    con.commit()
    con.close()
    return path


def test_an_old_register_is_chained_once_and_then_verifies(tmp_path):
    path = old_register(tmp_path)
    check = verify(path)  # the first open migrates
    assert (check.ok, check.events) == (True, 5)
    (chaining,) = check.chainings
    assert (chaining.last_event_id, chaining.events, chaining.absent_ids) == (5, 5, ())
    assert chaining.head_hash == check.head
    con = reg.open_register(path)
    staff_up(con)
    reg.assign(con, "C", assignee="V01", by="chief", on=ON, region_code="330100")  # chains on the migrated head
    events = reg.events(con, "C")
    con.close()
    assert events[-1]["prev_hash"] == chaining.head_hash
    again = verify(path)
    assert (again.ok, again.events, len(again.chainings)) == (True, 6, 1)  # chained once, not at every open
    attack(path, "UPDATE case_events SET reason = '属实' WHERE event_id = 5")  # an event from before the chain
    broken = verify(path).broken
    assert broken is not None and (broken.event_id, broken.kind) == (5, audit.EDITED)


def test_gaps_already_in_an_old_register_are_recorded_not_blamed_later(tmp_path):
    path = old_register(tmp_path, deleted=(2, 5))
    check = verify(path)
    assert (check.ok, check.events) == (True, 3)
    assert check.chainings[0].absent_ids == (2, 5)
    attack(path, "DELETE FROM case_events WHERE event_id = 3")  # a deletion after the chaining is found
    broken = verify(path).broken
    assert broken is not None and (broken.event_id, broken.kind) == (3, audit.MISSING)


def test_a_chain_rewritten_over_migrated_events_contradicts_the_recorded_head(tmp_path):
    path = old_register(tmp_path)
    reg.open_register(path).close()
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM case_events ORDER BY event_id")]
    con.close()
    rows[0]["reason"] = "改写"
    statements, prev = [], audit.GENESIS
    for row in rows:  # an attacker who knows the format recomputes every hash
        digest = audit.event_hash(prev, row)
        statements.append(
            f"UPDATE case_events SET reason = {'NULL' if row['reason'] is None else repr(row['reason'])},"
            f" prev_hash = '{prev}', hash = '{digest}' WHERE event_id = {row['event_id']}"
        )
        prev = digest
    attack(path, *statements)
    broken = verify(path).broken
    assert broken is not None and (broken.event_id, broken.kind) == (5, audit.EDITED)
    assert "recorded when the log was chained" in broken.detail


def test_a_log_with_chained_events_is_never_chained_again(register):
    attack(register, "UPDATE case_events SET prev_hash = NULL, hash = NULL WHERE event_id >= 4")
    broken = verify(register).broken  # opening did not bless the unchained tail
    assert broken is not None and (broken.event_id, broken.kind) == (4, audit.EDITED)
    con = sqlite3.connect(register)
    assert con.execute("SELECT count(*) FROM case_log_chained").fetchone() == (0,)
    con.close()


def test_an_old_register_opened_by_two_at_once_is_chained_once(tmp_path):
    path = old_register(tmp_path)
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            reg.open_register(path).close()
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=open_it) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    check = verify(path)
    assert check.ok and len(check.chainings) == 1


# ---- the DuckDB mirror ---------------------------------------------------------------------------------


def test_the_duckdb_mirror_carries_the_chain(register, tmp_path):
    db = tmp_path / "fw.duckdb"
    con = connect(db)
    try:
        nightly.sync_run(con, register, dt.date(2026, 3, 3), "r2")  # no findings: every case stops firing
    finally:
        con.close()
    mirror = duckdb.connect(str(db), read_only=True)
    mirrored = mirror.sql("SELECT event_id, prev_hash, hash FROM case_events ORDER BY event_id").fetchall()
    mirror.close()
    source = sqlite3.connect(register)
    assert mirrored == source.execute("SELECT event_id, prev_hash, hash FROM case_events ORDER BY 1").fetchall()
    source.close()
    assert len(mirrored) == 9 and verify(register).ok


# ---- fundwatch case verify-log -------------------------------------------------------------------------


def fundwatch(*argv: str) -> int:
    """The command line in-process (argument errors exit through argparse: their status is returned)."""
    settings = Settings.from_env()
    try:
        args = cli.build_parser(settings).parse_args(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return args.handler(args, settings)


def test_verify_log_command_reports_an_intact_log(register, capsys):
    assert fundwatch("case", "--register", str(register), "verify-log") == 0
    out = capsys.readouterr().out
    assert "case log intact: 6 条记录 events" in out and verify(register).head in out
    assert fundwatch("case", "verify-log", "--register", str(register)) == 0  # the option after it works too


def test_verify_log_command_names_the_broken_event(register, capsys):
    attack(register, "DELETE FROM case_events WHERE event_id = 3")
    assert fundwatch("case", "verify-log", "--register", str(register)) == EXIT_LOG_BROKEN == 5
    err = capsys.readouterr().err
    assert "案件记录缺失 case log broken at event 3" in err and "missing" in err


def test_verify_log_command_on_a_migrated_register_says_what_the_chain_covers(tmp_path, capsys):
    path = old_register(tmp_path, deleted=(2,))
    assert fundwatch("case", "verify-log", "--register", str(path)) == 0
    out = capsys.readouterr().out
    assert "4 条记录 events" in out and "chained at migration" in out and "already missing then: 2" in out


def test_verify_log_command_without_a_register_is_refused_and_creates_none(tmp_path, capsys):
    missing = tmp_path / "none.cases.sqlite"
    assert fundwatch("case", "verify-log", "--register", str(missing)) == 2
    assert "no case register" in capsys.readouterr().err and not missing.exists()


def test_the_chain_survives_every_register_write(tmp_path):
    """Every write of the register (sync, payers, the analysts' five actions) keeps the log verifiable."""
    path = tmp_path / "fw.cases.sqlite"
    con = reg.open_register(path)
    staff_up(con)
    reg.sync_findings(con, findings(("A", "10.00"), ("B", "20.00")), ON, "r1")
    reg.record_payers(con, pl.DataFrame({"suspect_id": ["A"], "operator_id": ["OP7"]}))
    reg.assign(con, "A", assignee="V01", by="chief", on=ON, reason="交办")
    reg.verify(con, "A", by="V01", on=ON)
    reg.mark_reported(con, "A", by="V01", on=ON)
    reg.rectify(con, "A", by="V01", on=ON, recovered=Decimal("10"))
    reg.sync_findings(con, findings(("A", "15.00")), dt.date(2026, 4, 1), "r2")  # reopened; B stops firing
    reg.sync_findings(con, findings(("A", "15.00"), ("B", "20.00")), dt.date(2026, 4, 2), "r3")  # fires again
    details = [json.loads(e["details"]) for e in reg.events(con, "A") if e["details"]]
    con.close()
    assert details[-1] == {"amount_at_risk": "15.00", "period_to": "202504"}
    check = verify(path)
    # found A and B, assign, verify, report, rectify, reopened, B stopped firing, B fired again
    assert (check.ok, check.events) == (True, 9)


def test_a_write_that_fails_leaves_no_gap(register):
    con = reg.open_register(register)
    with pytest.raises(RuntimeError), reg.write_transaction(con):
        reg._event(con, "C", "V01", "assign", "open", "under_verification")
        raise RuntimeError("the analyst's write fails after its event was inserted")
    reg.assign(con, "C", assignee="V01", by="chief", on=ON)
    ids = [e["event_id"] for e in reg.events(con, "C")]
    con.close()
    assert ids == [3, 7]  # the rolled-back event's id 7 was handed out again
    assert verify(register).ok


def test_opening_the_register_puts_dropped_triggers_back(register):
    attack(register)  # the triggers dropped, nothing else
    verify(register)
    con = sqlite3.connect(register)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM case_events WHERE event_id = 6")
    con.close()
