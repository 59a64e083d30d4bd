"""The blacklist (黑名单) of violating employers, persons and bank accounts (CONTRACT.md section 7).

Kept in the case register (sql/cases/006_screening.sql): an entry is added once and never erased (triggers refuse
UPDATE and DELETE); its removal is a row of its own (who, when, why), and the entry stays on record. Only a chief
(科长) adds or removes, always with a reason; a key put on the list again after its removal is a new entry.

Who reads it:

* pre-payment screening holds a payment whose person or bank account is listed (reason BLACKLISTED,
  `in_force_frame`);
* the nightly run mirrors every entry into the DuckDB file as `blacklist`, and the findings whose person, account
  or employer is listed say so in their evidence (`pipelines.cases.nightly`, sql/cases/mirror_blacklist.sql);
* the half-year report lists the additions and removals of its half year (`changes_between`);
* a confirmed case offers what it names for the list (`case_candidates`).

Keys are canonical: a person's citizen ID in its 18-character form (a legacy 15-digit ID converted, upper-case X,
the check digit verified), an account or an employer id as given, trimmed.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.present.masking import is_citizen_id, mask_account, mask_id
from schemas.divisions import division_codes

KINDS = ("employer", "person", "account")
KIND_ZH = {"employer": "单位", "person": "人员", "account": "银行账号"}

# The columns of `in_force_frame` (one row per entry in force), in order.
IN_FORCE_COLUMNS = ("kind", "key", "entry_id", "reason", "source_suspect_id", "added_by", "added_at")
# The columns of `entries` / the contract's `blacklist` (one row per entry ever made), in order.
ENTRY_COLUMNS = (
    "entry_id",
    "kind",
    "key",
    "reason",
    "source_suspect_id",
    "added_by",
    "added_at",
    "removed_by",
    "removed_at",
    "removal_reason",
    "in_force",
)

# Rules whose subject is a bank account (SHARED_ACCOUNT: one account, several persons) or starts with an
# employer (RECON_CONTRIB: `employer_id|scheme|period`).
ACCOUNT_SUBJECT_RULES = ("SHARED_ACCOUNT",)
EMPLOYER_SUBJECT_RULES = ("RECON_CONTRIB",)
# The fields of a finding's evidence rows that name a bank account or an employer.
ACCOUNT_FIELDS = ("bank_account", "account_no")
EMPLOYER_FIELDS = ("employer_id",)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


class BlacklistError(reg.CaseError):
    """A blacklist change the register refuses (a bad key, no reason, already listed, no such entry …)."""


@dataclass(frozen=True)
class Candidate:
    """What a case offers for the blacklist: its kind, canonical key, and a label a person may read (masked)."""

    kind: str
    key: str
    label: str


def kind_label(kind: str) -> str:
    """'人员 person'."""
    return f"{KIND_ZH[kind]} {kind}"


def shown_key(kind: str, key: str) -> str:
    """A key as a person may read it: an ID keeps its first 6 and last 4 characters, an account its last 4, an
    employer id is shown as it is (unless it is shaped like a citizen ID)."""
    if kind == "person":
        return mask_id(key)
    if kind == "account":
        return mask_account(key)
    return mask_id(key) if is_citizen_id(key) else key  # an employer: 个体工商户 may be registered under an ID


# ---- keys ------------------------------------------------------------------------------------------------------


def _id_check_char(first17: str) -> str:
    return _ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def canonical_person_id(text: str) -> str:
    """A citizen ID (GB 11643) in its canonical 18-character form, else BlacklistError saying why.

    Spaces and full-width forms are ignored and x is upper-cased; a legacy 15-digit ID (born 19xx, no check digit)
    gets "19" after its sixth digit and its check digit. The check digit, the birth date and the division code
    (any GB/T 2260 ever listed) must be right: a chief lists a person, not a typo."""
    value = "".join(unicodedata.normalize("NFKC", text or "").split()).upper()
    if len(value) == 15 and value.isdigit():
        value = value[:6] + "19" + value[6:]
        value += _id_check_char(value)
    if not (len(value) == 18 and value[:17].isdigit() and value[:17].isascii() and value[17] in "0123456789X"):
        raise BlacklistError("身份证号无效 invalid citizen ID: not 18 characters (or the legacy 15 digits)")
    expected = _id_check_char(value[:17])
    if value[17] != expected:
        raise BlacklistError(f"身份证号校验位错误 invalid citizen ID, wrong check digit (expected {expected})")
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise BlacklistError("身份证号出生日期无效 invalid citizen ID, no such birth date") from None
    if value[:6] not in division_codes():
        raise BlacklistError("身份证号地区码无效 invalid citizen ID, region code never issued")
    return value


def canonical_key(kind: str, key: str) -> str:
    """The key as the blacklist stores it (see the module's docstring), else BlacklistError."""
    if kind not in KINDS:
        raise BlacklistError(f"类别须为 a kind is one of {', '.join(KINDS)}: {kind!r}")
    if kind == "person":
        return canonical_person_id(key)
    value = (key or "").strip()
    if not value:
        raise BlacklistError(f"{KIND_ZH[kind]}不能为空 the {kind} key cannot be empty")
    return value


# ---- changes (a chief's) ----------------------------------------------------------------------------------------


def _chief(member: staff_register.Staff, what: str) -> None:
    if member.role != "chief":
        raise staff_register.NotAllowed(f"{member.label}: 只有科长可以{what}黑名单 only a chief changes the blacklist")


def _reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise BlacklistError(f"{what}须说明理由 a reason is required")
    return reason.strip()


def add(
    con: sqlite3.Connection,
    by: str | reg.Actor | staff_register.Staff,
    kind: str,
    key: str,
    reason: str,
    source_suspect_id: str | None = None,
) -> int:
    """Put an employer, a person or an account on the blacklist (a chief, with a reason); returns the entry id.
    Refused: a key already listed (in force) for that kind, a bad key, a source case the register does not know."""
    member = reg.member_of(con, by)
    _chief(member, "列入")
    why = _reason(reason, "列入黑名单")
    canonical = canonical_key(kind, key)
    source = (source_suspect_id or "").strip() or None
    with reg.write_transaction(con):
        listed = con.execute(
            "SELECT entry_id FROM blacklist WHERE kind = ? AND key = ? AND in_force", [kind, canonical]
        ).fetchone()
        if listed is not None:
            raise BlacklistError(
                f"{kind_label(kind)} {shown_key(kind, canonical)} 已在黑名单中 already listed (entry {listed[0]})"
            )
        if source is not None and con.execute("SELECT 1 FROM cases WHERE suspect_id = ?", [source]).fetchone() is None:
            raise BlacklistError(f"没有这个疑点 no such case: {source}")
        cursor = con.execute(
            "INSERT INTO blacklist_entries (kind, key, reason, source_suspect_id, added_by, added_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [kind, canonical, why, source, member.staff_id, reg._now()],
        )
        return int(cursor.lastrowid)


def remove(con: sqlite3.Connection, by: str | reg.Actor | staff_register.Staff, entry_id: int, reason: str) -> None:
    """Take an entry off the blacklist (a chief, with a reason); the entry stays on record, marked removed."""
    member = reg.member_of(con, by)
    _chief(member, "移出")
    why = _reason(reason, "移出黑名单")
    with reg.write_transaction(con):
        row = con.execute("SELECT in_force, removed_at FROM blacklist WHERE entry_id = ?", [entry_id]).fetchone()
        if row is None:
            raise BlacklistError(f"没有这条黑名单记录 no blacklist entry {entry_id}")
        if not row[0]:
            raise BlacklistError(f"黑名单记录 {entry_id} 已于 {row[1]} 移出 entry {entry_id} was already removed")
        con.execute(
            "INSERT INTO blacklist_removals (entry_id, removed_by, removed_at, removal_reason) VALUES (?, ?, ?, ?)",
            [entry_id, member.staff_id, reg._now(), why],
        )


# ---- reading ----------------------------------------------------------------------------------------------------


def entries(con: sqlite3.Connection, in_force_only: bool = False) -> list[dict[str, object]]:
    """Every entry ever made (or those in force), oldest first: the contract's columns with entry_id and in_force
    (a bool)."""
    where = "WHERE in_force" if in_force_only else ""
    rows = con.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM blacklist {where} ORDER BY entry_id").fetchall()
    return [{**dict(zip(ENTRY_COLUMNS, r, strict=True)), "in_force": bool(r[-1])} for r in rows]


def entries_frame(con: sqlite3.Connection) -> pl.DataFrame:
    """`entries` as a frame (entry_id Int64, in_force Boolean, the rest text): what the nightly run mirrors."""
    schema = {c: pl.String for c in ENTRY_COLUMNS} | {"entry_id": pl.Int64, "in_force": pl.Boolean}
    rows = [tuple(e[c] for c in ENTRY_COLUMNS) for e in entries(con)]
    return pl.DataFrame(rows, schema=schema, orient="row")


def in_force_frame(con: sqlite3.Connection) -> pl.DataFrame:
    """One row per entry in force: kind, key, entry_id, reason, source_suspect_id, added_by, added_at."""
    schema = {c: pl.String for c in IN_FORCE_COLUMNS} | {"entry_id": pl.Int64}
    rows = con.execute(f"SELECT {', '.join(IN_FORCE_COLUMNS)} FROM blacklist WHERE in_force ORDER BY entry_id")
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


CHANGE_COLUMNS = ("change", "at", "entry_id", "kind", "key", "reason", "by", "source_suspect_id")


def changes_between(con: sqlite3.Connection, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The additions (change 'added' 列入) and removals ('removed' 移出) made from `start` to `end`, both days
    included (the day of the time as recorded, in the office's zone), in the order they were made: change, at,
    entry_id, kind, key, reason (why it was added, or why removed), by, source_suspect_id."""
    sql = (
        "SELECT * FROM ("
        " SELECT 'added' AS change, added_at AS at, entry_id, kind, key, reason, added_by AS by, source_suspect_id"
        " FROM blacklist_entries"
        " UNION ALL"
        " SELECT 'removed', r.removed_at, e.entry_id, e.kind, e.key, r.removal_reason, r.removed_by,"
        " e.source_suspect_id"
        " FROM blacklist_removals AS r JOIN blacklist_entries AS e USING (entry_id)"
        ") WHERE substr(at, 1, 10) BETWEEN ? AND ? ORDER BY at, entry_id, change"
    )
    rows = con.execute(sql, [start.isoformat(), end.isoformat()]).fetchall()
    schema = {c: pl.String for c in CHANGE_COLUMNS} | {"entry_id": pl.Int64}
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


# ---- what a case offers -----------------------------------------------------------------------------------------


def _evidence_rows(value: object) -> list[Mapping[str, object]]:
    """A finding's evidence rows (JSON text or already parsed); none when it is not a JSON array of objects."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list):
        return []
    return [row for row in value if isinstance(row, Mapping)]


def case_candidates(finding: Mapping[str, object]) -> list[Candidate]:
    """What a confirmed case offers for the blacklist, each once: its person (`person_id`), then every bank account
    (a SHARED_ACCOUNT's subject, then each `bank_account` / `account_no` of its evidence rows, in their order), then
    every employer (a RECON_CONTRIB subject's first part, then each `employer_id` of its evidence rows). A value that
    is empty, or a person ID that is not a valid one, is left out."""
    found: dict[tuple[str, str], None] = {}

    def offer(kind: str, value: object) -> None:
        if value is None or not str(value).strip():
            return
        try:
            key = canonical_key(kind, str(value))
        except BlacklistError:
            return
        found.setdefault((kind, key), None)

    rule, subject = finding.get("rule"), finding.get("subject_id")
    rows = _evidence_rows(finding.get("evidence_rows"))
    offer("person", finding.get("person_id"))
    if rule in ACCOUNT_SUBJECT_RULES:
        offer("account", subject)
    for row in rows:
        for field in ACCOUNT_FIELDS:
            offer("account", row.get(field))
    if rule in EMPLOYER_SUBJECT_RULES and subject:
        offer("employer", str(subject).split("|")[0])
    for row in rows:
        for field in EMPLOYER_FIELDS:
            offer("employer", row.get(field))
    return [Candidate(kind, key, f"{kind_label(kind)} {shown_key(kind, key)}") for kind, key in found]
