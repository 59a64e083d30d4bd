"""The case log (`case_events`) as an audit record: append-only, hash-chained, verifiable.

docs/adr/0013-tamper-evident-case-log.md. SQLite triggers (sql/cases/002_case_log.sql) refuse UPDATE and
DELETE of an event and an INSERT not chained to the last one. Each event carries `prev_hash`, the hash of the
event before it in event_id order (`GENESIS` before the first), and `hash`, the sha256 of a canonical text of
its fields and `prev_hash` (`event_hash`). The register computes both in the transaction that inserts the
event (`pipelines.cases.register._event`), so the chain follows the order SQLite serialised the writers in.

Someone with the file can drop the triggers; `verify_log` then finds what they did, as the first broken event:
*edited* (its content no longer gives its hash), *missing* (a gap in event_id, the latest events gone, or the
event it was chained to gone), *reordered* (it was chained after another event than the one it follows now).

A register written before the chain existed is chained once when it is first opened (`chain_existing`): its
events are hashed in order as found, and a `case_log_chained` row records when, up to which event, the head
hash then and the ids already missing. The chain vouches for those events from that moment only.

Every function here works on a connection whose transaction the caller holds (the register's
`write_transaction`); `verify_log` reads in one snapshot of its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

GENESIS = "0" * 64  # the prev_hash of the first event (also in sql/cases/002_case_log.sql)
FORMAT = "fundwatch-case-event/1"  # names the canonical form below; a new form would be /2
HASHED_FIELDS = ("suspect_id", "at", "actor", "action", "from_status", "to_status", "reason", "details")
UPDATE_TRIGGER = "case_events_no_update"

EDITED, MISSING, REORDERED = "edited", "missing", "reordered"
KIND_ZH = {EDITED: "被修改", MISSING: "缺失", REORDERED: "顺序被打乱"}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def event_hash(prev_hash: str | None, fields: Mapping[str, object] | sqlite3.Row) -> str:
    """sha256 (hex) of the canonical text of one event: a JSON array of the format name, prev_hash and the
    fields of `HASHED_FIELDS` in that order (each text or null), compact, UTF-8. The event_id is not in it:
    an event's place is fixed by prev_hash, so a moved event shows as reordered rather than edited."""
    return chain_hash(FORMAT, prev_hash, [fields[name] for name in HASHED_FIELDS])


def chain_hash(format_name: str, prev_hash: str | None, values: Sequence[object]) -> str:
    """sha256 (hex) of the canonical text of one record of a hash-chained log: a JSON array of the format
    name, prev_hash and the values (each text or null), compact, UTF-8. The case log (`event_hash`) and the
    web workbench's audit trail (`pipelines.web.trail`) chain their records with it."""
    canonical = json.dumps(
        [format_name, prev_hash, *(_text(value) for value in values)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def head(con: sqlite3.Connection) -> str:
    """The hash the next event chains to: the last event's, or GENESIS for an empty log."""
    row = con.execute("SELECT hash FROM case_events ORDER BY event_id DESC LIMIT 1").fetchone()
    return GENESIS if row is None or row[0] is None else row[0]


# ---- registers older than the chain ----------------------------------------------------------------------


def _columns(con: sqlite3.Connection) -> set[str]:
    return {row[1] for row in con.execute("PRAGMA table_info(case_events)")}


def columns_missing(con: sqlite3.Connection) -> bool:
    """Whether `case_events` exists without the chain's columns (a register older than the chain)."""
    columns = _columns(con)
    return bool(columns) and not {"prev_hash", "hash"} <= columns


def add_columns(con: sqlite3.Connection) -> None:
    """Add `prev_hash` and `hash` to an older `case_events` (the caller holds the write transaction)."""
    columns = _columns(con)
    for name in ("prev_hash", "hash"):
        if columns and name not in columns:
            con.execute(f"ALTER TABLE case_events ADD COLUMN {name} TEXT")


def needs_chaining(con: sqlite3.Connection) -> bool:
    """Whether the log holds events of which none is chained and was never chained: a register from before
    the chain. A log with some chained events is never re-chained (that would bless a tampered log)."""
    row = con.execute(
        "SELECT EXISTS (SELECT 1 FROM case_events)"
        " AND NOT EXISTS (SELECT 1 FROM case_events WHERE hash IS NOT NULL OR prev_hash IS NOT NULL)"
        " AND NOT EXISTS (SELECT 1 FROM case_log_chained)"
    ).fetchone()
    return bool(row[0])


def _rows(con: sqlite3.Connection, sql: str) -> sqlite3.Cursor:
    """Rows by column name, whatever row factory the connection has."""
    cursor = con.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql)


def _sequence(con: sqlite3.Connection) -> int:
    """The highest event_id SQLite ever handed out (AUTOINCREMENT never reuses one)."""
    row = con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'case_events'").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def chain_existing(con: sqlite3.Connection, at: str) -> int:
    """Hash an unchained log once, in event_id order, and record the chaining; returns the events chained.

    The caller holds the write transaction (BEGIN IMMEDIATE) and has checked `needs_chaining` inside it.
    The UPDATE trigger is lifted for this transaction only and put back, as it was, before it commits.
    """
    trigger = con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [UPDATE_TRIGGER])
    trigger_sql = trigger.fetchone()
    if trigger_sql is not None:
        con.execute(f"DROP TRIGGER {UPDATE_TRIGGER}")
    prev, ids, updates = GENESIS, [], []
    for row in _rows(con, f"SELECT event_id, {', '.join(HASHED_FIELDS)} FROM case_events ORDER BY event_id"):
        digest = event_hash(prev, row)
        updates.append((prev, digest, row["event_id"]))
        ids.append(row["event_id"])
        prev = digest
    con.executemany("UPDATE case_events SET prev_hash = ?, hash = ? WHERE event_id = ?", updates)
    if trigger_sql is not None:
        con.execute(trigger_sql[0])
    if not ids:
        return 0
    present = set(ids)
    absent = [i for i in range(1, max(_sequence(con), ids[-1]) + 1) if i not in present]
    con.execute(
        "INSERT INTO case_log_chained (chained_at, last_event_id, events, head_hash, absent_ids, note)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            at,
            ids[-1],
            len(ids),
            prev,
            json.dumps(absent),
            "迁移时按原样对既有记录建立哈希链 events written before the chain existed, hashed as found at migration",
        ],
    )
    return len(ids)


# ---- verification ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chaining:
    """One `case_log_chained` row: events up to `last_event_id` were chained at migration, on `chained_at`."""

    chained_at: str
    last_event_id: int
    events: int
    head_hash: str
    absent_ids: tuple[int, ...]


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold: the event, what is wrong (EDITED, MISSING, REORDERED), why."""

    event_id: int
    kind: str
    detail: str
    suspect_id: str | None = None


@dataclass(frozen=True)
class LogCheck:
    events: int
    head: str
    chainings: tuple[Chaining, ...]
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


@contextlib.contextmanager
def _snapshot(con: sqlite3.Connection) -> Iterator[None]:
    """One read transaction, so that a writer committing meanwhile cannot make the walk see half of it."""
    if con.in_transaction:
        yield
        return
    con.execute("BEGIN")
    try:
        yield
    finally:
        con.execute("ROLLBACK")


def verify_log(con: sqlite3.Connection) -> LogCheck:
    """Walk the chain in event_id order; the first broken event, if any, and what is wrong with it."""
    with _snapshot(con):
        chainings = tuple(
            Chaining(r[0], int(r[1]), int(r[2]), r[3], tuple(json.loads(r[4])))
            for r in con.execute(
                "SELECT chained_at, last_event_id, events, head_hash, absent_ids FROM case_log_chained ORDER BY rowid"
            )
        )
        absent = {i for c in chainings for i in c.absent_ids}
        placed = {r[0]: int(r[1]) for r in con.execute("SELECT hash, event_id FROM case_events WHERE hash IS NOT NULL")}
        columns = ", ".join(HASHED_FIELDS)
        rows = _rows(con, f"SELECT event_id, {columns}, prev_hash, hash FROM case_events ORDER BY event_id")
        count, broken, last = _walk(rows, absent, placed, _sequence(con))
        hashes = {v: k for k, v in placed.items()}
        if broken is None:
            broken = _against_chainings(chainings, hashes)
    return LogCheck(count, last, chainings, broken)


def _walk(
    rows: Iterator[sqlite3.Row], absent: set[int], placed: dict[str, int], sequence: int
) -> tuple[int, Break | None, str]:
    expected_prev, expected_id, previous_id, count = GENESIS, 1, None, 0

    def skip_absent(i: int) -> int:
        while i in absent:
            i += 1
        return i

    for row in rows:
        count += 1
        event_id, sid = int(row["event_id"]), row["suspect_id"]
        expected_id = skip_absent(expected_id)
        if event_id > expected_id:
            gap = f"{expected_id}" if expected_id == event_id - 1 else f"{expected_id}–{event_id - 1}"
            detail = f"第 {gap} 条记录已被删除 event(s) {gap} before it are gone (a gap in event_id)"
            return count, Break(expected_id, MISSING, detail, sid), expected_prev
        if event_id < expected_id:
            detail = "此编号的记录在建链时已缺失 an event was put where one was missing when the log was chained"
            return count, Break(event_id, EDITED, detail, sid), expected_prev
        if row["hash"] is None:
            detail = "没有哈希 it has no hash: written around fundwatch"
            return count, Break(event_id, EDITED, detail, sid), expected_prev
        if event_hash(row["prev_hash"], row) != row["hash"]:
            detail = "内容与哈希不符 its content no longer gives its hash: a field was changed after it was written"
            return count, Break(event_id, EDITED, detail, sid), expected_prev
        if row["prev_hash"] != expected_prev:
            if row["prev_hash"] in placed:
                was_after = placed[row["prev_hash"]]
                now = "the start of the log" if previous_id is None else f"event {previous_id}"
                detail = (
                    f"它原接在现第 {was_after} 条之后 it was chained after the event now numbered {was_after}, "
                    f"but follows {now}"
                )
                return count, Break(event_id, REORDERED, detail, sid), expected_prev
            if row["prev_hash"] == GENESIS:
                detail = "它原是第一条记录 it was chained as the first event: the events before it are not the original"
                return count, Break(event_id, REORDERED, detail, sid), expected_prev
            detail = "它所接续的记录已不存在 the event it was chained to is gone (deleted, ids renumbered)"
            return count, Break(event_id, MISSING, detail, sid), expected_prev
        expected_prev, previous_id, expected_id = row["hash"], event_id, event_id + 1
    expected_id = skip_absent(expected_id)
    if expected_id <= sequence:
        gap = f"{expected_id}" if expected_id == sequence else f"{expected_id}–{sequence}"
        detail = f"最新的第 {gap} 条记录已被删除 the latest event(s) {gap} are gone (ids were given up to {sequence})"
        return count, Break(expected_id, MISSING, detail), expected_prev
    return count, None, expected_prev


def _against_chainings(chainings: tuple[Chaining, ...], hashes: dict[int, str]) -> Break | None:
    """The events chained at a migration must still end in the head hash recorded then."""
    for chaining in chainings:
        if hashes.get(chaining.last_event_id) != chaining.head_hash:
            detail = (
                f"与 {chaining.chained_at} 建链时记下的哈希不符 differs from the head hash recorded when the log was "
                f"chained on {chaining.chained_at}: the chain up to it was rewritten"
            )
            return Break(chaining.last_event_id, EDITED, detail)
    return None
