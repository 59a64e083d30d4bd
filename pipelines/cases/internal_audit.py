"""稽核 — the agency's monthly internal audit sample (policy 浙人社发〔2012〕320号 §四, issue 16 item 1).

Every month the agency audits the business it completed the month before, coverage at least 20%. fundwatch draws
the sample from the published `business_log`, records it in the case register (sql/cases/007_internal_audit.sql)
and keeps each audited business's result (无问题 ok / 有问题 problem + finding), which can open a case.

* The population of month M (`population`, sql/cases/internal_audit_population.sql): the businesses completed in
  M — a business whose `pay` step (支付), or when it has none its last step, has `operated_at` in M. operated_at
  is a timestamp without a zone, the office's local time as delivered: M's bounds are local too.
* The strata: business type x the operator of the completing step (经办人). From every stratum of n businesses
  ceil(rate x n) are sampled, so every operator who completed business is sampled and the coverage of every
  stratum, hence of the month, is at least the rate (20%).
* Every business of M that a nightly rule flagged (`flagged_businesses`: a finding in `suspects` of a rule reading
  business_log whose subject or evidence rows name the business) is always sampled (why 'flagged'); it counts
  towards its stratum's quota, the rest of the quota is drawn at random (why 'stratum').
* The draw is reproducible and provable: its seed (`secrets.randbits(63)` unless given) is recorded; a stratum's
  businesses, sorted by business_id, are drawn with `random.Random("<seed>|<type>|<operator>")` (seeded from the
  text through SHA-512, never Python's hash order), so the same seed, month and published data give the same
  sample; `verify_draw` draws again and compares. The population's digest is recorded too, so a re-draw over
  changed data says so instead of failing obscurely.
* One draw in force per month: a second is refused, naming the first, unless the first was withdrawn with a
  reason (`withdraw`); the withdrawn draw stays on record.
* Who: a chief (科长) draws, withdraws and records results; an auditor (审计) reads; a verifier and an admin
  neither (the agency audits itself under the supervision office: the office's chief directs it, its auditors
  oversee). docs/adr/0024-internal-audit-sample.md says why.
* A problem found can open a case of rule code `AUDIT_FINDING` 稽核发现问题 (one per business: a second problem of
  the same business is linked to the same case). Such a case is written with `firing = 0`: no nightly rule
  produces it, so a nightly run neither refreshes it nor marks it "stopped firing".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import secrets
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

import duckdb

from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.rules import RULES
from pipelines.warehouse.sql import read_sql

RATE = Decimal("0.20")  # policy §四: at least 20% of the month's business
RULE = "AUDIT_FINDING"
RULE_ZH = "稽核发现问题"
RESULTS = ("ok", "problem")
RESULT_ZH = {"ok": "无问题", "problem": "有问题", None: "未录入"}
WHY_ZH = {"flagged": "规则疑点", "stratum": "分层随机"}
# The nightly rules that read business_log: their findings name businesses (subject or evidence rows).
BUSINESS_RULES = tuple(rule.code for rule in RULES if "business_log" in rule.inputs)
READERS = ("chief", "auditor")


class AuditError(reg.CaseError):
    """A draw, withdrawal or result the register refuses (a month not over, already drawn, no such draw …)."""


@dataclass(frozen=True)
class Business:
    """A business completed in the month (one row of the population)."""

    business_id: str
    business_type: str
    operator_id: str
    operator_name: str | None
    region_code: str | None
    person_id: str | None
    amount: Decimal | None
    completed_at: dt.datetime
    completed_stage: str

    @property
    def stratum(self) -> tuple[str, str]:
        return (self.business_type, self.operator_id)


@dataclass(frozen=True)
class Pick:
    """A sampled business: why it is in the sample, and the findings that flagged it ('RULE:suspect_id')."""

    business: Business
    why: str
    flagged_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stratum:
    business_type: str
    operator_id: str
    operator_name: str | None
    region_code: str | None
    population: int
    sampled: int
    flagged: int


@dataclass
class Sample:
    """What a draw takes: its strata and its picks (in business_id order)."""

    strata: list[Stratum] = field(default_factory=list)
    picks: list[Pick] = field(default_factory=list)

    @property
    def population(self) -> int:
        return sum(s.population for s in self.strata)


@dataclass(frozen=True)
class Drawn:
    """A draw as recorded: its id and what it took."""

    draw_id: int
    month: str
    seed: int
    rate: Decimal
    run_id: str | None
    population: int
    sampled: int
    flagged: int
    operators: int


@dataclass(frozen=True)
class Verification:
    """A draw drawn again from its seed: whether the population is the one drawn from and the sample the same."""

    draw_id: int
    run_id_then: str | None
    run_id_now: str | None
    same_population: bool
    same_sample: bool
    missing: tuple[str, ...]  # recorded, not drawn again
    extra: tuple[str, ...]  # drawn again, not recorded

    @property
    def proven(self) -> bool:
        return self.same_population and self.same_sample


# ---- months -----------------------------------------------------------------------------------------------------


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """The month 'YYYYMM' as [first moment, first moment of the next month), naive local time."""
    if not (isinstance(month, str) and len(month) == 6 and month.isascii() and month.isdigit()):
        raise AuditError(f"月份须为 YYYYMM a month is YYYYMM: {month!r}")
    year, number = int(month[:4]), int(month[4:])
    if not 1 <= number <= 12 or year < 1900:
        raise AuditError(f"月份无效 no such month: {month!r}")
    start = dt.datetime(year, number, 1)
    following = dt.datetime(year + number // 12, number % 12 + 1, 1)
    return start, following


def previous_month(today: dt.date) -> str:
    """The month before today's: the one policy §四 audits."""
    first = today.replace(day=1) - dt.timedelta(days=1)
    return f"{first.year:04d}{first.month:02d}"


def parse_rate(value: Decimal | str) -> Decimal:
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise AuditError(f"抽样比例无效 not a rate: {value!r}") from None
    if not rate.is_finite() or rate < RATE or rate > 1:
        raise AuditError(f"抽样比例须在 {RATE} 至 1 之间 the rate is from {RATE} (policy §四) to 1: {value}")
    return rate


# ---- the population (the published file, read-only) ------------------------------------------------------------


def population(duck: duckdb.DuckDBPyConnection, month: str) -> list[Business]:
    """The businesses completed in `month`, by business_id (sql/cases/internal_audit_population.sql)."""
    start, following = month_bounds(month)
    rows = duck.execute(
        read_sql("cases/internal_audit_population.sql"), {"month_start": start, "next_month_start": following}
    ).fetchall()
    return [
        Business(
            business_id=str(r[0]),
            business_type=str(r[1] or ""),
            operator_id=str(r[2]),
            operator_name=r[3],
            region_code=r[4],
            person_id=r[5] or None,
            amount=None if r[6] is None else Decimal(str(r[6])),
            completed_at=r[7],
            completed_stage=str(r[8]),
        )
        for r in rows
    ]


def flagged_businesses(duck: duckdb.DuckDBPyConnection, business_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """business_id -> the findings of `suspects` that name it ('RULE:suspect_id', sorted): the findings of the rules
    reading business_log (SOD_BREACH, LARGE_PAYMENT_UNAPPROVED …) whose subject is the business or whose evidence
    rows carry its business_id. Every finding ever made counts (also one that stopped firing)."""
    wanted = set(business_ids)
    if not wanted or not BUSINESS_RULES:
        return {}
    rows = duck.execute(
        "SELECT rule, subject_id, suspect_id, evidence_rows FROM suspects WHERE list_contains($rules, rule)",
        {"rules": list(BUSINESS_RULES)},
    ).fetchall()
    found: dict[str, set[str]] = defaultdict(set)
    for rule, subject, suspect_id, evidence in rows:
        named = {str(subject)} | _business_ids_in(evidence)
        for business_id in named & wanted:
            found[business_id].add(f"{rule}:{suspect_id}")
    return {b: tuple(sorted(v)) for b, v in found.items()}


def _business_ids_in(evidence: object) -> set[str]:
    try:
        rows = json.loads(evidence) if isinstance(evidence, str) else evidence
    except ValueError:
        return set()
    if not isinstance(rows, list):
        return set()
    return {str(r["business_id"]) for r in rows if isinstance(r, Mapping) and r.get("business_id")}


def published_run(duck: duckdb.DuckDBPyConnection) -> str | None:
    """The run whose data the published file holds."""
    rows = duck.execute(
        "SELECT run_id FROM runs WHERE status IN ('succeeded', 'bad_input') ORDER BY finished_at DESC NULLS LAST "
        "LIMIT 1"
    ).fetchall()
    return str(rows[0][0]) if rows else None


def population_digest(businesses: Iterable[Business]) -> str:
    """SHA-256 of the population as drawn from: one line per business, sorted."""
    lines = sorted(
        "|".join(
            (
                b.business_id,
                b.business_type,
                b.operator_id,
                b.completed_at.isoformat(),
                b.completed_stage,
                "" if b.amount is None else f"{b.amount}",
            )
        )
        for b in businesses
    )
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


# ---- the draw (pure) --------------------------------------------------------------------------------------------


def quota(size: int, rate: Decimal) -> int:
    """ceil(rate x size), exactly: 1 of 1, 1 of 5, 2 of 6."""
    return int((rate * size).to_integral_value(rounding=ROUND_CEILING))


def draw_sample(
    businesses: Iterable[Business], flagged: Mapping[str, tuple[str, ...]], seed: int, rate: Decimal
) -> Sample:
    """The sample of a population: per stratum (type, operator) its flagged businesses and, drawn at random from its
    other businesses sorted by business_id, as many more as its quota ceil(rate x n) still needs."""
    by_stratum: dict[tuple[str, str], list[Business]] = defaultdict(list)
    for b in businesses:
        by_stratum[b.stratum].append(b)
    sample = Sample()
    for key in sorted(by_stratum):
        members = sorted(by_stratum[key], key=lambda b: b.business_id)
        marked = [b for b in members if b.business_id in flagged]
        others = [b for b in members if b.business_id not in flagged]
        need = max(0, quota(len(members), rate) - len(marked))
        rng = random.Random(f"{seed}|{key[0]}|{key[1]}")  # a text seed goes through SHA-512: the same everywhere
        chosen = rng.sample(others, need)
        picks = [Pick(b, "flagged", flagged[b.business_id]) for b in marked] + [Pick(b, "stratum") for b in chosen]
        first = members[0]
        sample.strata.append(
            Stratum(key[0], key[1], first.operator_name, first.region_code, len(members), len(picks), len(marked))
        )
        sample.picks.extend(picks)
    sample.picks.sort(key=lambda p: p.business.business_id)
    return sample


# ---- who ----------------------------------------------------------------------------------------------------------


def _chief(member: staff_register.Staff, what: str) -> None:
    if member.role != "chief":
        raise staff_register.NotAllowed(
            f"{member.label}: 只有科长可以{what} only a chief may {what} (审计人员只读 an auditor reads)"
        )


def may_read(member: staff_register.Staff) -> None:
    """A chief or an auditor reads the audit draws; nobody else (NotAllowed)."""
    if member.role not in READERS:
        raise staff_register.NotAllowed(
            f"{member.label}: 稽核抽样仅限科长、审计人员查看 only a chief or an auditor reads the audit draws"
        )


def _reason(text: str | None, what: str) -> str:
    if not text or not text.strip():
        raise AuditError(f"{what}须说明理由 a reason is required")
    return text.strip()


# ---- recording ----------------------------------------------------------------------------------------------------


def draw(
    con: sqlite3.Connection,
    duck: duckdb.DuckDBPyConnection,
    month: str,
    by: str | reg.Actor | staff_register.Staff,
    seed: int | None = None,
    rate: Decimal = RATE,
    *,
    today: dt.date | None = None,
) -> Drawn:
    """Draw and record the sample of `month` (a chief). Refused: a month not yet over, a month without completed
    business, a month already drawn (the draw in force is named: withdraw it first)."""
    member = reg.member_of(con, by)
    _chief(member, "抽取稽核样本")
    rate = parse_rate(rate)
    start, following = month_bounds(month)
    today = today or dt.date.today()
    if following.date() > today:
        raise AuditError(f"{month} 尚未结束 the month is not over yet (today {today}): 稽核上月办结业务")
    if seed is None:
        seed = secrets.randbits(63)
    if not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise AuditError(f"随机种子须为 0 至 2^63-1 的整数 a seed is an integer from 0 to 2^63-1: {seed!r}")
    _refuse_second(con, month)  # early, before reading the published file; checked again when written
    businesses = population(duck, month)
    if not businesses:
        raise AuditError(f"{month} 无办结业务 no business completed in {month} in the published data")
    flagged = flagged_businesses(duck, (b.business_id for b in businesses))
    sample = draw_sample(businesses, flagged, seed, rate)
    run_id = published_run(duck)
    n_flagged = sum(1 for p in sample.picks if p.why == "flagged")
    with reg.write_transaction(con):
        _refuse_second(con, month)
        cursor = con.execute(
            "INSERT INTO audit_draws (month, seed, rate, drawn_by, drawn_at, run_id, population, sampled, flagged,"
            " population_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                month,
                seed,
                f"{rate}",
                member.staff_id,
                reg._now(),
                run_id,
                len(businesses),
                len(sample.picks),
                n_flagged,
                population_digest(businesses),
            ],
        )
        draw_id = int(cursor.lastrowid)
        con.executemany(
            "INSERT INTO audit_strata (draw_id, business_type, operator_id, operator_name, region_code, population,"
            " sampled, flagged) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    draw_id,
                    s.business_type,
                    s.operator_id,
                    s.operator_name,
                    s.region_code,
                    s.population,
                    s.sampled,
                    s.flagged,
                )
                for s in sample.strata
            ],
        )
        con.executemany(
            "INSERT INTO audit_sample (draw_id, business_id, business_type, operator_id, operator_name, region_code,"
            " person_id, amount, completed_at, completed_stage, why, flagged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?)",
            [
                (
                    draw_id,
                    p.business.business_id,
                    p.business.business_type,
                    p.business.operator_id,
                    p.business.operator_name,
                    p.business.region_code,
                    p.business.person_id,
                    None if p.business.amount is None else f"{p.business.amount}",
                    p.business.completed_at.isoformat(sep=" "),
                    p.business.completed_stage,
                    p.why,
                    ";".join(p.flagged_by) or None,
                )
                for p in sample.picks
            ],
        )
    operators = len({s.operator_id for s in sample.strata})
    return Drawn(draw_id, month, seed, rate, run_id, len(businesses), len(sample.picks), n_flagged, operators)


def _refuse_second(con: sqlite3.Connection, month: str) -> None:
    first = con.execute(
        "SELECT draw_id, drawn_by, drawn_at FROM audit_draw_status WHERE month = ? AND in_force ORDER BY draw_id",
        [month],
    ).fetchone()
    if first is not None:
        raise AuditError(
            f"{month} 已抽样 already drawn: 抽样 draw {first[0]}（{first[1]} 于 {first[2]}）；"
            f"如需重新抽样，须先撤销并说明理由 withdraw draw {first[0]} with a reason first"
        )


def withdraw(con: sqlite3.Connection, by: str | reg.Actor | staff_register.Staff, draw_id: int, reason: str) -> None:
    """Withdraw a draw (a chief, with a reason): it stays on record with its results; the month may be drawn again."""
    member = reg.member_of(con, by)
    _chief(member, "撤销稽核抽样")
    why = _reason(reason, "撤销抽样")
    with reg.write_transaction(con):
        row = get_draw(con, draw_id)
        if not row["in_force"]:
            raise AuditError(f"抽样 {draw_id} 已于 {row['withdrawn_at']} 撤销 draw {draw_id} was already withdrawn")
        con.execute(
            "INSERT INTO audit_draw_withdrawals (draw_id, withdrawn_by, withdrawn_at, withdrawal_reason)"
            " VALUES (?, ?, ?, ?)",
            [draw_id, member.staff_id, reg._now(), why],
        )


def record_result(
    con: sqlite3.Connection,
    by: str | reg.Actor | staff_register.Staff,
    draw_id: int,
    business_id: str,
    result: str,
    finding: str | None = None,
    open_case: bool = False,
    *,
    today: dt.date | None = None,
) -> tuple[int, str | None]:
    """Record the audit of a sampled business (a chief): 'ok' 无问题, or 'problem' 有问题 with its finding; with
    `open_case` a problem opens a case of rule AUDIT_FINDING (or is linked to the business's case already open).
    A later result replaces an earlier one (both stay on record). Returns (result_id, suspect_id or None)."""
    member = reg.member_of(con, by)
    _chief(member, "登记稽核结论")
    if result not in RESULTS:
        raise AuditError(f"稽核结论须为 a result is ok（无问题）or problem（有问题）: {result!r}")
    text = (finding or "").strip() or None
    if result == "problem" and text is None:
        raise AuditError("有问题须填写问题描述 a problem needs its finding")
    if open_case and result != "problem":
        raise AuditError("只有“有问题”才能立案 only a problem opens a case")
    with reg.write_transaction(con):
        drawn = get_draw(con, draw_id)
        if not drawn["in_force"]:
            raise AuditError(f"抽样 {draw_id} 已撤销 draw {draw_id} was withdrawn: 结论不再登记")
        row = con.execute(
            "SELECT * FROM audit_sample WHERE draw_id = ? AND business_id = ?", [draw_id, business_id]
        ).fetchone()
        if row is None:
            raise AuditError(f"业务 {business_id} 不在抽样 {draw_id} 中 is not in the sample of draw {draw_id}")
        suspect_id = _open_case(con, member, drawn, row, text or "", today or dt.date.today()) if open_case else None
        cursor = con.execute(
            "INSERT INTO audit_results (draw_id, business_id, result, finding, suspect_id, by_actor, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [draw_id, business_id, result, text, suspect_id, member.staff_id, reg._now()],
        )
        return int(cursor.lastrowid), suspect_id


def case_id_for(business_id: str) -> str:
    """The suspect_id of a business's audit case, derived as every finding's is (docs/adr/0006): one per business."""
    return "SP-" + hashlib.md5(f"{RULE}|{business_id}".encode()).hexdigest()[:16]


def _open_case(
    con: sqlite3.Connection,
    member: staff_register.Staff,
    drawn: sqlite3.Row,
    row: sqlite3.Row,
    finding: str,
    today: dt.date,
) -> str:
    """Open the business's AUDIT_FINDING case (the caller holds the write transaction), or return the one it has."""
    suspect_id = case_id_for(row["business_id"])
    if con.execute("SELECT 1 FROM cases WHERE suspect_id = ?", [suspect_id]).fetchone() is not None:
        return suspect_id
    month = drawn["month"]
    business_type = row["business_type"] or "业务"
    summary = f"{RULE_ZH}：{month} 稽核抽样（抽样 {drawn['draw_id']}）{business_type} {row['business_id']}：{finding}"
    person = row["person_id"] if row["person_id"] and len(row["person_id"]) == 18 else None
    day = today.isoformat()
    con.execute(
        "INSERT INTO cases (suspect_id, rule, subject_id, person_id, region_code, period_from, period_to,"
        " amount_at_risk, summary, status, firing, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', 0,"
        " ?, ?)",
        [
            suspect_id,
            RULE,
            row["business_id"],
            person,
            row["region_code"],
            month,
            month,
            row["amount"] or "0.00",
            summary,
            day,
            day,
        ],
    )
    details = {"draw_id": drawn["draw_id"], "business_id": row["business_id"], "amount_at_risk": row["amount"]}
    reg._event(con, suspect_id, member.staff_id, "found", None, "open", reason=finding, details=details)
    return suspect_id


# ---- reading --------------------------------------------------------------------------------------------------------


def get_draw(con: sqlite3.Connection, draw_id: int) -> sqlite3.Row:
    row = con.execute("SELECT * FROM audit_draw_status WHERE draw_id = ?", [draw_id]).fetchone()
    if row is None:
        raise AuditError(f"没有这次稽核抽样 no such draw: {draw_id}")
    return row


def draws(con: sqlite3.Connection, month: str | None = None) -> list[dict[str, Any]]:
    """Every draw (of a month), newest first, with its withdrawal and how many results are recorded."""
    where, params = ("WHERE d.month = ?", [month]) if month else ("", [])
    rows = con.execute(
        "SELECT d.*, (SELECT count(DISTINCT business_id) FROM audit_results AS r WHERE r.draw_id = d.draw_id)"
        f" AS recorded FROM audit_draw_status AS d {where} ORDER BY d.draw_id DESC",
        params,
    ).fetchall()
    return [{**dict(r), "in_force": bool(r["in_force"])} for r in rows]


def draw_of_month(con: sqlite3.Connection, month: str) -> sqlite3.Row | None:
    """The month's draw in force, else its latest withdrawn one, else None."""
    return con.execute(
        "SELECT * FROM audit_draw_status WHERE month = ? ORDER BY in_force DESC, draw_id DESC LIMIT 1", [month]
    ).fetchone()


def sample_rows(con: sqlite3.Connection, draw_id: int) -> list[dict[str, Any]]:
    """The sample of a draw, by business_id, each with the result in force (result None: 未录入)."""
    rows = con.execute(
        "SELECT s.*, r.result, r.finding, r.suspect_id, r.by_actor AS result_by, r.at AS result_at"
        " FROM audit_sample AS s LEFT JOIN audit_results AS r ON r.result_id = ("
        "  SELECT max(result_id) FROM audit_results AS x WHERE x.draw_id = s.draw_id AND x.business_id = s.business_id"
        " ) WHERE s.draw_id = ? ORDER BY s.business_id",
        [draw_id],
    ).fetchall()
    return [dict(r) for r in rows]


def strata_rows(con: sqlite3.Connection, draw_id: int) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT * FROM audit_strata WHERE draw_id = ? ORDER BY business_type, operator_id", [draw_id]
    ).fetchall()
    return [dict(r) for r in rows]


def result_history(con: sqlite3.Connection, draw_id: int) -> list[dict[str, Any]]:
    rows = con.execute("SELECT * FROM audit_results WHERE draw_id = ? ORDER BY result_id", [draw_id]).fetchall()
    return [dict(r) for r in rows]


# ---- the proof ------------------------------------------------------------------------------------------------------


def verify_draw(con: sqlite3.Connection, duck: duckdb.DuckDBPyConnection, draw_id: int) -> Verification:
    """Draw again from the recorded seed, month and rate over the published data, with the recorded flagged
    businesses (a finding made since the draw does not change what was drawn), and compare with the recorded
    sample. `same_population`: the published population is the one drawn from (its digest)."""
    drawn = get_draw(con, draw_id)
    recorded = sample_rows(con, draw_id)
    flagged = {r["business_id"]: tuple((r["flagged_by"] or "").split(";")) for r in recorded if r["why"] == "flagged"}
    businesses = population(duck, drawn["month"])
    again = draw_sample(businesses, flagged, int(drawn["seed"]), Decimal(drawn["rate"]))
    then = {(r["business_id"], r["why"]) for r in recorded}
    now = {(p.business.business_id, p.why) for p in again.picks}
    return Verification(
        draw_id=draw_id,
        run_id_then=drawn["run_id"],
        run_id_now=published_run(duck),
        same_population=population_digest(businesses) == drawn["population_sha256"],
        same_sample=then == now,
        missing=tuple(sorted(b for b, _ in then - now)),
        extra=tuple(sorted(b for b, _ in now - then)),
    )
