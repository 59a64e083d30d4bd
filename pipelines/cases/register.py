"""The case register of the 四定一限 cycle: every suspect as a case, with an audit trail.

Lifecycle (status codes, Chinese as the office says them):

    open 待核查 --assign--> under_verification 核查中 --verify--> confirmed 确认违规 --rectify--> rectified 已整改
                  \\                              \\--dismiss--> dismissed 排除
                   \\--dismiss--> dismissed 排除
    overdue 逾期 is derived, never stored: a deadline passed before the case was closed.

The register is a SQLite file beside the DuckDB file (docs/adr/0007-case-register-in-sqlite.md):
analysts record verification at any time, also while a nightly run holds the DuckDB file. Every
write is one `BEGIN IMMEDIATE` transaction, so the nightly sync and an analyst's command are
serialised by SQLite and neither can overwrite the other; every change appends a `case_events` row
(who, when, from what to what, why). The log is append-only (triggers refuse UPDATE and DELETE) and
hash-chained, each event to the one before it, in the transaction that appends it (`pipelines.cases.audit`,
docs/adr/0013-tamper-evident-case-log.md); `audit.verify_log` walks the chain.

A nightly run `sync_findings`: a finding seen for the first time opens a case; one seen again is
refreshed (amount, summary, last_seen) and keeps everything recorded; one that stopped firing is
marked `firing = 0`, never erased. A rectified case whose finding fires again with more money or later
months than were rectified is reopened as a recurrence (整改后再次发生); the same finding over the same,
already rectified rows (they stay in the extracts) leaves it rectified.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import polars as pl

from pipelines.cases import audit
from pipelines.cases import staff as staff_register
from pipelines.cases.calendar import Deadline, rectification_due, report_due
from pipelines.cases.severity import classify
from pipelines.present.labels import CASE_STATUS_ZH
from pipelines.warehouse.sql import SQL_DIR

CLOSED = ("dismissed", "rectified")

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "assign": (("open", "under_verification"), "under_verification"),
    "verify": (("under_verification",), "confirmed"),
    "dismiss": (("open", "under_verification"), "dismissed"),
    "rectify": (("confirmed", "partially_recovered"), "partially_recovered or rectified"),
    "write_off": (("confirmed", "partially_recovered"), "rectified (nothing left outstanding)"),
}
# Columns added to `cases` after 001 (sql/cases/003_case_work.sql): an older register gets them on opening.
ADDED_COLUMNS = (
    ("due_provisional", "INTEGER NOT NULL DEFAULT 0"),
    ("report_due_provisional", "INTEGER NOT NULL DEFAULT 0"),
    ("written_off_amount", "TEXT"),
    ("excess_amount", "TEXT"),
    ("last_reported_on", "TEXT"),
)


class CaseError(ValueError):
    """An analyst's request the register refuses (unknown case, wrong status, 回避 …)."""


class RegisterMissing(FileNotFoundError):
    """No case register where one was expected: a command never creates an empty one by accident."""


def open_register(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """The register, created if new (only with `create`; else RegisterMissing naming the path). Waits up to
    60 s for another writer instead of failing.

    A register older than the hash chain is brought up to it here, once: the chain's columns are added, then
    its events are hashed in order and the chaining recorded (`audit.chain_existing`), each step one
    BEGIN IMMEDIATE transaction that checks again, inside it, whether it is still needed.
    """
    if not create and not path.is_file():
        raise RegisterMissing(
            f"案件登记簿不存在 no case register at {path.resolve()} (a nightly run creates it beside its database; "
            "give --db of that database)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=60, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA busy_timeout = 60000")
    identity = _identity(con, path)
    if identity is not None and identity in _UP_TO_DATE:
        return con  # this process brought this very file up to date, and nothing has changed its schema since
    if audit.columns_missing(con):
        with write_transaction(con):
            audit.add_columns(con)
    for ddl in sorted((SQL_DIR / "cases").glob("0*.sql")):
        con.executescript(ddl.read_text(encoding="utf-8"))
    if audit.needs_chaining(con):
        with write_transaction(con):
            if audit.needs_chaining(con):
                audit.chain_existing(con, _now())
    if _columns_missing(con):
        with write_transaction(con):
            for name, kind in _columns_missing(con):
                con.execute(f"ALTER TABLE cases ADD COLUMN {name} {kind}")
    identity = _identity(con, path)
    if identity is not None:
        _UP_TO_DATE.add(identity)
    return con


# Registers this process has brought up to date (`open_register`), by `_identity`: the workbench opens the register
# for every action, and running every DDL script each time cost 2-3 ms of a screening call (issue 15: ≤ 100 ms).
_UP_TO_DATE: set[tuple[str, int, int, int]] = set()


def _identity(con: sqlite3.Connection, path: Path) -> tuple[str, int, int, int] | None:
    """The file (path, device, inode) and its schema's version: SQLite counts every change to a schema, so a
    file whose schema anyone changed since, or another file at the same path, is brought up to date again."""
    try:
        st = path.stat()
    except OSError:
        return None
    version = con.execute("PRAGMA schema_version").fetchone()[0]
    return str(path.resolve()), st.st_dev, st.st_ino, int(version)


def _columns_missing(con: sqlite3.Connection) -> list[tuple[str, str]]:
    present = {row[1] for row in con.execute("PRAGMA table_info(cases)")}
    return [(name, kind) for name, kind in ADDED_COLUMNS if name not in present]


@contextlib.contextmanager
def reader(path: Path) -> Iterator[sqlite3.Connection]:
    """The register, read-only (mode=ro): a report can never write to it. Closed when the block ends."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"案件登记簿不存在 no case register at {path}")
    con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=60)
    con.row_factory = sqlite3.Row
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def writer(path: Path, *, create: bool = True) -> Iterator[sqlite3.Connection]:
    """The register for reading and writing (`open_register`), closed when the block ends."""
    con = open_register(path, create=create)
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def write_transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One serialised write: BEGIN IMMEDIATE takes the write lock before anything is read.

    Inside a transaction already, the block joins it: the outer block commits, or rolls back everything when any
    part raises (two records that belong together, e.g. a screening and the service call that made it, are one
    transaction and one sync to disk)."""
    if con.in_transaction:
        yield con
        return
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _now() -> str:
    """Now, with its UTC offset (2026-12-02T10:00:00+08:00): a time read elsewhere is never ambiguous."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _event_fields(
    suspect_id: str,
    at: str,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str | None,
    reason: str | None,
    details: dict[str, object] | None,
) -> dict[str, str | None]:
    """One event's hashed fields as stored (TEXT, or NULL)."""
    fields: dict[str, object] = {
        "suspect_id": suspect_id,
        "at": at,
        "actor": actor,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "details": json.dumps(details, ensure_ascii=False, default=str) if details else None,
    }
    return {name: None if value is None else str(value) for name, value in fields.items()}


_INSERT_EVENT = (
    "INSERT INTO case_events (suspect_id, at, actor, action, from_status, to_status, reason, details,"
    " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _event(
    con: sqlite3.Connection,
    suspect_id: str,
    actor: str,
    action: str,
    from_status: str | None,
    to_status: str | None,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> int:
    """Append one event, chained to the last one (the caller holds the write transaction); its event_id."""
    fields = _event_fields(suspect_id, _now(), actor, action, from_status, to_status, reason, details)
    prev_hash = audit.head(con)
    cursor = con.execute(
        _INSERT_EVENT, [*(fields[name] for name in audit.HASHED_FIELDS), prev_hash, audit.event_hash(prev_hash, fields)]
    )
    return int(cursor.lastrowid)


class _EventBatch:
    """Events of one write transaction, chained in the order added from the log's head, read once, and
    appended together by `append` (one statement for all). The caller holds the write transaction, so no
    other writer moves the head in between; the chain trigger still checks every row."""

    def __init__(self, con: sqlite3.Connection, actor: str) -> None:
        self._con, self._actor, self._at = con, actor, _now()
        self._prev = audit.head(con)
        self._rows: list[tuple[str | None, ...]] = []

    def add(
        self,
        suspect_id: str,
        action: str,
        from_status: str | None,
        to_status: str | None,
        reason: str | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        fields = _event_fields(suspect_id, self._at, self._actor, action, from_status, to_status, reason, details)
        digest = audit.event_hash(self._prev, fields)
        self._rows.append((*(fields[name] for name in audit.HASHED_FIELDS), self._prev, digest))
        self._prev = digest

    def append(self) -> None:
        self._con.executemany(_INSERT_EVENT, self._rows)
        self._rows = []


# ---- the nightly run -------------------------------------------------------------------------


@dataclass
class SyncCounts:
    opened: int = 0
    refreshed: int = 0
    stopped_firing: int = 0
    reopened: int = 0


def sync_findings(con: sqlite3.Connection, findings: pl.DataFrame, as_of: dt.date, run_id: str) -> SyncCounts:
    """Bring the register up to one run's findings (columns: suspect_id and the suspects facts)."""
    actor = f"fundwatch-run {run_id}"
    counts = SyncCounts()
    day = as_of.isoformat()
    rows = findings.select(
        "suspect_id",
        "rule",
        "subject_id",
        "person_id",
        "region_code",
        "period_from",
        "period_to",
        pl.col("amount_at_risk").cast(pl.String),
        "summary",
    ).rows(named=True)
    with write_transaction(con):
        known = {
            r["suspect_id"]: (r["status"], r["firing"], r["amount_at_risk"], r["period_to"])
            for r in con.execute("SELECT suspect_id, status, firing, amount_at_risk, period_to FROM cases")
        }
        # Collected in the findings' order, then written a statement per kind: each case row is touched by its
        # own statements in the order below, and the events keep the order they were added in.
        opened: list[tuple[object, ...]] = []
        refreshed: list[tuple[object, ...]] = []
        seen_again: list[tuple[str, str]] = []  # rectified, same rows: only firing and last_seen
        reopened: list[tuple[str]] = []
        stopped: list[tuple[str]] = []
        events = _EventBatch(con, actor)
        for f in rows:
            sid = f["suspect_id"]
            if sid not in known:
                opened.append(
                    (
                        sid,
                        f["rule"],
                        f["subject_id"],
                        f["person_id"],
                        f["region_code"],
                        f["period_from"],
                        f["period_to"],
                        f["amount_at_risk"],
                        f["summary"],
                        day,
                        day,
                    )
                )
                events.add(sid, "found", None, "open", details={"amount_at_risk": f["amount_at_risk"]})
                counts.opened += 1
                continue
            status, firing, amount, period_to = known[sid]
            counts.refreshed += 1
            if status == "rectified" and not _grew(f, amount, period_to):
                # The rows that were rectified are still in the extracts: the same finding, nothing new.
                seen_again.append((day, sid))
                continue
            refreshed.append(
                (
                    f["person_id"],
                    f["region_code"],
                    f["period_from"],
                    f["period_to"],
                    f["amount_at_risk"],
                    f["summary"],
                    day,
                    sid,
                )
            )
            if status == "rectified":
                # 整改后再次发生: new months or more money after rectification is a recurrence, worked again.
                reopened.append((sid,))
                events.add(
                    sid,
                    "reopened",
                    "rectified",
                    "open",
                    reason="整改后再次发现 recurrence",
                    details={"amount_at_risk": f["amount_at_risk"], "period_to": f["period_to"]},
                )
                counts.reopened += 1
            elif not firing:
                events.add(sid, "fired_again", status, status)
        current = {f["suspect_id"] for f in rows}
        for sid, (status, firing, _, _) in known.items():
            if firing and sid not in current:
                stopped.append((sid,))
                events.add(sid, "stopped_firing", status, status, reason="本次运行未再发现 not found by this run")
                counts.stopped_firing += 1
        con.executemany(
            "INSERT INTO cases (suspect_id, rule, subject_id, person_id, region_code, period_from, period_to,"
            " amount_at_risk, summary, status, firing, first_seen, last_seen)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', 1, ?, ?)",
            opened,
        )
        con.executemany("UPDATE cases SET firing = 1, last_seen = ? WHERE suspect_id = ?", seen_again)
        con.executemany(
            "UPDATE cases SET person_id = ?, region_code = ?, period_from = ?, period_to = ?, amount_at_risk = ?,"
            " summary = ?, firing = 1, last_seen = ? WHERE suspect_id = ?",
            refreshed,
        )
        con.executemany(
            "UPDATE cases SET status = 'open', recurrences = recurrences + 1 WHERE suspect_id = ?", reopened
        )
        con.executemany("UPDATE cases SET firing = 0 WHERE suspect_id = ?", stopped)
        events.append()
    return counts


def _grew(finding: dict[str, object], amount: str, period_to: str | None) -> bool:
    """Whether a finding shows more than the case recorded: more money, or later months."""
    more_money = Decimal(str(finding["amount_at_risk"])) > Decimal(amount)
    later = finding["period_to"] is not None and (period_to is None or str(finding["period_to"]) > period_to)
    return more_money or later


def record_payers(con: sqlite3.Connection, payers: pl.DataFrame) -> None:
    """Who paid what each case concerns (suspect_id, operator_id), for 回避 at assignment."""
    with write_transaction(con):
        con.execute("DELETE FROM case_payers")
        con.executemany("INSERT INTO case_payers (suspect_id, operator_id) VALUES (?, ?)", payers.rows())


# ---- the analysts ----------------------------------------------------------------------------
#
# Every analyst action is one write transaction: the case is read, the request checked (who, state, date,
# money), the event appended with the fields it sets (`details["set"]`), and the case row updated with exactly
# those fields. A correction replays the case's events without the one it voids (`_replay`), so the row is
# always what its events say (docs/adr/0015-case-work.md).

# The fields analysts' events set (and a correction rebuilds); the nightly run owns the others.
ANALYST_FIELDS = (
    "status",
    "assignee",
    "assigned_region",
    "assigned_on",
    "due_date",
    "due_provisional",
    "confirmed_on",
    "severity",
    "report_due",
    "report_due_provisional",
    "reported_on",
    "last_reported_on",
    "dismissed_reason",
    "recovered_amount",
    "written_off_amount",
    "excess_amount",
    "rectified_on",
)
ANALYST_ACTIONS = ("assign", "verify", "dismiss", "rectify", "write_off", "report", "report_again", "reopen")
# Who may act (beyond the assignee, who may do the WORK actions on their own case).
CHIEF_ONLY = ("assign", "write_off", "reopen", "correct")
WORK = ("verify", "dismiss", "rectify", "report")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Actor:
    """Whose act it is (`staff`, whose role and cases are checked), and the chief who recorded it on their
    behalf (`recorded_by`), if any."""

    staff: staff_register.Staff
    recorded_by: staff_register.Staff | None = None

    @property
    def id(self) -> str:
        return self.staff.staff_id

    def details(self) -> dict[str, object]:
        return {"recorded_by": self.recorded_by.staff_id} if self.recorded_by else {}


def actor(con: sqlite3.Connection, os_user: str, on_behalf_of: str | None = None) -> Actor:
    """The staff member an OS account maps to; with `on_behalf_of`, that colleague, recorded by a chief."""
    me = staff_register.actor_for(con, os_user)
    if on_behalf_of is None or on_behalf_of == me.staff_id:
        return Actor(me)
    if me.role != "chief":
        raise staff_register.NotAllowed(
            f"{me.label}: 只有科长可代他人登记 only a chief may record on a colleague's behalf (--by)"
        )
    return Actor(staff_register.get_active(con, on_behalf_of, "代登记对象 --by"), recorded_by=me)


def _as_actor(con: sqlite3.Connection, by: str | Actor) -> Actor:
    """An Actor, or a staff id taken as the actor (the API used directly, e.g. by tests and the web app)."""
    return by if isinstance(by, Actor) else Actor(staff_register.get_active(con, by, "经办人 actor"))


def member_of(con: sqlite3.Connection, by: str | Actor | staff_register.Staff) -> staff_register.Staff:
    """The staff member acting: an Actor's, a Staff, or the active staff member of an id (what the register's
    other books — blacklist, internal audit, inspections — check a role against)."""
    if isinstance(by, Actor):
        return by.staff
    if isinstance(by, staff_register.Staff):
        return by
    return staff_register.get_active(con, by, "经办人 actor")


def _may(who: Actor, action: str, case: sqlite3.Row) -> None:
    """Refuse what the actor's role does not allow on this case (NotAllowed)."""
    member = who.staff
    if member.role == "admin":
        raise staff_register.NotAllowed(
            f"{member.label}: 系统管理员不得经办业务 a system administrator may not touch cases"
        )
    if member.role == "auditor":
        raise staff_register.NotAllowed(f"{member.label}: 审计人员只读 an auditor reads, changes nothing")
    if member.role == "chief":
        return
    if action in CHIEF_ONLY:
        raise staff_register.NotAllowed(f"{member.label}: 只有科长可以{_ACTION_ZH[action]} only a chief may {action}")
    if case["assignee"] != member.staff_id:
        raise staff_register.NotAllowed(
            f"{case['suspect_id']}: {member.label} 不是该案核查人 is not the case's assignee "
            f"({case['assignee'] or '未交办 unassigned'}): only the assignee or a chief may {action}"
        )


_ACTION_ZH = {
    "assign": "交办",
    "verify": "确认违规",
    "dismiss": "排除",
    "rectify": "登记追回",
    "write_off": "核销",
    "report": "报告要情",
    "report_again": "续报要情",
    "reopen": "重新打开",
    "correct": "更正",
}


def get_case(con: sqlite3.Connection, suspect_id: str) -> sqlite3.Row:
    row = con.execute("SELECT * FROM cases WHERE suspect_id = ?", [suspect_id]).fetchone()
    if row is None:
        raise CaseError(f"没有这个疑点 no such case: {suspect_id}")
    return row


def _transition(con: sqlite3.Connection, suspect_id: str, action: str) -> sqlite3.Row:
    case = get_case(con, suspect_id)
    allowed, _ = TRANSITIONS[action]
    if case["status"] not in allowed:
        raise CaseError(
            f"{suspect_id}: 状态为{CASE_STATUS_ZH[case['status']]} ({case['status']})，不能{_ACTION_ZH[action]}; "
            f"'{action}' needs status {' or '.join(allowed)}"
        )
    return case


def _check_on(case: sqlite3.Row, on: dt.date, today: dt.date | None, *after: str) -> None:
    """An event date is not in the future, nor before the finding was first seen or the step it follows."""
    today = today or dt.date.today()
    if on > today:
        raise CaseError(f"{case['suspect_id']}: 日期 {on} 晚于今天 is in the future (today {today})")
    bounds = [("first_seen", "疑点发现日期 first seen"), *((f, _DATE_ZH[f]) for f in after)]
    for field, label in bounds:
        value = case[field]
        if value and on.isoformat() < value[:10]:
            raise CaseError(f"{case['suspect_id']}: 日期 {on} 早于{label} {value[:10]}: an event cannot precede it")


_DATE_ZH = {"assigned_on": "交办日期 assigned", "confirmed_on": "确认日期 confirmed"}


def _amount(value: Decimal, what: str) -> Decimal:
    """An exact amount in yuan, to the fen: finite, positive, at most two decimals."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise CaseError(f"{what}不是有效金额 is not an amount: {value}")
    if value <= 0:
        raise CaseError(f"{what}须大于零 must be more than zero: {value}")
    if value != value.quantize(CENT):
        raise CaseError(f"{what}只能精确到分 is exact to the fen (two decimals): {value}")
    return value.quantize(CENT)


def _dec(text: object) -> Decimal:
    return Decimal(str(text)).quantize(CENT) if text not in (None, "") else ZERO


def outstanding(case: sqlite3.Row | dict) -> Decimal:
    """待追回: the amount at risk not yet recovered nor written off."""
    rest = _dec(case["amount_at_risk"]) - _dec(case["recovered_amount"]) - _dec(case["written_off_amount"])
    return max(rest, ZERO)


def _record(
    con: sqlite3.Connection,
    case: sqlite3.Row,
    who: Actor | str,
    action: str,
    changes: dict[str, object],
    reason: str | None = None,
    extra: dict[str, object] | None = None,
) -> int:
    """Append the event (with the fields it sets) and update the case with exactly those fields."""
    actor_id = who.id if isinstance(who, Actor) else who
    details: dict[str, object] = {"set": changes, **(extra or {})}
    if isinstance(who, Actor):
        details.update(who.details())
    to_status = changes.get("status", case["status"])
    event_id = _event(con, case["suspect_id"], actor_id, action, case["status"], str(to_status), reason, details)
    if changes:
        columns = ", ".join(f"{name} = ?" for name in changes)
        con.execute(f"UPDATE cases SET {columns} WHERE suspect_id = ?", [*changes.values(), case["suspect_id"]])
    return event_id


def _money_row(
    con: sqlite3.Connection, case: sqlite3.Row, event_id: int, kind: str, amount: Decimal, on: dt.date, reason
) -> None:
    con.execute(
        "INSERT INTO case_money (suspect_id, event_id, kind, amount, on_date, reason) VALUES (?, ?, ?, ?, ?, ?)",
        [case["suspect_id"], event_id, kind, f"{amount}", on.isoformat(), reason],
    )


@contextlib.contextmanager
def _step(
    con: sqlite3.Connection,
    suspect_id: str,
    action: str,
    by: str | Actor,
    on: dt.date,
    today: dt.date | None,
    *after: str,
) -> Iterator[tuple[Actor, sqlite3.Row]]:
    """One analyst step in one write transaction: who acts, the case in a state the action starts from, the role
    allowed to take it, the date acceptable (not in the future, not before the finding nor the `after` steps)."""
    with write_transaction(con):
        who = _as_actor(con, by)
        case = _transition(con, suspect_id, action)
        _may(who, action, case)
        _check_on(case, on, today, *after)
        yield who, case


def assign(
    con: sqlite3.Connection,
    suspect_id: str,
    *,
    assignee: str,
    by: str | Actor,
    on: dt.date,
    today: dt.date | None = None,
    region_code: str | None = None,
    reason: str | None = None,
) -> Deadline:
    """Hand a case to a verifier of its pooling region (下查一级); due 30 working days on (chief only)."""
    with _step(con, suspect_id, "assign", by, on, today) as (who, case):
        region = region_code or case["region_code"]
        verifier = staff_register.get_active(con, assignee, "核查人 assignee")
        if verifier.role not in ("verifier", "chief"):
            raise staff_register.NotAllowed(
                f"{verifier.label}: 只能交办给核查员或科长 a case is assigned to a verifier or a chief"
            )
        if not verifier.covers(region):
            raise staff_register.NotAllowed(
                f"{verifier.label}: 不负责统筹区 {region} does not work region {region} "
                f"(regions: {', '.join(verifier.regions) or '-'})"
            )
        payers = {r[0] for r in con.execute("SELECT operator_id FROM case_payers WHERE suspect_id = ?", [suspect_id])}
        if assignee in payers:
            raise staff_register.NotAllowed(
                f"{suspect_id}: {assignee} 经办了该笔支付，应当回避 paid this benefit and may not verify it"
            )
        due = rectification_due(on)
        changes = {
            "status": "under_verification",
            "assignee": assignee,
            "assigned_region": region,
            "assigned_on": on.isoformat(),
            "due_date": due.date.isoformat(),
            "due_provisional": int(due.provisional),
        }
        _record(con, case, who, "assign", changes, reason, {"on": on.isoformat()})
    return due


def verify(
    con: sqlite3.Connection,
    suspect_id: str,
    *,
    by: str | Actor,
    on: dt.date,
    today: dt.date | None = None,
    reason: str | None = None,
) -> str:
    """Verification confirms the violation (确认违规): 要情 or 重大要情, to be reported in 5 working days."""
    with _step(con, suspect_id, "verify", by, on, today, "assigned_on") as (who, case):
        severity = classify(Decimal(case["amount_at_risk"]))
        due = report_due(on)
        changes = {
            "status": "confirmed",
            "confirmed_on": on.isoformat(),
            "severity": severity,
            "report_due": due.date.isoformat(),
            "report_due_provisional": int(due.provisional),
        }
        _record(con, case, who, "verify", changes, reason, {"on": on.isoformat()})
    return severity


def dismiss(
    con: sqlite3.Connection,
    suspect_id: str,
    *,
    by: str | Actor,
    reason: str,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> None:
    """Verification found no violation (排除); a reason is required."""
    if not reason or not reason.strip():
        raise CaseError("排除须说明理由 a dismissal needs a reason")
    on = on or today or dt.date.today()
    with _step(con, suspect_id, "dismiss", by, on, today) as (who, case):
        changes = {"status": "dismissed", "dismissed_reason": reason}
        _record(con, case, who, "dismiss", changes, reason, {"on": on.isoformat()})


def rectify(
    con: sqlite3.Connection,
    suspect_id: str,
    *,
    by: str | Actor,
    on: dt.date,
    recovered: Decimal,
    today: dt.date | None = None,
    reason: str | None = None,
    excess_reason: str | None = None,
) -> str:
    """Money recovered (追回): it accumulates per event; the case is 部分追回 until nothing is outstanding,
    then 已整改. More than is outstanding needs `excess_reason` (罚没 penalties …): the excess is recorded apart,
    never as recovery. Returns the new status."""
    amount = _amount(recovered, "追回金额 the amount recovered")
    with _step(con, suspect_id, "rectify", by, on, today, "assigned_on", "confirmed_on") as (who, case):
        rest = outstanding(case)
        toward, excess = min(amount, rest), max(amount - rest, ZERO)
        if excess and not (excess_reason and excess_reason.strip()):
            raise CaseError(
                f"{suspect_id}: 追回 {amount} 超过待追回金额 {rest}，须说明超出部分的性质（如罚没）"
                f" recovering {amount} exceeds the {rest} outstanding: give --excess-reason (e.g. 罚没 penalties)"
            )
        changes: dict[str, object] = {"recovered_amount": f"{_dec(case['recovered_amount']) + toward}"}
        if excess:
            changes["excess_amount"] = f"{_dec(case['excess_amount']) + excess}"
        closed = rest - toward == 0
        changes["status"] = "rectified" if closed else "partially_recovered"
        if closed:
            changes["rectified_on"] = on.isoformat()
        extra = {"on": on.isoformat(), "recovered_now": f"{toward}", "excess_now": f"{excess}"}
        event_id = _record(con, case, who, "rectify", changes, reason, extra)
        if toward:
            _money_row(con, case, event_id, "recovered", toward, on, reason)
        if excess:
            _money_row(con, case, event_id, "excess", excess, on, excess_reason)
    return str(changes["status"])


def write_off(
    con: sqlite3.Connection,
    suspect_id: str,
    *,
    by: str | Actor,
    on: dt.date,
    reason: str,
    amount: Decimal | None = None,
    today: dt.date | None = None,
) -> Decimal:
    """核销 (chief only, with a reason): write off the outstanding rest (or part of it); nothing outstanding
    closes the case as 已整改. Returns the amount written off."""
    if not reason or not reason.strip():
        raise CaseError("核销须说明理由 a write-off needs a reason")
    with _step(con, suspect_id, "write_off", by, on, today, "assigned_on", "confirmed_on") as (who, case):
        rest = outstanding(case)
        value = rest if amount is None else _amount(amount, "核销金额 the amount written off")
        if value > rest:
            raise CaseError(f"{suspect_id}: 核销金额 {value} 超过待追回金额 {rest} exceeds the {rest} outstanding")
        changes: dict[str, object] = {"written_off_amount": f"{_dec(case['written_off_amount']) + value}"}
        if rest - value == 0:
            changes.update(status="rectified", rectified_on=on.isoformat())
        event_id = _record(con, case, who, "write_off", changes, reason, {"on": on.isoformat(), "amount": f"{value}"})
        if value:
            _money_row(con, case, event_id, "written_off", value, on, reason)
    return value


def mark_reported(
    con: sqlite3.Connection, suspect_id: str, *, by: str | Actor, on: dt.date, today: dt.date | None = None
) -> str:
    """The confirmed case was reported upward as 要情 / 重大要情: the first report (报告), later ones 续报.
    Returns the action recorded ('report' or 'report_again')."""
    with write_transaction(con):
        who = _as_actor(con, by)
        case = get_case(con, suspect_id)
        if case["severity"] is None or case["status"] in ("open", "under_verification", "dismissed"):
            raise CaseError(f"{suspect_id}: 尚未确认违规，无需报告 not confirmed, nothing to report")
        _may(who, "report", case)
        _check_on(case, on, today, "confirmed_on")
        first = case["reported_on"] is None
        if not first and on.isoformat() < case["last_reported_on"]:
            raise CaseError(f"{suspect_id}: 续报日期 {on} 早于上次报告 {case['last_reported_on']}")
        changes: dict[str, object] = {"last_reported_on": on.isoformat()}
        if first:
            changes["reported_on"] = on.isoformat()
        action = "report" if first else "report_again"
        _record(con, case, who, action, changes, None, {"on": on.isoformat(), "reported_on": on.isoformat()})
    return action


def reopen(
    con: sqlite3.Connection,
    suspect_id: str,
    *,
    by: str | Actor,
    reason: str,
    on: dt.date | None = None,
    today: dt.date | None = None,
) -> str:
    """A chief reopens a closed case (排除 or 已整改) with a reason; the earlier events stay as they were.
    A dismissed case goes back to verification (or open when never assigned); a rectified one to 确认违规 or
    部分追回. Returns the new status."""
    if not reason or not reason.strip():
        raise CaseError("重新打开须说明理由 reopening needs a reason")
    with write_transaction(con):
        who = _as_actor(con, by)
        case = get_case(con, suspect_id)
        if case["status"] not in CLOSED:
            raise CaseError(f"{suspect_id}: 案件未结 ({case['status']})，无需重新打开 the case is not closed")
        _may(who, "reopen", case)
        on = on or today or dt.date.today()
        _check_on(case, on, today)
        changes: dict[str, object]
        if case["status"] == "dismissed":
            status = "under_verification" if case["assignee"] else "open"
            changes = {"status": status, "dismissed_reason": None}
        else:
            status = "partially_recovered" if _dec(case["recovered_amount"]) > 0 else "confirmed"
            changes = {"status": status, "rectified_on": None}
        _record(con, case, who, "reopen", changes, reason, {"on": on.isoformat()})
    return status


def correct(
    con: sqlite3.Connection,
    suspect_id: str,
    *,
    by: str | Actor,
    event_id: int,
    reason: str,
    today: dt.date | None = None,
) -> dict[str, object]:
    """A chief voids the latest analyst event of a case (更正): the event stays in the log, a `correct` event
    names it, money it recorded is reversed by negative rows, and the case is rebuilt from its other events.
    Only the latest step can be voided (then the one before it, …), so every state the case passes through was
    a valid one. Returns the fields the correction changed."""
    if not reason or not reason.strip():
        raise CaseError("更正须说明理由 a correction needs a reason")
    with write_transaction(con):
        who = _as_actor(con, by)
        case = get_case(con, suspect_id)
        _may(who, "correct", case)
        history = events(con, suspect_id)
        voided = _voided(history)
        live = [e for e in history if e["action"] in ANALYST_ACTIONS and e["event_id"] not in voided]
        if not live or live[-1]["event_id"] != event_id:
            latest = live[-1]["event_id"] if live else None
            raise CaseError(
                f"{suspect_id}: 只能更正最近一步 only the latest analyst event can be voided"
                f" (latest: {latest if latest is not None else 'none'}; asked: {event_id})"
            )
        target = live[-1]
        state = _replay(case, [e for e in history if e["event_id"] != event_id and e["event_id"] not in voided])
        changes = {name: value for name, value in state.items() if case[name] != value}
        extra = {"voids": event_id, "voided_action": target["action"]}
        new_event = _record(con, case, who, "correct", changes, reason, extra)
        for row in con.execute(
            "SELECT money_id, kind, amount, on_date FROM case_money WHERE event_id = ? AND corrects IS NULL"
            " AND money_id NOT IN (SELECT corrects FROM case_money WHERE corrects IS NOT NULL)",
            [event_id],
        ).fetchall():
            con.execute(
                "INSERT INTO case_money (suspect_id, event_id, kind, amount, on_date, reason, corrects)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [suspect_id, new_event, row[1], f"{-_dec(row[2])}", row[3], reason, row[0]],
            )
    return changes


def latest_step(con: sqlite3.Connection, suspect_id: str) -> int | None:
    """The event id of the case's latest analyst step not voided: the one `correct` may void."""
    history = events(con, suspect_id)
    voided = _voided(history)
    live = [e["event_id"] for e in history if e["action"] in ANALYST_ACTIONS and e["event_id"] not in voided]
    return live[-1] if live else None


def voided_events(con: sqlite3.Connection, suspect_id: str) -> set[int]:
    """The ids of the case's events a correction voided."""
    return _voided(events(con, suspect_id))


def _voided(history: list[sqlite3.Row]) -> set[int]:
    voided = set()
    for e in history:
        if e["action"] == "correct" and e["details"]:
            voided.add(int(json.loads(e["details"])["voids"]))
    return voided


def _replay(case: sqlite3.Row, history: list[sqlite3.Row]) -> dict[str, object]:
    """The analyst fields of a case as its events (in order) set them, from a case just found."""
    state: dict[str, object] = dict.fromkeys(ANALYST_FIELDS)
    state.update(status="open", due_provisional=0, report_due_provisional=0)
    for e in history:
        if e["action"] == "correct":  # its effect is the voiding, already taken out of `history`
            continue
        details = json.loads(e["details"]) if e["details"] else {}
        if e["action"] == "deadline_recomputed":  # a deadline recounted: only while the step it counts from stands
            starts = {"due_date": "assigned_on", "due_provisional": "assigned_on"}
            starts.update(report_due="confirmed_on", report_due_provisional="confirmed_on")
            state.update({k: v for k, v in details.get("set", {}).items() if state.get(starts[k]) is not None})
        elif "set" in details:
            state.update(details["set"])
        else:
            state.update(_legacy_set(e, details))
        if e["to_status"] and e["from_status"] != e["to_status"]:
            state["status"] = e["to_status"]
    return state


def _legacy_set(e: sqlite3.Row, details: dict[str, object]) -> dict[str, object]:
    """What an event written before events carried `set` changed (registers older than issue 12)."""
    day = str(e["at"])[:10]
    if e["action"] == "assign":
        return {
            "assignee": details.get("assignee"),
            "assigned_region": details.get("region"),
            "assigned_on": day,
            "due_date": details.get("due_date"),
        }
    if e["action"] == "verify":
        return {"confirmed_on": day, "severity": details.get("severity"), "report_due": details.get("report_due")}
    if e["action"] == "dismiss":
        return {"dismissed_reason": e["reason"]}
    if e["action"] == "rectify":
        return {"recovered_amount": details.get("recovered_amount"), "rectified_on": day}
    if e["action"] == "report":
        return {"reported_on": details.get("reported_on"), "last_reported_on": details.get("reported_on")}
    return {}


def record_access(
    con: sqlite3.Connection, who: Actor | staff_register.Staff, action: str, target: str, reason: str, os_user: str
) -> None:
    """Record that personal data was shown unmasked (who, when, what, why) in the access log."""
    member = who.staff if isinstance(who, Actor) else who
    if not reason or not reason.strip():
        raise CaseError("查看未脱敏信息须说明理由 showing unmasked data needs a reason (--reason)")
    if member.role == "admin":
        raise staff_register.NotAllowed(f"{member.label}: 系统管理员不得查看案件个人信息 an admin sees no case data")
    with write_transaction(con):
        con.execute(
            "INSERT INTO access_log (at, actor, os_user, action, target, reason) VALUES (?, ?, ?, ?, ?, ?)",
            [_now(), member.staff_id, os_user, action, target, reason],
        )


# ---- reading ---------------------------------------------------------------------------------


# The derived flags of a case as of a day (`:as_of`, ISO text), said once for every reader of the register:
# 逾期 overdue — a 整改期限 passed before the case was closed; report_overdue — a 要情 report not made in time.
OVERDUE_SQL = (
    "(due_date IS NOT NULL AND due_date < :as_of AND status NOT IN (" + ", ".join(f"'{s}'" for s in CLOSED) + "))"
)
REPORT_OVERDUE_SQL = "(report_due IS NOT NULL AND reported_on IS NULL AND report_due < :as_of)"
# Every column of `cases` with the derived flags (0/1): what `cases_frame` and `case_rows` read.
CASES_SQL = (
    f"SELECT *, COALESCE({OVERDUE_SQL}, 0) AS overdue, COALESCE({REPORT_OVERDUE_SQL}, 0) AS report_overdue FROM cases"
)
_FLAGS = ("overdue", "report_overdue")


def cases_frame(con: sqlite3.Connection, as_of: dt.date, suspect_id: str | None = None) -> pl.DataFrame:
    """All cases (or the one `suspect_id`), with the derived `overdue` (逾期) and `report_overdue` flags as of a
    day."""
    params: dict[str, object] = {"as_of": as_of.isoformat()}
    if suspect_id is None:
        sql = f"SELECT * FROM ({CASES_SQL}) ORDER BY suspect_id"
    else:
        sql, params["suspect_id"] = f"SELECT * FROM ({CASES_SQL}) WHERE suspect_id = :suspect_id", suspect_id
    frame = query_frame(con, sql, params)
    return frame.with_columns(pl.col(*_FLAGS).cast(pl.Boolean))


def amount_fen(text: object) -> int | None:
    """An amount as the register stores it ('41220.00') in integer fen, exact, rounded half to even as a cast to
    Decimal(18, 2) rounds it (`casework.amount_column`); None if it is not an amount. SQLite calls it as
    `amount_fen(...)` (within `AMOUNT_FEN_SQL`) on a connection `case_rows` prepared: the queue's amount filters and
    sort, exact, without floats."""
    if text is None:
        return None
    value = str(text)
    if value != value.strip():
        return None
    try:
        number = Decimal(value)
        return int(number.quantize(CENT, rounding=ROUND_HALF_EVEN) * 100) if number.is_finite() else None
    except ArithmeticError:
        return None


def fen_sql(column: str) -> str:
    """SQL of `amount_fen(column)` for a column holding amounts, exact and cheap: the form the register writes
    ('41220.00', '-3.50': the point third from the end) is read by SQLite itself, the point dropped, as an integer
    (no float anywhere); any other form ('12.5', '1E+3') by the Python function. The queue sorts a province's
    cases by it on every page, so the common form never leaves SQL."""
    c = column
    return f"(CASE WHEN substr({c}, -3, 1) = '.' THEN CAST(replace({c}, '.', '') AS INTEGER) ELSE amount_fen({c}) END)"


AMOUNT_FEN_SQL = fen_sql("amount_at_risk")


def _prepared(con: sqlite3.Connection) -> sqlite3.Connection:
    con.create_function("amount_fen", 1, amount_fen, deterministic=True)
    return con


def count_cases(con: sqlite3.Connection, as_of: dt.date, where: str = "1", params: dict | None = None) -> int:
    """How many cases pass `where` (SQL over the columns of `CASES_SQL`, named parameters `params`)."""
    sql = f"SELECT count(*) FROM ({CASES_SQL}) WHERE {where}"
    return int(_prepared(con).execute(sql, {**(params or {}), "as_of": as_of.isoformat()}).fetchone()[0])


def case_rows(
    con: sqlite3.Connection,
    as_of: dt.date,
    where: str = "1",
    params: dict | None = None,
    order_by: str = "suspect_id",
    limit: int = -1,
    offset: int = 0,
) -> list[dict[str, object]]:
    """The cases that pass `where`, in `order_by`, `limit` of them from `offset` (-1: all): each a dict of the
    columns `cases_frame` has, the flags as booleans. `where` and `order_by` are SQL over the columns of
    `CASES_SQL` (and `AMOUNT_FEN_SQL`), written by the caller from fixed text; every value a user gave
    is a named parameter in `params`. Only the rows asked for are read into Python."""
    bound = {**(params or {}), "as_of": as_of.isoformat(), "limit_": limit, "offset_": offset}
    con = _prepared(con)
    sql = f"SELECT * FROM ({CASES_SQL}) WHERE {where} ORDER BY {order_by} LIMIT :limit_ OFFSET :offset_"
    if limit >= 0:
        # a page: sorted as ids only (a deep page's sort keeps offset + limit small rows), then those rows read
        ids = [r[0] for r in con.execute(sql.replace("SELECT *", "SELECT suspect_id", 1), bound)]
        sql = f"SELECT * FROM ({CASES_SQL}) WHERE suspect_id IN (SELECT value FROM json_each(:ids_))"
        found = {r["suspect_id"]: r for r in con.execute(sql, {"as_of": bound["as_of"], "ids_": json.dumps(ids)})}
        cursor: Iterable[sqlite3.Row] = [found[i] for i in ids]
    else:
        cursor = con.execute(sql, bound)
    rows = []
    for row in cursor:
        case = dict(row)
        for flag in _FLAGS:
            case[flag] = bool(case[flag])
        rows.append(case)
    return rows


def query_frame(con: sqlite3.Connection, sql: str, params: list[object] | dict | None = None) -> pl.DataFrame:
    """A register query as a frame: integer columns stay integers, everything else is text."""
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    rows = [tuple(row) for row in cursor.fetchall()]
    integers = {"firing", "recurrences", "event_id", "due_provisional", "report_due_provisional", *_FLAGS}
    schema = {c: (pl.Int64 if c in integers else pl.String) for c in columns}
    return pl.DataFrame(rows, schema=schema, orient="row")


def events(con: sqlite3.Connection, suspect_id: str) -> list[sqlite3.Row]:
    return con.execute("SELECT * FROM case_events WHERE suspect_id = ? ORDER BY event_id", [suspect_id]).fetchall()


def register_path_for(db: Path) -> Path:
    """The register beside its DuckDB file: var/fundwatch.duckdb -> var/fundwatch.cases.sqlite."""
    return db.with_suffix(".cases.sqlite")
