"""A payment batch to screen before the money leaves (事前预防, CONTRACT.md section 7), with its truth.

``generate(..., batch=True)`` (``fundwatch synth --batch``) also writes

    OUT/_batch/payment_batch.csv               the batch: benefit_payments columns, dirty like the inbox
    OUT/_truth/batch.csv                       its truth, one row per data line (below)
    OUT/_truth/blacklist.csv                   kind,key,reason: to put on the blacklist before screening
    OUT/death_records/dr_batchfacts.csv        facts some plants need that the province does not hold
    OUT/custody_records/cr_batchfacts.csv      (below); listed in _truth/valid_rows.csv like every file
    OUT/payroll_withholding/pw_batchfacts.csv

Folders starting with '_' are not deliveries: a nightly run ignores ``_batch/`` as it ignores ``_truth/``.

The batch month: the inbox's benefit_payments pay the twelve months of YEAR (202501-202512); the batch is what
the agency pays next, for the month after the last of them, January of YEAR + 1 (``BATCH_PERIOD``, 202601).
Most lines are ordinary: the pensions of the living pensioners, the unemployment benefit that runs on, the
injury allowances, each to its person's own account — persons in good standing, who must pass. Planted lines
hold for every reason, several times, some for two or three at once, and near misses (``near_*``) must pass.
Where a plant needs what the inbox holds for a month (a pension already paid, two persons already paid into one
account, a job that ended) its line is an arrears payment (补发) for that month of YEAR or of YEAR - 1.

``_truth/batch.csv``: ``line`` (the line in the file, header = 1), ``payment_id`` (empty when missing),
``person_id`` (canonical; as written when it is invalid), ``verdict`` (pass | hold), ``reasons`` (codes joined by
';' in the contract's order, ``REASONS``), ``plant`` (``ordinary``; a hold such as ``deceased``; a near miss
``near_*``; ``with_pension_in_batch``, the pension beside a planted unemployment line), then the line's
``benefit_type``, ``period`` and ``amount`` (exact yuan; as written where that is what makes the line invalid),
``bank_account`` and a ``note``. The reasons are not written down by hand: ``reasons_of`` computes them, with the
generator's own reading of section 7, from the rows a nightly run loads (mistyped IDs that resolve included,
CONTRACT section 6), the batch and the blacklist; generation fails when they differ from what a plant meant.

Section 7 as read here, for a valid line of the batch (an INVALID line — a row that cannot be made valid — holds
for INVALID alone and counts in no other check):

* DECEASED: neither ``funeral`` nor ``survivor``, for a period after the month of the earliest death_date.
* IN_CUSTODY: a ``pension`` for a period strictly after the month a stopping spell (detention, imprisonment,
  life, death_suspended) starts and strictly before the month it ends (no end_date: every later period).
* ALREADY_PAID: the person has a payment of the same benefit_type (so the schemes 110/120/170 of a pension count
  as one) for the period in benefit_payments, or on an earlier valid line of the batch: of two such lines the
  first is not held for it, the second is.
* EMPLOYED: an ``unemployment`` payment for a period with payroll wage_income > 0, or a 110/120 enrollment with
  an employer active on a day of that month (an open spell runs on: the truth holds for a screening as-of from
  the last day of YEAR on).
* PENSIONER: an ``unemployment`` payment for a period the person is paid a ``pension`` for, in benefit_payments
  or on a valid line of the batch.
* SHARED_ACCOUNT: every valid batch line paying that account for that period is held when the different persons
  paid into the account for the period, benefit_payments and the valid batch lines together, are 3 or more.
* BLACKLISTED: the person or the account is on ``_truth/blacklist.csv`` (an employer there holds nothing).
* UNKNOWN_PERSON: no enrollment spell at all under the ID.

Facts added (only with ``--batch``; no nightly finding changes, the rules' truth stays ``findings.csv``): death
notices in December of YEAR (a resident who dies then; pensioners who die in custody), custody spells beginning
in December of YEAR or January of YEAR + 1 and a surveillance sentence (管制) running into YEAR + 1, and December
payroll declarations of persons whose unemployment benefit has ended. The province itself has no unpaid month of
death, no custody that begins or ends so near the batch, and no wage without an enrollment spell.

Every random draw here has its own stream (``batch:*``): the inbox is byte for byte what it is without a batch.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .background import YEAR_MI, build_custody
from .constants import COMMUNITY_SENTENCES, DATASETS, OUTCOME, STOPPING_SENTENCES, YEAR
from .dirt import render_code, render_date, render_id, render_money, render_period
from .ids import to_15, wrong_check
from .plants import PlantBook, fen_str
from .rng import Rng

D = dt.date
BATCH_DIR = "_batch"
BATCH_FILE = "payment_batch.csv"
BATCH_PERIOD = (YEAR + 1) * 100 + 1
DECEMBER = YEAR * 100 + 12
# The contract's reasons for a hold, in its order (section 7): a held line lists its codes in it.
REASONS = (
    "INVALID",
    "DECEASED",
    "IN_CUSTODY",
    "ALREADY_PAID",
    "EMPLOYED",
    "PENSIONER",
    "SHARED_ACCOUNT",
    "BLACKLISTED",
    "UNKNOWN_PERSON",
)
PAID_BECAUSE_OF_DEATH = ("funeral", "survivor")
EMPLOYEE_PENSION_SCHEMES = ("110", "120")
MIN_PERSONS_SHARING = 3
FACT_FILES = {
    "death_records": "dr_batchfacts",
    "custody_records": "cr_batchfacts",
    "payroll_withholding": "pw_batchfacts",
}
OBSERVED = ("enrollment", "benefit_payments", "payroll_withholding", "death_records", "custody_records")
TRUTH_COLUMNS = (
    "line",
    "payment_id",
    "person_id",
    "verdict",
    "reasons",
    "plant",
    "benefit_type",
    "period",
    "amount",
    "bank_account",
    "note",
)
BAD_PERIODS = (f"{YEAR + 1}-13", f"{YEAR + 1}年13月")
# A bank account nobody in the province has (population.account_expr writes 621733...): three persons' benefits
# paid into one new account.
SHARED_PREFIX = "622848"
PERSON_FIELDS = (
    "category",
    "person_id",
    "name",
    "region_code",
    "birth_date",
    "account",
    "employer_id",
    "pension_scheme",
    "pension_fen",
    "unemp_fen",
    "injury_fen",
    "funeral_fen",
    "survivor_fen",
    "dies",
    "death_date",
    "injured",
    "job_end_mi",
    "unemp_last_mi",
)

cat = pl.col("category")
LIVING_PENSIONER = (cat == "P") & ~pl.col("dies")
DEAD_PENSIONER = (cat == "P") & pl.col("dies")
EMPLOYEE = (cat == "E") & ~pl.col("injured")
CIVIL_SERVANT = cat == "C"
RESIDENT = (cat == "R") & ~pl.col("dies")
# unemployed whose benefit ended by November of YEAR (their jobs ended by August): nothing paid for December
BENEFIT_ENDED = (cat == "U") & (pl.col("unemp_last_mi") <= YEAR_MI + 10)
# unemployed whose job ended July-November of YEAR - 1: the month after it ended is not paid (benefit from YEAR)
JOB_ENDED_LAST_YEAR = (cat == "U") & pl.col("job_end_mi").is_between(YEAR_MI - 6, YEAR_MI - 2)


def ym(d: dt.date) -> int:
    return d.year * 100 + d.month


def month_add(period: int, k: int) -> int:
    mi = period // 100 * 12 + period % 100 - 1 + k
    return mi // 12 * 100 + mi % 12 + 1


def month_days(period: int) -> tuple[dt.date, dt.date]:
    """The first and the last day of a YYYYMM period."""
    first = D(period // 100, period % 100, 1)
    after = month_add(period, 1)
    return first, D(after // 100, after % 100, 1) - dt.timedelta(days=1)


def scheme_of(btype: str, p: dict) -> str:
    if btype == "unemployment":
        return "210"
    if btype == "injury":
        return "410"
    if btype == "maternity":
        return "510"
    return p.get("pension_scheme") or "110"


@dataclass
class BatchOutput:
    """What the batch adds to the generator's output: truth rows of the fact files, rows per dataset, summary."""

    valid_rows: pl.DataFrame
    rows: dict[str, int]
    summary: dict


class BatchBuilder:
    """Plans the batch part by part (``plan``), keeps the inbox rows its truth needs as they are emitted
    (``observe``), then writes the batch, the facts it added and its truth (``finish``)."""

    def __init__(self, seed: int, dirty: bool) -> None:
        self.seed, self.dirty = seed, dirty
        self.lines: list[dict] = []
        self.facts_rows: dict[str, list[dict]] = {d: [] for d in FACT_FILES}
        self.blacklist: list[dict] = []
        self.seen: dict[str, list[pl.DataFrame]] = {d: [] for d in OBSERVED}
        self._persons = pl.DataFrame(schema={"person_id": pl.String})
        self._person_periods = pl.DataFrame(schema={"person_id": pl.String, "period": pl.Int32})
        self._account_periods = pl.DataFrame(schema={"bank_account": pl.String, "period": pl.Int32})

    def plan(self, rng: Rng, facts: pl.DataFrame, book: PlantBook, part_tag: str = "", first: bool = True) -> None:
        """The lines of one province part: the plants (first part only) and the ordinary payments."""
        planner = _Planner(rng, facts, book, part_tag, self.dirty)
        if first:
            planner.plants()
        planner.ordinary()
        self.lines += planner.lines
        for dataset, rows in planner.facts_rows.items():
            self.facts_rows[dataset] += rows
        self.blacklist += planner.blacklist
        keys = pl.DataFrame(
            [(x["person_id"], x["period"], x["bank_account"]) for x in planner.lines],
            schema={"person_id": pl.String, "period": pl.Int32, "bank_account": pl.String},
            orient="row",
        )
        self._persons = keys.select("person_id").unique()
        self._person_periods = keys.select("person_id", "period").unique()
        self._account_periods = keys.select("bank_account", "period").unique()

    def observe(self, dataset: str, frame: pl.DataFrame) -> None:
        """Keep the rows of a dataset just emitted that the truth of this part's lines depends on: those a
        nightly run loads (a mistyped ID only when it resolves) of the lines' persons — of their periods, for
        payments and payroll — and the payments into the lines' accounts for their periods."""
        if dataset not in OBSERVED:
            return
        if OUTCOME in frame.columns:
            frame = frame.filter(pl.col(OUTCOME).is_null() | (pl.col(OUTCOME) == "resolved"))
        if dataset == "benefit_payments":
            cols = ["payment_id", "person_id", "benefit_type", "period", "amount", "bank_account"]
            by_person = frame.join(self._person_periods, on=["person_id", "period"], how="semi")
            by_account = frame.join(self._account_periods, on=["bank_account", "period"], how="semi")
            kept = pl.concat([by_person.select(cols), by_account.select(cols)]).unique(maintain_order=True)
        elif dataset == "payroll_withholding":
            kept = frame.join(self._person_periods, on=["person_id", "period"], how="semi")
        else:
            kept = frame.join(self._persons, on="person_id", how="semi")
        self.seen[dataset].append(kept)

    def finish(self, out: Path) -> BatchOutput:
        """Write the batch, the added facts and the truth; raise when a line's computed reasons are not the
        plant's."""
        rng = Rng(self.seed)
        lines = self.lines + _invalid_copies(self.lines, rng.py("batch:invalid"))
        lines = _ordered(lines, rng.py("batch:order"))
        for i, x in enumerate(lines):
            x["line"] = i + 2
            x["payment_id"] = None if x["invalid"] == "missing_payment_id" else f"FF{YEAR + 1}B{i + 1:07d}"
        first_of = {x["group"]: x["payment_id"] for x in lines if x["group"] and x["rank"] == 0}
        for x in lines:
            if x["same_id"]:
                x["payment_id"] = first_of[x["group"]]
        facts = self._facts()
        computed = reasons_of(lines, facts, self.blacklist)
        wrong = [
            f"line {x['line']} ({x['plant']}): planted {';'.join(x['expect']) or 'pass'}, "
            f"computed {';'.join(got) or 'pass'}"
            for x, got in zip(lines, computed, strict=True)
            if got != x["expect"]
        ]
        if wrong:
            raise RuntimeError("payment batch plants do not hold as planned: " + "; ".join(wrong[:10]))
        (out / BATCH_DIR).mkdir(parents=True, exist_ok=True)
        (out / BATCH_DIR / BATCH_FILE).write_bytes(_render(lines, rng, self.dirty))
        truth = _truth_frame(lines, computed)
        truth.write_csv(out / "_truth" / "batch.csv")
        pl.DataFrame(self.blacklist, schema=dict.fromkeys(("kind", "key", "reason"), pl.String)).write_csv(
            out / "_truth" / "blacklist.csv"
        )
        valid_rows, rows = [], {}
        for dataset, stem in FACT_FILES.items():
            frame = _fact_frame(dataset, self.facts_rows[dataset])
            rel = f"{dataset}/{stem}.csv"
            (out / dataset).mkdir(parents=True, exist_ok=True)
            _canonical_text(frame, dataset).write_csv(out / rel)
            valid_rows.append(
                {"dataset": dataset, "file": rel, "rows_valid": frame.height, "rows_bad": 0, "rows_resolved": 0}
            )
            rows[dataset] = frame.height
        held = truth.filter(pl.col("verdict") == "hold")
        codes = held["reasons"].str.split(";").explode()
        summary = {
            "period": BATCH_PERIOD,
            "lines": truth.height,
            "held": held.height,
            "passed": truth.height - held.height,
            "reasons": {code: int((codes == code).sum()) for code in REASONS},
            "near_misses": int(truth["plant"].str.starts_with("near_").sum()),
            "blacklist": len(self.blacklist),
            "facts_added": rows,
        }
        schema = {"dataset": pl.String, "file": pl.String} | dict.fromkeys(
            ("rows_valid", "rows_bad", "rows_resolved"), pl.Int64
        )
        return BatchOutput(pl.DataFrame(valid_rows, schema=schema), rows, summary)

    def _facts(self) -> dict[str, pl.DataFrame]:
        """The observed inbox rows plus the facts added, per dataset."""
        out = {}
        for dataset in OBSERVED:
            cols = [c.name for c in DATASETS[dataset] if c.name != "pay_date" and c.name != "batch_id"]
            frames = [f.select([c for c in cols if c in f.columns]) for f in self.seen[dataset]]
            if dataset in FACT_FILES:
                frames.append(_fact_frame(dataset, self.facts_rows[dataset]).select(frames[0].columns))
            out[dataset] = pl.concat(frames, how="vertical_relaxed")
        return out


class _Planner:
    """The lines of one province part, the facts its plants add and the blacklist they need."""

    def __init__(self, rng: Rng, facts: pl.DataFrame, book: PlantBook, tag: str, dirty: bool) -> None:
        self.py = rng.py("batch:plants")
        self.tag, self.dirty, self.book = tag, dirty, book
        self.facts = facts.select(PERSON_FIELDS)
        # persons with custody records in the background are left to ordinary lines: a plant's facts are its own
        self.avoid = set(build_custody(rng, facts)["person_id"].to_list())
        self.used: set[str] = set()
        self.lines: list[dict] = []
        self.facts_rows: dict[str, list[dict]] = {d: [] for d in FACT_FILES}
        self.blacklist: list[dict] = []

    # ---- persons -------------------------------------------------------------------------
    def pick(self, where: pl.Expr, k: int, what: str, *, at_most: bool = False) -> list[dict]:
        """k background persons (where), drawn at random, none picked before; at_most: as many as there are."""
        free = self.facts.filter(where & ~pl.col("person_id").is_in(sorted(self.used | self.avoid)))
        if free.height < k and not at_most:
            raise ValueError(f"too few persons for the payment batch: {what} needs {k}, {free.height} available")
        k = min(k, free.height)
        rows = free[sorted(self.py.sample(range(free.height), k))].to_dicts() if k else []
        self.used.update(r["person_id"] for r in rows)
        return rows

    def one(self, where: pl.Expr, what: str) -> dict:
        return self.pick(where, 1, what)[0]

    def employer_near(self, p: dict) -> str:
        """An enterprise of the person's region other than the person's own (some employee's employer)."""
        ids = sorted(
            set(self.facts.filter((cat == "E") & (pl.col("region_code") == p["region_code"]))["employer_id"])
            - {p.get("employer_id")}
        )
        if not ids:
            raise ValueError("too few persons for the payment batch: no employer in a region")
        return ids[self.py.randrange(len(ids))]

    # ---- rows ----------------------------------------------------------------------------
    def line(
        self,
        p: dict,
        btype: str,
        period: int,
        amount: int,
        plant: str,
        note: str,
        expect: tuple[str, ...] = (),
        *,
        scheme: str | None = None,
        account: str | None = None,
        id_form: str | None = None,
        group: str | None = None,
        same_id: bool = False,
    ) -> None:
        """A batch line paying p (into `account`, else p's own; both untagged)."""
        rank = sum(1 for x in self.lines if group and x["group"] == group)
        self.lines.append(
            {
                "person_id": p["person_id"],
                "region_code": p["region_code"],
                "scheme": scheme or scheme_of(btype, p),
                "benefit_type": btype,
                "period": period,
                "amount": amount,
                "bank_account": (account or p["account"]) + self.tag,
                "plant": plant,
                "note": note,
                "expect": tuple(c for c in REASONS if c in expect),
                "id_form": id_form,
                "invalid": None,
                "group": group,
                "rank": rank,
                "same_id": same_id,
            }
        )

    def fact(self, dataset: str, **row) -> None:
        self.facts_rows[dataset].append(row)

    def custody(self, p: dict, sentence: str, start: dt.date, end: dt.date | None) -> None:
        self.fact(
            "custody_records",
            person_id=p["person_id"],
            name=p["name"],
            sentence_type=sentence,
            start_date=start,
            end_date=end,
        )

    def death(self, p: dict, when: dt.date, source: str) -> None:
        self.fact("death_records", person_id=p["person_id"], name=p["name"], death_date=when, source=source)

    def ban(self, kind: str, key: str, reason: str) -> None:
        self.blacklist.append({"kind": kind, "key": key + (self.tag if kind != "person" else ""), "reason": reason})

    # ---- the plants ----------------------------------------------------------------------
    def plants(self) -> None:
        known = _plant_people(self.book)
        pool = self.book.pool[self.book.next_person :]  # plant persons left over: nobody enrolled them
        self._deceased(known)
        self._in_custody(known)
        self._already_paid()
        self._employed()
        self._pensioner()
        self._shared_account()
        self._blacklisted_and_unknown(pool)
        if self.dirty:
            p = self.one(LIVING_PENSIONER, "an ID written in 15 digits")
            note = "the ID in its legacy 15-digit form"
            self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "near_id_15_digit", note, id_form="15")
            p = self.one(LIVING_PENSIONER & pl.col("person_id").str.ends_with("X"), "an ID ending in X")
            note = "the ID written with a lower-case x"
            self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "near_id_lowercase_x", note, id_form="lower_x")

    def _deceased(self, known: dict[str, list[dict]]) -> None:
        dead = self.pick(DEAD_PENSIONER, 2, "dead pensioners", at_most=True) + known["dead_enrolled"]
        if len(dead) < 2:
            raise ValueError("too few persons for the payment batch: dead pensioners")
        for p in dead[:4]:
            note = f"died {p['death_date']}; the pension for {BATCH_PERIOD} is still in the batch"
            self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "deceased", note, ("DECEASED",))
        grant = dead[0]
        note = f"died {grant['death_date']}: a funeral grant is paid because of the death"
        self.line(
            grant, "funeral", BATCH_PERIOD, grant.get("funeral_fen") or 1_200_000, "near_funeral_after_death", note
        )
        grant = dead[1]
        note = f"died {grant['death_date']}: survivor benefit is paid because of the death"
        amount = grant.get("survivor_fen") or 3_000_000
        self.line(grant, "survivor", BATCH_PERIOD, amount, "near_survivor_after_death", note)
        late = [p for p in known["dead_enrolled"] if max(p["pension_periods"]) > ym(p["death_date"])]
        if not late:
            raise ValueError("too few persons for the payment batch: pensions paid after death")
        p = late[0]
        month = max(p["pension_periods"])
        note = f"died {p['death_date']}; the pension for {month}, paid already, paid again"
        self.line(p, "pension", month, p["pension_fen"], "deceased_already_paid", note, ("DECEASED", "ALREADY_PAID"))
        ghosts = known["dead_unenrolled"]
        if len(ghosts) < 2:
            raise ValueError("too few persons for the payment batch: plants of deaths without enrollment")
        note = f"died {ghosts[0]['death_date']}, never enrolled"
        expect = ("DECEASED", "UNKNOWN_PERSON")
        self.line(ghosts[0], "pension", BATCH_PERIOD, ghosts[0]["pension_fen"], "deceased_not_enrolled", note, expect)
        note = f"died {ghosts[1]['death_date']}, never enrolled, on the blacklist"
        self.ban("person", ghosts[1]["person_id"], "死亡后冒领养老金，已立案追回")
        expect = ("DECEASED", "BLACKLISTED", "UNKNOWN_PERSON")
        self.line(ghosts[1], "pension", BATCH_PERIOD, ghosts[1]["pension_fen"], "deceased_blacklisted", note, expect)
        # a resident who dies in December: the resident pension for that month is due, January's is not
        old = RESIDENT & (pl.col("birth_date") <= D(YEAR - 60, 12, 31))  # of the age for a resident pension
        r = (self.pick(old, 1, "an old resident", at_most=True) or self.pick(RESIDENT, 1, "a resident"))[0]
        self.death(r, D(YEAR, 12, 10), "health")
        amount = 18_000 + self.py.randrange(30_000)
        note = f"died {YEAR}-12-10 (a fact added): the pension for the month of death"
        self.line(r, "pension", DECEMBER, amount, "near_month_of_death", note, scheme="170")
        note = f"died {YEAR}-12-10 (a fact added)"
        self.line(r, "pension", BATCH_PERIOD, amount, "deceased", note, ("DECEASED",), scheme="170")
        for p in self.pick(LIVING_PENSIONER, 2, "pensioners who die in custody"):
            self.custody(p, "imprisonment", D(YEAR, 12, 2), None)
            self.death(p, D(YEAR, 12, 20), "civil")
            note = f"imprisoned from {YEAR}-12-02, died {YEAR}-12-20 (facts added)"
            expect = ("DECEASED", "IN_CUSTODY")
            self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "deceased_in_custody", note, expect)

    def _in_custody(self, known: dict[str, list[dict]]) -> None:
        held = known["in_custody"]
        if len(held) < 2:
            raise ValueError("too few persons for the payment batch: pensioners in custody")
        for p in held[:6]:
            note = f"in custody: {p['spells']}"
            self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "in_custody", note, ("IN_CUSTODY",))
        for p in known["custody_gap"][:1]:
            note = f"the pension stopped for {p['gap']} (in custody: {p['spells']}), paid as arrears"
            self.line(p, "pension", p["gap"], p["pension_fen"], "in_custody_arrears", note, ("IN_CUSTODY",))
        p = self.one(LIVING_PENSIONER, "custody from January")
        self.custody(p, "imprisonment", D(YEAR + 1, 1, 6), None)
        note = f"imprisoned from {YEAR + 1}-01-06 (a fact added): the month custody starts"
        self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "near_custody_start_month", note)
        p = self.one(LIVING_PENSIONER, "released in January")
        self.custody(p, "detention", D(YEAR, 12, 3), D(YEAR + 1, 1, 19))
        note = f"detention {YEAR}-12-03 to {YEAR + 1}-01-19 (a fact added): the month of release"
        self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "near_release_month", note)
        if not known["suspended"]:
            raise ValueError("too few persons for the payment batch: a suspended sentence")
        p = known["suspended"][0]
        note = f"suspended sentence (缓刑): {p['spells']}"
        self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "near_suspended_sentence", note)
        p = self.one(LIVING_PENSIONER, "surveillance")
        self.custody(p, "surveillance", D(YEAR, 10, 10), D(YEAR + 1, 4, 9))
        note = f"surveillance (管制) {YEAR}-10-10 to {YEAR + 1}-04-09 (a fact added)"
        self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "near_surveillance", note)

    def _already_paid(self) -> None:
        for p in self.pick(LIVING_PENSIONER, 2, "pensions paid twice"):
            note = f"the pension for {DECEMBER} is in benefit_payments already"
            self.line(p, "pension", DECEMBER, p["pension_fen"], "already_paid", note, ("ALREADY_PAID",))
        p = self.one(LIVING_PENSIONER & pl.col("pension_scheme").is_in(EMPLOYEE_PENSION_SCHEMES), "two schemes")
        note = f"a 170 pension for {DECEMBER}, a {p['pension_scheme']} pension paid already: one benefit type"
        amount = 20_000 + self.py.randrange(30_000)
        self.line(p, "pension", DECEMBER, amount, "already_paid_other_scheme", note, ("ALREADY_PAID",), scheme="170")
        for i, p in enumerate(self.pick(LIVING_PENSIONER, 3, "lines repeated in the batch")):
            group, same = f"repeat{i}", i == 2
            note = "the first of two lines paying this pension"
            self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "near_first_of_repeated_lines", note, group=group)
            plant = "already_paid_same_line" if same else "already_paid_in_batch"
            note = "the same line again" if same else "a second line paying the same pension (another payment_id)"
            amount = p["pension_fen"]
            self.line(p, "pension", BATCH_PERIOD, amount, plant, note, ("ALREADY_PAID",), group=group, same_id=same)
        p = self.one(LIVING_PENSIONER, "another benefit for a month paid")
        note = f"survivor benefit for {DECEMBER}, a month whose pension is paid: another benefit type"
        self.line(p, "survivor", DECEMBER, p["survivor_fen"], "near_other_type_paid_month", note)

    def _employed(self) -> None:
        for p in self.pick(EMPLOYEE, 2, "employees") + self.pick(CIVIL_SERVANT, 1, "a civil servant", at_most=True):
            note = f"an open {'120' if p['category'] == 'C' else '110'} spell with employer {p['employer_id']}"
            self.line(p, "unemployment", BATCH_PERIOD, p["unemp_fen"], "employed_enrollment", note, ("EMPLOYED",))
        for p in self.pick(BENEFIT_ENDED, 2, "wages after the benefit ended"):
            employer = self.employer_near(p)
            wage = 450_000 + self.py.randrange(300_000)
            self.fact(
                "payroll_withholding",
                employer_id=employer + self.tag,
                person_id=p["person_id"],
                period=DECEMBER,
                wage_income=wage,
            )
            note = f"wage {fen_str(wage)} declared by {employer} for {DECEMBER} (a fact added), no enrollment"
            self.line(p, "unemployment", DECEMBER, p["unemp_fen"], "employed_payroll", note, ("EMPLOYED",))
        p = self.one(JOB_ENDED_LAST_YEAR, "a job that ended last year")
        ended = (p["job_end_mi"] // 12) * 100 + p["job_end_mi"] % 12 + 1
        note = f"the job ended in {ended}: unemployment benefit for that month"
        self.line(p, "unemployment", ended, p["unemp_fen"], "employed_month_job_ended", note, ("EMPLOYED",))
        note = f"the job ended in {ended}: unemployment benefit for the month after"
        self.line(p, "unemployment", month_add(ended, 1), p["unemp_fen"], "near_month_after_job_ended", note)
        p = self.one(EMPLOYEE, "an employee paid a pension")
        amount = 250_000 + self.py.randrange(300_000)
        note = "a pension on another line of the batch"
        self.line(p, "pension", BATCH_PERIOD, amount, "with_pension_in_batch", note, scheme="110")
        note = "an open 110 spell, and a pension for the month on another line of the batch"
        expect = ("EMPLOYED", "PENSIONER")
        self.line(p, "unemployment", BATCH_PERIOD, p["unemp_fen"], "employed_pensioner", note, expect)

    def _pensioner(self) -> None:
        for p in self.pick(LIVING_PENSIONER, 2, "pensioners paid unemployment"):
            note = f"the pension for {DECEMBER} is in benefit_payments"
            self.line(p, "unemployment", DECEMBER, 200_000, "pensioner_paid_pension", note, ("PENSIONER",))
        for p in self.pick(LIVING_PENSIONER, 2, "pensioners paid unemployment in the batch"):
            self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "with_pension_in_batch", "beside unemployment")
            note = "the pension for the month is on another line of the batch"
            self.line(p, "unemployment", BATCH_PERIOD, 200_000, "pensioner_in_batch", note, ("PENSIONER",))
        near_retirement = BENEFIT_ENDED & (pl.col("birth_date") <= D(YEAR - 55, 12, 31))
        p = (
            self.pick(near_retirement, 1, "", at_most=True)
            or self.pick(BENEFIT_ENDED, 1, "unemployment before a pension")
        )[0]
        amount = 250_000 + self.py.randrange(300_000)
        self.line(p, "pension", BATCH_PERIOD, amount, "with_pension_in_batch", "the first pension", scheme="110")
        note = f"unemployment benefit for {DECEMBER}, the pension from {BATCH_PERIOD}"
        self.line(p, "unemployment", DECEMBER, p["unemp_fen"], "near_unemployment_adjacent_pension", note)

    def _shared_account(self) -> None:
        two = [n["subject_id"] for n in self.book.near if n["kind"] == "spouses_share_account"]
        if not two:
            raise ValueError("too few persons for the payment batch: an account two persons share")
        for p, month in zip(self.pick(LIVING_PENSIONER, 2, "a third person"), (6, 9), strict=True):
            period = YEAR * 100 + month
            note = (
                f"benefit_payments pay 2 persons into the account for {period}, this line a 3rd: every batch line "
                "paying that account for that period is held"
            )
            expect = ("SHARED_ACCOUNT",)
            amount = p["survivor_fen"]
            self.line(p, "survivor", period, amount, "shared_account_inbox_and_batch", note, expect, account=two[0])
        shared = f"{SHARED_PREFIX}{9_000_000_000_000 + self.py.randrange(10**9):013d}"
        note = f"3 persons paid into one new account for {BATCH_PERIOD}: every batch line paying it is held"
        for p in self.pick(LIVING_PENSIONER, 3, "three persons on one account"):
            amount = p["pension_fen"]
            self.line(
                p, "pension", BATCH_PERIOD, amount, "shared_account_batch", note, ("SHARED_ACCOUNT",), account=shared
            )
        a, b = self.pick(LIVING_PENSIONER, 2, "two persons on one account")
        note = f"2 persons paid into one account for {BATCH_PERIOD} (3 make SHARED_ACCOUNT)"
        self.line(a, "pension", BATCH_PERIOD, a["pension_fen"], "near_two_persons_one_account", note)
        self.line(
            b, "pension", BATCH_PERIOD, b["pension_fen"], "near_two_persons_one_account", note, account=a["account"]
        )
        d, e, f = self.pick(LIVING_PENSIONER, 3, "an account shared across periods")
        note = "3 persons on one account, at most 2 in any period (the owner's pension paid monthly)"
        self.line(d, "pension", BATCH_PERIOD, d["pension_fen"], "near_account_across_periods", note)
        self.line(e, "survivor", DECEMBER, e["survivor_fen"], "near_account_across_periods", note, account=d["account"])
        november = YEAR * 100 + 11
        self.line(f, "survivor", november, f["survivor_fen"], "near_account_across_periods", note, account=d["account"])

    def _blacklisted_and_unknown(self, pool: list[dict]) -> None:
        if len(pool) < 4:
            raise ValueError("too few persons for the payment batch: persons nobody enrolled")
        for p in self.pick(LIVING_PENSIONER, 2, "blacklisted persons"):
            self.ban("person", p["person_id"], "虚构身份骗取社会保险待遇")
            note = "the person is on the blacklist"
            self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "blacklisted_person", note, ("BLACKLISTED",))
        p = self.one(LIVING_PENSIONER, "a blacklisted account")
        self.ban("account", p["account"], "出借银行账户供他人冒领待遇")
        note = "the account is on the blacklist"
        self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "blacklisted_account", note, ("BLACKLISTED",))
        p = self.one(LIVING_PENSIONER, "a blacklisted person and account")
        self.ban("person", p["person_id"], "重复领取养老金拒不退还")
        self.ban("account", p["account"], "重复领取养老金的收款账户")
        note = "the person and the account are on the blacklist: one reason"
        plant = "blacklisted_person_and_account"
        self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], plant, note, ("BLACKLISTED",))
        u = pool[0]
        self.ban("account", u["account"], "多人共用账户冒领待遇")
        note = "a valid ID nobody is enrolled under, paid into an account on the blacklist"
        plant = "blacklisted_account_unknown_person"
        self.line(u, "pension", BATCH_PERIOD, 300_000, plant, note, ("BLACKLISTED", "UNKNOWN_PERSON"), scheme="110")
        p = self.one(
            LIVING_PENSIONER & pl.col("employer_id").is_not_null(), "a pensioner whose former employer is blacklisted"
        )
        self.ban("employer", p["employer_id"], "虚构劳动关系骗取社会保险待遇")
        note = f"the former employer {p['employer_id']} is on the blacklist; the person and the account are not"
        self.line(p, "pension", BATCH_PERIOD, p["pension_fen"], "near_blacklisted_employer", note)
        for u, btype in zip(pool[1:4], ("pension", "pension", "unemployment"), strict=True):
            note = "a valid ID nobody is enrolled under"
            amount = 300_000 if btype == "pension" else 200_000
            scheme = "110" if btype == "pension" else "210"
            self.line(u, btype, BATCH_PERIOD, amount, "unknown_person", note, ("UNKNOWN_PERSON",), scheme=scheme)

    # ---- the ordinary payments -----------------------------------------------------------
    def ordinary(self) -> None:
        """Next month's pensions, unemployment benefit that runs on, injury allowances: persons not planted."""
        free = ~pl.col("person_id").is_in(sorted(self.used))
        parts = [
            self.facts.filter(LIVING_PENSIONER & free).select(
                "person_id",
                "region_code",
                pl.col("pension_scheme").alias("scheme"),
                pl.lit("pension").alias("benefit_type"),
                pl.col("pension_fen").alias("amount"),
                "account",
            ),
            self.facts.filter((cat == "U") & (pl.col("unemp_last_mi") == YEAR_MI + 11) & free).select(
                "person_id",
                "region_code",
                pl.lit("210").alias("scheme"),
                pl.lit("unemployment").alias("benefit_type"),
                pl.col("unemp_fen").alias("amount"),
                "account",
            ),
            self.facts.filter((cat == "E") & pl.col("injured") & free).select(
                "person_id",
                "region_code",
                pl.lit("410").alias("scheme"),
                pl.lit("injury").alias("benefit_type"),
                pl.col("injury_fen").alias("amount"),
                "account",
            ),
        ]
        frame = pl.concat(parts).with_columns(
            pl.lit(BATCH_PERIOD).alias("period"),
            (pl.col("account") + self.tag).alias("bank_account"),
            pl.lit("ordinary").alias("plant"),
            pl.lit("").alias("note"),
        )
        blank = {"expect": (), "id_form": None, "invalid": None, "group": None, "rank": 0, "same_id": False}
        for row in frame.drop("account").iter_rows(named=True):
            self.lines.append(row | blank)


def _plant_people(book: PlantBook) -> dict[str, list[dict]]:
    """Persons of the plants (category X) paid a pension in the inbox, by what the batch can plant on them:
    `dead_enrolled`, `dead_unenrolled`, `in_custody` (stopping custody in the batch month), `suspended` (a community
    sentence then and no stopping one), `custody_gap` (a month of YEAR in stopping custody with no pension paid:
    `gap`). Only the rows a nightly run loads count: a mistyped ID only when it resolves."""

    def rows(dataset: str) -> list[dict]:
        return [r for r in book.rows.get(dataset, []) if r.get(OUTCOME) in (None, "resolved")]

    enrolled = {r["person_id"] for r in rows("enrollment")}
    deaths: dict[str, dt.date] = {}
    for r in rows("death_records"):
        deaths[r["person_id"]] = min(deaths.get(r["person_id"], r["death_date"]), r["death_date"])
    spells: dict[str, list[tuple[str, dt.date, dt.date | None]]] = {}
    for r in rows("custody_records"):
        spells.setdefault(r["person_id"], []).append((r["sentence_type"], r["start_date"], r["end_date"]))
    people: dict[str, dict] = {}
    for r in rows("benefit_payments"):
        if r["benefit_type"] != "pension":
            continue
        p = people.setdefault(r["person_id"], {"person_id": r["person_id"], "pension_periods": set()})
        p["pension_periods"].add(r["period"])
        p |= {
            "region_code": r["region_code"],
            "account": r["bank_account"],
            "pension_scheme": r["scheme"],
            "pension_fen": r["amount"],
        }
    out: dict[str, list[dict]] = {k: [] for k in ("dead_enrolled", "dead_unenrolled", "in_custody", "suspended")}
    out["custody_gap"] = []
    for pid, p in people.items():
        p["death_date"] = deaths.get(pid)
        mine = spells.get(pid, [])
        p["spells"] = "; ".join(f"{k} {s} to {e or 'open'}" for k, s, e in mine)
        stopping = [(ym(s), e and ym(e)) for k, s, e in mine if k in STOPPING_SENTENCES]
        community = [(ym(s), e and ym(e)) for k, s, e in mine if k in COMMUNITY_SENTENCES]
        if p["death_date"] is not None:
            out["dead_enrolled" if pid in enrolled else "dead_unenrolled"].append(p)
            continue
        if pid not in enrolled:
            continue
        if any(s < BATCH_PERIOD and (e is None or e > BATCH_PERIOD) for s, e in stopping):
            out["in_custody"].append(p)
        elif not stopping and any(s <= BATCH_PERIOD and (e is None or e >= BATCH_PERIOD) for s, e in community):
            out["suspended"].append(p)
        gaps = [
            YEAR * 100 + m
            for m in range(1, 13)
            if YEAR * 100 + m not in p["pension_periods"]
            and any(s < YEAR * 100 + m and (e is None or YEAR * 100 + m < e) for s, e in stopping)
        ]
        if gaps:
            out["custody_gap"].append(p | {"gap": gaps[0]})
    return out


def _invalid_copies(lines: list[dict], py: random.Random) -> list[dict]:
    """Eight rows that cannot be made valid, two of each kind: copies of ordinary pension lines with a wrong
    check digit, an unparseable period, a negative amount, no payment_id."""
    ordinary = [x for x in lines if x["plant"] == "ordinary" and x["benefit_type"] == "pension"]
    if len(ordinary) < 8:
        raise ValueError("too few persons for the payment batch: ordinary pensions to copy")
    kinds = (
        ("bad_check_digit", "invalid_check_digit", "the ID's check digit is wrong"),
        ("bad_period", "invalid_period", "the period is not a month"),
        ("negative_amount", "invalid_negative_amount", "a negative amount"),
        ("missing_payment_id", "invalid_missing_payment_id", "no payment_id"),
    )
    picks = py.sample(range(len(ordinary)), 8)
    return [
        ordinary[i] | {"invalid": kind, "plant": plant, "note": note, "expect": ("INVALID",)}
        for i, (kind, plant, note) in zip(picks, [k for k in kinds for _ in (0, 1)], strict=True)
    ]


def _ordered(lines: list[dict], py: random.Random) -> list[dict]:
    """The lines in a random order, but the lines of a group (a payment repeated) in their planted order."""
    keys = [py.random() for _ in lines]
    order = sorted(range(len(lines)), key=lambda i: keys[i])
    ordered = [lines[i] for i in order]
    groups: dict[str, list[int]] = {}
    for pos, x in enumerate(ordered):
        if x["group"]:
            groups.setdefault(x["group"], []).append(pos)
    for positions in groups.values():
        members = sorted((ordered[pos] for pos in positions), key=lambda x: x["rank"])
        for pos, x in zip(positions, members, strict=True):
            ordered[pos] = x
    return [dict(x) for x in ordered]


def reasons_of(lines: list[dict], facts: dict[str, pl.DataFrame], blacklist: list[dict]) -> list[tuple[str, ...]]:
    """The codes each line (in line order) is held for, in the contract's order: section 7 as read in the
    module docstring, over the inbox rows a nightly run loads (`facts`, per dataset) and the blacklist."""
    death_month: dict[str, int] = {}
    for pid, when in facts["death_records"].select("person_id", "death_date").iter_rows():
        death_month[pid] = min(death_month.get(pid, ym(when)), ym(when))
    custody: dict[str, list[tuple[int, int | None]]] = {}
    for pid, kind, start, end in (
        facts["custody_records"].select("person_id", "sentence_type", "start_date", "end_date").iter_rows()
    ):
        if kind in STOPPING_SENTENCES:
            custody.setdefault(pid, []).append((ym(start), None if end is None else ym(end)))
    paid: set[tuple[str, str, int]] = set()
    pension_months: set[tuple[str, int]] = set()
    on_account: dict[tuple[str, int], set[str]] = {}
    for pid, btype, period, account in (
        facts["benefit_payments"].select("person_id", "benefit_type", "period", "bank_account").iter_rows()
    ):
        paid.add((pid, btype, period))
        if btype == "pension":
            pension_months.add((pid, period))
        on_account.setdefault((account, period), set()).add(pid)
    wages = {
        (pid, period)
        for pid, period, wage in facts["payroll_withholding"].select("person_id", "period", "wage_income").iter_rows()
        if wage > 0
    }
    jobs: dict[str, list[tuple[dt.date, dt.date | None]]] = {}
    enrolled: set[str] = set()
    for pid, scheme, employer, start, end in (
        facts["enrollment"].select("person_id", "scheme", "employer_id", "start_date", "end_date").iter_rows()
    ):
        enrolled.add(pid)
        if scheme in EMPLOYEE_PENSION_SCHEMES and employer:
            jobs.setdefault(pid, []).append((start, end))
    banned_persons = {b["key"] for b in blacklist if b["kind"] == "person"}
    banned_accounts = {b["key"] for b in blacklist if b["kind"] == "account"}
    valid = [x for x in lines if x["invalid"] is None]
    batch_pensions = {(x["person_id"], x["period"]) for x in valid if x["benefit_type"] == "pension"}
    for x in valid:
        on_account.setdefault((x["bank_account"], x["period"]), set()).add(x["person_id"])
    earlier: set[tuple[str, str, int]] = set()
    out = []
    for x in lines:
        if x["invalid"] is not None:
            out.append(("INVALID",))
            continue
        pid, btype, period = x["person_id"], x["benefit_type"], x["period"]
        first, last = month_days(period)
        key = (pid, btype, period)
        codes = {
            "DECEASED": btype not in PAID_BECAUSE_OF_DEATH and pid in death_month and period > death_month[pid],
            "IN_CUSTODY": btype == "pension"
            and any(period > s and (e is None or period < e) for s, e in custody.get(pid, [])),
            "ALREADY_PAID": key in paid or key in earlier,
            "EMPLOYED": btype == "unemployment"
            and (
                (pid, period) in wages
                or any(start <= last and (end is None or end >= first) for start, end in jobs.get(pid, []))
            ),
            "PENSIONER": btype == "unemployment"
            and ((pid, period) in pension_months or (pid, period) in batch_pensions),
            "SHARED_ACCOUNT": len(on_account[(x["bank_account"], period)]) >= MIN_PERSONS_SHARING,
            "BLACKLISTED": pid in banned_persons or x["bank_account"] in banned_accounts,
            "UNKNOWN_PERSON": pid not in enrolled,
        }
        earlier.add(key)
        out.append(tuple(c for c in REASONS if codes.get(c)))
    return out


def _written(lines: list[dict]) -> list[dict]:
    """Per line, what is written where it is not the canonical value: the ID, the period, the amount."""
    out = []
    for x in lines:
        raw_id = {"15": to_15(x["person_id"]), "lower_x": x["person_id"].lower()}.get(x["id_form"] or "")
        raw_period = raw_amount = None
        if x["invalid"] == "bad_check_digit":
            raw_id = wrong_check(x["person_id"])
        elif x["invalid"] == "bad_period":
            raw_period = BAD_PERIODS[x["line"] % 2]
        elif x["invalid"] == "negative_amount":
            raw_amount = "-" + fen_str(x["amount"])
        out.append({"raw_id": raw_id, "raw_period": raw_period, "raw_amount": raw_amount})
    return out


def _render(lines: list[dict], rng: Rng, dirty: bool) -> bytes:
    """The batch file: benefit_payments columns; dirty: Chinese headers (two padded), GB18030, the inbox's value
    forms (full-width digits, 15-digit IDs, a lower-case x, labels and padded codes, dates and periods as typed)."""
    n = len(lines)
    written = _written(lines)
    day = {"pension": 15, "unemployment": 10}
    frame = pl.DataFrame(
        {
            "payment_id": [x["payment_id"] for x in lines],
            "person_id": [x["person_id"] for x in lines],
            "region_code": [x["region_code"] for x in lines],
            "scheme": [x["scheme"] for x in lines],
            "benefit_type": [x["benefit_type"] for x in lines],
            "period": [x["period"] for x in lines],
            "amount": [x["amount"] for x in lines],
            "bank_account": [x["bank_account"] for x in lines],
            "pay_date": [D(YEAR + 1, 1, day.get(x["benefit_type"], 20)) for x in lines],
            "batch_id": [f"PC{x['region_code']}{BATCH_PERIOD}{x['scheme']}" for x in lines],
            "_raw_id": [w["raw_id"] for w in written],
            "_raw_period": [w["raw_period"] for w in written],
            "_raw_amount": [w["raw_amount"] for w in written],
        },
        schema_overrides={"period": pl.Int32, "amount": pl.Int64}
        | dict.fromkeys(("payment_id", "_raw_id", "_raw_period", "_raw_amount"), pl.String),
    )

    def u(column: str) -> pl.Expr:
        return pl.lit(rng.uniform(f"batch:dirt:{column}", n)) if dirty else pl.lit(1.0)

    text = frame.select(
        "payment_id",
        pl.coalesce("_raw_id", render_id(pl.col("person_id"), u("person_id"))).alias("person_id"),
        "region_code",
        render_code(pl.col("scheme"), u("scheme"), "scheme", "benefit_payments").alias("scheme"),
        render_code(pl.col("benefit_type"), u("benefit_type"), "benefit_type", "benefit_payments").alias(
            "benefit_type"
        ),
        pl.coalesce("_raw_period", render_period(pl.col("period"), u("period"))).alias("period"),
        pl.coalesce("_raw_amount", render_money(pl.col("amount"), u("amount"))).alias("amount"),
        "bank_account",
        render_date(pl.col("pay_date"), u("pay_date")).alias("pay_date"),
        "batch_id",
    )
    if dirty:
        zh = {c.name: c.zh for c in DATASETS["benefit_payments"]}
        text = text.rename({k: (f" {v} " if k in ("person_id", "amount") else v) for k, v in zh.items()})
    body = text.write_csv()
    return body.encode("gb18030") if dirty else body.encode("utf-8")


def _truth_frame(lines: list[dict], computed: list[tuple[str, ...]]) -> pl.DataFrame:
    written = _written(lines)
    rows = [
        {
            "line": x["line"],
            "payment_id": x["payment_id"],
            "person_id": w["raw_id"] if x["invalid"] == "bad_check_digit" else x["person_id"],
            "verdict": "hold" if codes else "pass",
            "reasons": ";".join(codes),
            "plant": x["plant"],
            "benefit_type": x["benefit_type"],
            "period": w["raw_period"] or str(x["period"]),
            "amount": w["raw_amount"] or fen_str(x["amount"]),
            "bank_account": x["bank_account"],
            "note": x["note"],
        }
        for x, w, codes in zip(lines, written, computed, strict=True)
    ]
    schema = dict.fromkeys(TRUTH_COLUMNS, pl.String) | {"line": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


def _fact_frame(dataset: str, rows: list[dict]) -> pl.DataFrame:
    """Added facts of a dataset, typed as the generator's frames are (periods YYYYMM, money in fen)."""
    kinds = {"id": pl.String, "text": pl.String, "code": pl.String, "date": pl.Date, "period": pl.Int32}
    schema = {c.name: kinds.get(c.kind, pl.Int64) for c in DATASETS[dataset]}
    return pl.DataFrame(rows, schema=schema)


def _canonical_text(frame: pl.DataFrame, dataset: str) -> pl.DataFrame:
    """A frame of added facts as plain CSV text: canonical values, money as exact yuan."""
    money = [c.name for c in DATASETS[dataset] if c.kind == "money"]
    return frame.with_columns(pl.col(c).map_elements(fen_str, return_dtype=pl.String) for c in money)
