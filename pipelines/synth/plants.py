"""Planted findings (one or more per rule of CONTRACT section 3) and near-misses.

Every plant uses persons of category ``X`` (who have no background rows),
its own employers, accounts and ids, so the truth is known by construction:
each plant records the (rule, subject_id) it must raise, with the amount the
contract defines; near-misses record what must *not* be raised.  Plants are
few (``max(3, variants, persons // 2000)`` per rule), so plain Python is fine.

Some plants need more: IDs made up for one person (一人多号, ``variant``), and
rows whose person_id arrives mistyped (CONTRACT section 6, ``typo``,
``ambiguous_typo``, ``mistype``); both are checked against every ID of the
province (``taken``), so a made-up ID is nobody else's and a typo has exactly the
candidates its truth says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from .constants import (
    BIRTH_COUNTIES,
    GIVEN_CHARS,
    LARGE_PAYMENT_FEN,
    OUTCOME,
    PROVINCE_CODE,
    RAW_ID,
    REGION_CODES,
    STOPPING_SENTENCES,
    SURNAMES,
    YEAR,
)
from .ids import IdSet, birth_of, gender_of, one_edit_away, with_check, year_typos
from .population import BORN
from .rng import Rng

D = dt.date
FINDING_COLUMNS = [
    "rule",
    "subject_id",
    "person_id",
    "region_code",
    "period_from",
    "period_to",
    "amount_at_risk",
    "note",
]
NEAR_MISS_COLUMNS = ["kind", "rule", "subject_id", "note"]


def fen_str(fen: int) -> str:
    """Exact decimal string of an amount in fen: 123456 -> '1234.56'."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def ym(d: dt.date) -> int:
    return d.year * 100 + d.month


def per(month: int) -> int:
    """Period YYYYMM of a month of YEAR."""
    return YEAR * 100 + month


def account_no(idx: int, seed: int) -> str:
    """Same bijection as population.account_expr: unique for every index."""
    return "621733" + str((idx * 7919 + 1_234_567 + seed * 104_729) % 10**13).zfill(13)


@dataclass
class Finding:
    rule: str
    subject_id: str
    person_id: str
    region_code: str
    periods: list[int] = field(default_factory=list)
    amount: int = 0
    notes: list[str] = field(default_factory=list)
    open_end: bool = False  # an overlap still running: period_to stays empty


class PlantBook:
    """Collects planted rows per dataset and the truth they imply."""

    def __init__(
        self,
        rng: Rng,
        persons: pl.DataFrame,
        employers: pl.DataFrame,
        operators: pl.DataFrame,
        accounts: pl.DataFrame,
        n_persons: int,
        seq_range: tuple[int, int] = (0, 500),
        surnames: str = SURNAMES,
    ) -> None:
        self.rng = rng
        self.py = rng.py("plants")
        self.pool = persons.filter(pl.col("category") == "X").to_dicts()
        self.all_ids = persons["person_id"]
        self._taken: IdSet | None = None
        self.seq_range, self.surnames = seq_range, surnames  # this part's (generate.generate)
        self.typos: list[dict] = []
        self.next_person = 0
        self.n_persons = n_persons
        self.rows: dict[str, list[dict]] = {}
        self.findings: dict[tuple[str, str], Finding] = {}
        self.near: list[dict] = []
        self.counters: dict[str, int] = {}
        self.employers = {
            (r, k): employers.filter((pl.col("region_code") == r) & (pl.col("kind") == k))["employer_id"].to_list()
            for r in REGION_CODES
            for k in ("E", "C")
        }
        ops = operators.to_dicts()
        self.ops = {
            (r, role): [o["operator_id"] for o in ops if o["region_code"] == r and o["role"] == role]
            for r in REGION_CODES
            for role in ("business", "leader", "admin", "auditor")
        }
        acc = accounts.to_dicts()
        self.special = {a["scheme"]: a["account_no"] for a in acc if a["account_type"] == "special"}
        self.accounts_extra: list[dict] = []

    # ---- ids and entities -------------------------------------------------------------
    def next_id(self, prefix: str, width: int) -> str:
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        return f"{prefix}{n:0{width}d}"

    def person(self, typo: str | None = None) -> dict:
        """The next plant person; with `typo`, the next one whose ID can be mistyped that way (`typo`)."""
        while True:
            if self.next_person >= len(self.pool):
                raise ValueError("plant person pool exhausted; raise persons")
            p = self.pool[self.next_person]
            self.next_person += 1
            if typo is None or self._typo(p["person_id"], typo) is not None:
                return p

    def fresh_account(self) -> str:
        n = self.counters.get("acct", 0) + 1
        self.counters["acct"] = n
        return account_no(self.n_persons + n, self.rng.seed)

    def employer(self, region: str, kind: str = "E") -> str:
        ids = self.employers[(region, kind)]
        return ids[self.py.randrange(len(ids))]

    def other_region(self, region: str) -> str:
        others = [r for r in REGION_CODES if r != region]
        return others[self.py.randrange(len(others))]

    def add(self, dataset: str, **row) -> dict:
        self.rows.setdefault(dataset, []).append(row)
        return row

    @property
    def taken(self) -> IdSet:
        """Every citizen ID of the province (part), made-up ones included: a superset of those enrolled."""
        if self._taken is None:
            self._taken = IdSet(self.all_ids)
        return self._taken

    def name(self) -> str:
        """A fresh random name (surname and two given characters)."""
        return self.py.choice(self.surnames) + self.py.choice(GIVEN_CHARS) + self.py.choice(GIVEN_CHARS)

    def variant(
        self,
        p: dict,
        *,
        county: str | None = None,
        birth: dt.date | None = None,
        male: bool | None = None,
        seq_step: int = 0,
        region: str | None = None,
        name: str | None = None,
    ) -> dict:
        """A person record under a made-up ID: p's, with its division code, birth date or gender changed,
        and its sequence moved on by `seq_step` or more (inside this province part's range) until the ID is
        nobody's; own account."""
        pid = p["person_id"]
        county = county or pid[:6]
        born = (birth or birth_of(pid)).strftime("%Y%m%d")
        parity = int(pid[16]) % 2 if male is None else int(male)
        base, span = self.seq_range
        seq_n = int(pid[14:17]) // 2
        for k in range(seq_step, seq_step + span):
            new = with_check(f"{county}{born}{(base + (seq_n - base + k) % span) * 2 + parity:03d}")
            if new not in self.taken:
                self.taken.add(new)
                break
        else:
            raise ValueError(f"no free ID like {pid}")
        return {
            **p,
            "pidx": None,
            "person_id": new,
            "birth_date": birth_of(new),
            "gender": gender_of(new),
            "region_code": region or p["region_code"],
            "name": name or p["name"],
            "account": self.fresh_account(),
        }

    def _typo(self, pid: str, kind: str) -> str | None:
        forms = year_typos(pid, kind, BORN)
        self.py.shuffle(forms)
        return next((raw for raw in forms if (one_edit_away(raw) & self.taken) == {pid}), None)

    def typo(self, pid: str, kind: str) -> str:
        """pid mistyped in its year of birth (`ids.year_typos`: one substituted digit, or two adjacent digits
        swapped), such that pid is the only ID of the province one edit away from it."""
        raw = self._typo(pid, kind)
        if raw is None:
            raise ValueError(f"no {kind} typo of {pid} with a single candidate")
        return raw

    def ambiguous_typo(self, a: dict, name: str | None = None) -> tuple[str, dict]:
        """A mistyped form of a's ID (`typo`) and a new person b (same division code, a made-up ID in this
        part's sequence range, `name` or a fresh one) whose ID is one edit from it too: two candidates."""
        pid = a["person_id"]
        base, span = self.seq_range
        forms = year_typos(pid, "substitution", BORN)
        self.py.shuffle(forms)
        for raw in forms:
            if (one_edit_away(raw) & self.taken) != {pid}:
                continue
            others = sorted(one_edit_away(raw) - {pid})
            self.py.shuffle(others)
            for other in others:
                born = birth_of(other)
                if (
                    other[:6] == pid[:6]
                    and born
                    and 1900 <= born.year <= YEAR
                    and base <= int(other[14:17]) // 2 < base + span
                    and other not in self.taken
                ):
                    self.taken.add(other)
                    b = {
                        **a,
                        "pidx": None,
                        "person_id": other,
                        "birth_date": born,
                        "gender": gender_of(other),
                        "name": name or self.name(),
                        "account": self.fresh_account(),
                    }
                    return raw, b
        raise ValueError(f"no ambiguous typo of {pid}")

    def mistype(self, dataset: str, raw: str, outcome: str) -> None:
        """The row last added to `dataset` arrives with its person_id typed as `raw`; resolving it must give
        `outcome` (`resolved`: to the row's person_id)."""
        row = self.rows[dataset][-1]
        expected = row["person_id"] if outcome == "resolved" else ""
        if outcome != "resolved":
            row["person_id"] = raw
        row[RAW_ID], row[OUTCOME] = raw, outcome
        self.typos.append(
            {"dataset": dataset, "raw": raw, "expected": expected, "outcome": outcome, "name": row.get("name")}
        )

    # ---- row builders -----------------------------------------------------------------
    def enroll(
        self, p: dict, scheme: str, region: str, employer: str | None, start: dt.date, end: dt.date | None
    ) -> None:
        self.add(
            "enrollment",
            enrollment_id=self.next_id("CBP", 9),
            person_id=p["person_id"],
            name=p["name"],
            gender=p["gender"],
            birth_date=p["birth_date"],
            region_code=region,
            scheme=scheme,
            employer_id=employer,
            start_date=start,
            end_date=end,
        )

    def pay(
        self,
        p: dict,
        scheme: str,
        btype: str,
        period: int,
        amount: int,
        *,
        account: str | None = None,
        region: str | None = None,
        status: str | None = "success",
        bank_amount: int | None = None,
        bank_account: str | None = None,
    ) -> str:
        """A benefit payment and (unless status is None) its bank result."""
        pid = self.next_id(f"FF{YEAR}P", 6)
        account = account or p["account"]
        region = region or p["region_code"]
        pay_date = D(period // 100, period % 100, 15)
        self.add(
            "benefit_payments",
            payment_id=pid,
            person_id=p["person_id"],
            region_code=region,
            scheme=scheme,
            benefit_type=btype,
            period=period,
            amount=amount,
            bank_account=account,
            pay_date=pay_date,
            batch_id=f"PC{region}{period}{scheme}",
        )
        if status is not None:
            self.add(
                "bank_disbursements",
                payment_id=pid,
                bank_account=bank_account or account,
                amount=amount if bank_amount is None else bank_amount,
                status=status,
                settled_date=pay_date,
            )
        return pid

    def claim(self, p: dict, hospital: str, invoice: str, service: dt.date, total: int, paid: int) -> str:
        cid = self.next_id(f"JS{YEAR}P", 7)
        self.add(
            "medical_claims",
            claim_id=cid,
            person_id=p["person_id"],
            region_code=p["region_code"],
            hospital_id=hospital,
            invoice_no=invoice,
            service_date=service,
            total_amount=total,
            fund_paid=paid,
        )
        return cid

    def payroll(self, employer: str, p: dict, period: int, wage: int) -> None:
        self.add("payroll_withholding", employer_id=employer, person_id=p["person_id"], period=period, wage_income=wage)

    def death(self, p: dict, when: dt.date, source: str, name: str | None = None) -> None:
        self.add("death_records", person_id=p["person_id"], name=name or p["name"], death_date=when, source=source)

    def custody(self, p: dict, sentence: str, start: dt.date, end: dt.date | None) -> None:
        self.add(
            "custody_records",
            person_id=p["person_id"],
            name=p["name"],
            sentence_type=sentence,
            start_date=start,
            end_date=end,
        )

    def retired(self, p: dict, scheme: str = "110", region: str | None = None, start: dt.date | None = None) -> None:
        """The pension spell of a retired person: with an employer (110/120) or not (170), ended in 2022
        (a resident pension spell stays open), so no employment in YEAR."""
        region = region or p["region_code"]
        start = start or D(max(p["birth_date"].year + 20, 1985), 3, 1)
        if scheme == "170":
            self.enroll(p, "170", region, None, start, None)
        else:
            self.enroll(
                p, scheme, region, self.employer(region, "C" if scheme == "120" else "E"), start, D(2022, 6, 30)
            )

    def contribution(self, employer: str, scheme: str, period: int, due: int) -> None:
        self.add(
            "contributions",
            employer_id=employer,
            scheme=scheme,
            period=period,
            amount_due=due,
            headcount=self.py.randint(3, 40),
        )

    def voucher(self, employer: str, scheme: str, period: int, amount: int) -> None:
        nxt = D(period // 100 + (period % 100) // 12, (period % 100) % 12 + 1, 18)
        self.add(
            "tax_collections",
            voucher_no=self.next_id("SPP", 10),
            employer_id=employer,
            scheme=scheme,
            period=period,
            amount_collected=amount,
            collected_date=nxt,
        )

    def ledger(self, account: str, when: dt.date, direction: str, amount: int, scheme: str) -> str:
        eid = self.next_id(f"PZ{YEAR}P", 6)
        self.add(
            "finance_ledger",
            entry_id=eid,
            account_no=account,
            entry_date=when,
            direction=direction,
            amount=amount,
            scheme=scheme,
            counterparty_account=None,
            summary="往来款",
        )
        return eid

    def bank(self, account: str, when: dt.date, direction: str, amount: int) -> str:
        tid = self.next_id(f"YH{YEAR}P", 7)
        self.add(
            "bank_statements",
            txn_id=tid,
            account_no=account,
            txn_date=when,
            direction=direction,
            amount=amount,
            counterparty_account=None,
            counterparty_name="往来单位",
            summary="往来款",
        )
        return tid

    def business(self, region: str, steps: list[tuple[str, str]], amount: int, when: dt.datetime) -> str:
        bid = self.next_id(f"YW{YEAR}P", 6)
        for i, (stage, op) in enumerate(steps):
            self.add(
                "business_log",
                business_id=bid,
                business_type="基金支付审批",
                stage=stage,
                operator_id=op,
                operated_at=when + dt.timedelta(hours=3 * i),
                person_id=None,
                amount=amount,
            )
        return bid

    def unique_amount(self, base: int) -> int:
        """An odd amount in fen, distinct per call (background movement amounts are even)."""
        n = self.counters.get("amt", 0) + 1
        self.counters["amt"] = n
        return base + 2 * n * 1_009 + 1

    # ---- truth ------------------------------------------------------------------------
    def finding(
        self,
        rule: str,
        subject: str,
        person: str,
        region: str,
        periods: list[int],
        amount: int,
        note: str,
        open_end: bool = False,
    ) -> None:
        f = self.findings.setdefault((rule, subject), Finding(rule, subject, person, region))
        f.open_end = f.open_end or open_end
        f.periods += periods
        f.amount += amount
        f.notes.append(note)

    def near_miss(self, kind: str, rule: str, subject: str, note: str) -> None:
        self.near.append({"kind": kind, "rule": rule, "subject_id": subject, "note": note})

    def findings_frame(self) -> pl.DataFrame:
        rows = []
        for f in sorted(self.findings.values(), key=lambda f: (f.rule, f.subject_id)):
            rows.append(
                {
                    "rule": f.rule,
                    "subject_id": f.subject_id,
                    "person_id": f.person_id,
                    "region_code": f.region_code,
                    "period_from": str(min(f.periods)) if f.periods else "",
                    "period_to": str(max(f.periods)) if f.periods and not f.open_end else "",
                    "amount_at_risk": fen_str(f.amount),
                    "note": "; ".join(f.notes),
                }
            )
        return pl.DataFrame(rows, schema=dict.fromkeys(FINDING_COLUMNS, pl.String))

    def near_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.near, schema=dict.fromkeys(NEAR_MISS_COLUMNS, pl.String))


# ---- the rules ------------------------------------------------------------------------


def plant_dup_enroll(b: PlantBook, n: int) -> None:
    """重复参保: overlaps > 30 days in the contract's three shapes; near-misses at 30 and 15 days."""
    variants = [
        (
            "same scheme 110 in two regions",
            [("110", "A", "E", D(2019, 3, 1), None), ("110", "B", "E", D(2024, 9, 1), D(YEAR, 3, 31))],
        ),
        (
            "same scheme 310 twice in one region",
            [("310", "A", "E", D(2018, 5, 1), D(YEAR, 6, 30)), ("310", "A", "E", D(YEAR, 2, 1), None)],
        ),
        (
            "pension family 110 vs 170",
            [("110", "A", "E", D(2016, 1, 1), None), ("170", "A", None, D(2024, 1, 1), D(YEAR, 5, 31))],
        ),
        (
            "medical family 310 vs 390",
            [("310", "A", "E", D(2020, 1, 1), D(YEAR, 12, 31)), ("390", "A", None, D(YEAR, 3, 1), None)],
        ),
        (
            "open-ended 120 vs 110 in another region, both open",
            [("120", "A", "C", D(2012, 7, 1), None), ("110", "B", "E", D(YEAR, 5, 1), None)],
        ),
        (
            "open-ended 110 with a closed 110 in the same region",
            [("110", "A", "E", D(2015, 4, 1), None), ("110", "A", "E", D(YEAR, 2, 1), D(YEAR, 5, 31))],
        ),
    ]
    for i in range(max(n, len(variants))):
        label, spells = variants[i % len(variants)]
        p = b.person()
        regions = {"A": p["region_code"], "B": b.other_region(p["region_code"])}
        for scheme, reg, kind, start, end in spells:
            b.enroll(p, scheme, regions[reg], b.employer(regions[reg], kind) if kind else None, start, end)
        (s1, e1), (s2, e2) = [(s[3], s[4]) for s in spells]
        o_start = max(s1, s2)
        ends = [e for e in (e1, e2) if e]
        o_end = min(ends) if ends else None
        days_txt = f"{(o_end - o_start).days + 1} days" if o_end else "still open"
        b.finding(
            "DUP_ENROLL",
            p["person_id"],
            p["person_id"],
            p["region_code"],
            [ym(o_start)] + ([ym(o_end)] if o_end else []),
            0,
            f"{label}; overlap from {o_start} ({days_txt})",
            open_end=o_end is None,
        )
    for days, scheme in ((30, "110"), (15, "310")):
        p = b.person()
        a, other = p["region_code"], b.other_region(p["region_code"])
        start2 = D(YEAR, 4, 1)
        b.enroll(p, scheme, a, b.employer(a), D(2015, 1, 1), start2 + dt.timedelta(days=days - 1))
        b.enroll(p, scheme, other, b.employer(other), start2, None)
        b.near_miss(
            f"transfer_overlap_{days}_days",
            "DUP_ENROLL",
            p["person_id"],
            f"{scheme} transfer {a}->{other} overlapping exactly {days} days (not more than 30)",
        )


def plant_dup_benefit(b: PlantBook, n: int) -> None:
    """重复领取待遇: same type and period twice; pension 110/120/170 count as one type."""
    for i in range(max(n, 4)):
        p = b.person()
        v = i % 4
        if v == 0:
            amt = b.py.randint(300_000, 700_000)
            for m in range(1, 13):
                b.pay(p, "110", "pension", per(m), amt)
            b.pay(p, "110", "pension", per(4), amt)
            b.finding(
                "DUP_BENEFIT",
                p["person_id"],
                p["person_id"],
                p["region_code"],
                [per(4)],
                amt,
                "pension 110 paid twice for the same month",
            )
        elif v == 1:
            amt, small = b.py.randint(300_000, 700_000), b.py.randint(20_000, 40_000)
            for m in range(1, 13):
                b.pay(p, "110", "pension", per(m), amt)
            for m in (7, 8, 9):
                b.pay(p, "170", "pension", per(m), small)
            b.finding(
                "DUP_BENEFIT",
                p["person_id"],
                p["person_id"],
                p["region_code"],
                [per(7), per(9)],
                3 * small,
                "pension from 110 and from 170 for the same months (one pension type)",
            )
        elif v == 2:
            amt, amt2 = b.py.randint(170_000, 260_000), b.py.randint(170_000, 260_000)
            for m in range(3, 9):
                b.pay(p, "210", "unemployment", per(m), amt)
            b.pay(p, "210", "unemployment", per(5), amt2, region=b.other_region(p["region_code"]))
            b.finding(
                "DUP_BENEFIT",
                p["person_id"],
                p["person_id"],
                p["region_code"],
                [per(5)],
                min(amt, amt2),
                "unemployment benefit for one month paid in two regions",
            )
        else:
            amt = b.py.randint(200_000, 400_000)
            for m in range(1, 13):
                b.pay(p, "410", "injury", per(m), amt)
            extra = [amt - 10_000, amt + 5_000]
            for a in extra:
                b.pay(p, "410", "injury", per(9), a)
            trio = [amt, *extra]
            b.finding(
                "DUP_BENEFIT",
                p["person_id"],
                p["person_id"],
                p["region_code"],
                [per(9)],
                sum(trio) - max(trio),
                "injury allowance paid three times for one month",
            )


def plant_deceased_paid(b: PlantBook, n: int) -> None:
    """死亡后继续领取: payments after the month of the earliest recorded death; grants excluded."""
    for i in range(max(n, 4)):
        p = b.person()
        v = i % 4
        amt = b.py.randint(200_000, 600_000)
        if v == 0:
            b.death(p, D(YEAR, 5, 14), "police")
            paid = [b.pay(p, "110", "pension", per(m), amt) for m in range(1, 9)]
            b.pay(p, "110", "funeral", per(6), 1_200_000)
            late, note = paid[5:], "pension continued 3 months after a police-recorded death"
            periods = [per(6), per(8)]
        elif v == 1:
            b.death(p, D(YEAR, 4, 3), "civil")
            b.death(p, D(YEAR, 3, 29), "health")
            for m in range(1, 7):
                b.pay(p, "110", "pension", per(m), amt)
            late, periods = [None] * 3, [per(4), per(6)]
            note = "two sources (health 03-29, civil 04-03): earliest date decides, April onward is late"
        elif v == 2:
            amt = b.py.randint(170_000, 260_000)
            b.death(p, D(YEAR, 4, 10), "civil")
            for m in range(2, 8):
                b.pay(p, "210", "unemployment", per(m), amt)
            late, periods = [None] * 3, [per(5), per(7)]
            note = "unemployment benefit after death"
        else:
            b.death(p, D(YEAR, 8, 20), "police")
            b.death(p, D(YEAR, 7, 31), "health")
            b.death(p, D(YEAR, 8, 2), "civil")
            for m in range(1, 10):
                b.pay(p, "120", "pension", per(m), amt)
            b.pay(p, "120", "survivor", per(8), 3_000_000)
            late, periods = [None] * 2, [per(8), per(9)]
            note = "three sources, earliest 07-31; survivor grant excluded"
        b.finding("DECEASED_PAID", p["person_id"], p["person_id"], p["region_code"], periods, amt * len(late), note)
    # Near-miss: pension for the month of death, then funeral and survivor grants.
    p = b.person()
    b.death(p, D(YEAR, 6, 10), "civil")
    b.death(p, D(YEAR, 6, 12), "police")
    for m in range(1, 7):
        b.pay(p, "110", "pension", per(m), 400_000)
    b.pay(p, "110", "funeral", per(7), 1_500_000)
    b.pay(p, "110", "survivor", per(7), 4_000_000)
    b.near_miss("pension_in_month_of_death", "DECEASED_PAID", p["person_id"], "died 06-10, pension for 202506 paid")
    b.near_miss(
        "funeral_and_survivor_after_death",
        "DECEASED_PAID",
        p["person_id"],
        "funeral grant and survivor benefit for 202507, after death",
    )


def plant_unemp_employed(b: PlantBook, n: int) -> None:
    """就业期间领取失业金: payroll with wage > 0, or a 110/120 spell active some day of the month."""
    for i in range(max(n, 4)):
        p = b.person()
        v = i % 4
        amt = b.py.randint(170_000, 260_000)
        region = p["region_code"]
        if v == 0:
            for m in range(3, 9):
                b.pay(p, "210", "unemployment", per(m), amt)
            b.payroll(b.employer(region), p, per(6), 650_000)
            flagged, note = [per(6)], "payroll wage declared for a benefit month"
        elif v == 1:
            for m in range(4, 9):
                b.pay(p, "210", "unemployment", per(m), amt)
            b.enroll(p, "110", region, b.employer(region), D(YEAR, 7, 20), None)
            flagged, note = [per(7), per(8)], "new 110 job from 07-20 (active part of July)"
        elif v == 2:
            for m in range(3, 7):
                b.pay(p, "210", "unemployment", per(m), amt)
            b.enroll(p, "120", region, b.employer(region, "C"), D(2010, 9, 1), D(YEAR, 3, 3))
            flagged, note = [per(3)], "120 spell ends 03-03, benefit for March"
        else:
            for m in range(8, 12):
                b.pay(p, "210", "unemployment", per(m), amt)
            emp = b.employer(region)
            b.payroll(emp, p, per(9), 480_000)
            b.payroll(emp, p, per(10), 510_000)
            flagged, note = [per(9), per(10)], "payroll in two benefit months"
        b.finding("UNEMP_WHILE_EMPLOYED", p["person_id"], p["person_id"], region, flagged, amt * len(flagged), note)
    p = b.person()
    for m in range(2, 8):
        b.pay(p, "210", "unemployment", per(m), 200_000)
    b.payroll(b.employer(p["region_code"]), p, per(4), 0)
    b.near_miss(
        "zero_wage_payroll_during_benefit",
        "UNEMP_WHILE_EMPLOYED",
        p["person_id"],
        "payroll declaration with wage_income 0.00 for 202504",
    )
    p = b.person()
    b.enroll(p, "110", p["region_code"], b.employer(p["region_code"]), D(2012, 1, 1), D(YEAR, 2, 28))
    for m in range(3, 7):
        b.pay(p, "210", "unemployment", per(m), 200_000)
    b.near_miss(
        "job_ended_last_day_before_benefit",
        "UNEMP_WHILE_EMPLOYED",
        p["person_id"],
        "110 spell ends 02-28, benefit from 202503",
    )


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def plant_dup_claim(b: PlantBook, n: int) -> None:
    """医保重复报销: same invoice modulo case/spaces/full-width, or same person+hospital+date+total."""
    for i in range(max(n, 5)):
        p = b.person()
        v = i % 5
        hosp = f"H{p['region_code']}{b.py.randrange(20):03d}"
        inv = f"ZJ{YEAR}B{b.next_id('inv', 8)[3:]}"
        day = D(YEAR, b.py.randint(1, 11), b.py.randint(1, 28))
        total = b.py.randint(50_000, 2_000_000)
        paid = total * 7 // 10
        if v == 0:
            forms, note = [inv, inv.lower()], "invoice number differs only in case"
        elif v == 1:
            forms, note = [inv, f"{inv[:6]} {inv[6:10]} {inv[10:]}"], "invoice number differs only in spaces"
        elif v == 2:
            forms, note = [inv, _fullwidth(inv)], "invoice number in full-width characters"
        elif v == 3:
            forms, note = [inv, f"ZJ{YEAR}C{b.next_id('inv', 8)[3:]}"], "same person, hospital, date and total"
        else:
            forms, note = [inv, inv.lower(), f" {inv} "], "same invoice three times"
        later = day + dt.timedelta(days=0 if v == 3 else 9)
        first = b.claim(p, hosp, forms[0], day, total, paid)
        risk = 0
        for k, form in enumerate(forms[1:], start=1):
            d2 = day if v == 3 else later
            paid2 = paid - 100 * k
            b.claim(p, hosp, form, d2, total, paid2)
            risk += paid2
        b.finding(
            "DUP_CLAIM",
            p["person_id"],
            p["person_id"],
            p["region_code"],
            [ym(day), ym(later)],
            risk,
            f"{note}; first claim {first} kept",
        )


def plant_shared_account(b: PlantBook, n: int) -> None:
    """多人共用收款账户: 3+ persons paid into one account in a period; spouses (2) are fine."""
    for i in range(max(n, 3)):
        v = i % 3
        acct = b.fresh_account()
        people = [b.person() for _ in range(4 if v == 1 else 3)]
        region = people[0]["region_code"]
        total, periods = 0, []
        if v == 0:
            for p in people:
                amt = b.py.randint(200_000, 500_000)
                for m in range(1, 13):
                    b.pay(p, "110", "pension", per(m), amt, account=acct, region=region)
                total += 12 * amt
            periods, note = [per(1), per(12)], "three pensioners paid into one account all year"
        elif v == 1:
            for p in people:
                amt = b.py.randint(170_000, 260_000)
                for m in range(4, 7):
                    b.pay(p, "210", "unemployment", per(m), amt, account=acct, region=region)
                total += 3 * amt
            periods, note = [per(4), per(6)], "four unemployed persons paid into one account"
        else:
            a, c = b.py.randint(200_000, 500_000), b.py.randint(800_000, 2_000_000)
            for p in people[:2]:
                for m in range(1, 13):
                    b.pay(p, "110", "pension", per(m), a, account=acct, region=region)
            b.pay(people[2], "510", "maternity", per(8), c, account=acct, region=region)
            total, periods = 2 * a + c, [per(8)]
            note = "two pensioners all year, a third person only in 202508"
        b.finding("SHARED_ACCOUNT", acct, "", region, periods, total, note)
    acct = b.fresh_account()
    for p in (b.person(), b.person()):
        for m in range(1, 13):
            b.pay(p, "110", "pension", per(m), 300_000, account=acct)
    b.near_miss("spouses_share_account", "SHARED_ACCOUNT", acct, "two persons (spouses) share one account")


def plant_recon_contrib(b: PlantBook, n: int) -> None:
    """征缴对账差异: assessed vs collected per employer|scheme|period differ by > 0.01, or one side missing."""
    for i in range(max(n, 4)):
        v = i % 4
        region = REGION_CODES[i % len(REGION_CODES)]
        emp = f"DW{region}{900000 + i:06d}"
        for m in (1, 2):  # two correct months first
            due = b.py.randint(500_000, 9_000_000)
            b.contribution(emp, "110", per(m), due)
            b.voucher(emp, "110", per(m), due)
        due = b.py.randint(1_000_000, 9_000_000)
        period = per(3 + i % 9)
        if v == 0:
            got = due - 134_000
            b.contribution(emp, "110", period, due)
            b.voucher(emp, "110", period, got)
            diff, note = due - got, "collected less than assessed"
        elif v == 1:
            half = due // 2
            b.contribution(emp, "310", period, due)
            b.voucher(emp, "310", period, half)
            b.voucher(emp, "310", period, due - half + 2)
            diff, note, scheme = 2, "two vouchers sum 0.02 more than assessed", "310"
        elif v == 2:
            b.contribution(emp, "210", period, due)
            diff, note = due, "assessed, nothing collected"
        else:
            b.voucher(emp, "410", period, due)
            diff, note = due, "collected without an assessment"
        scheme = {0: "110", 1: "310", 2: "210", 3: "410"}[v]
        b.finding("RECON_CONTRIB", f"{emp}|{scheme}|{period}", "", region, [period], diff, note)
    region = REGION_CODES[0]
    emp = f"DW{region}{990000:06d}"
    b.contribution(emp, "110", per(6), 2_345_678)
    b.voucher(emp, "110", per(6), 2_345_677)
    b.near_miss("difference_of_one_fen", "RECON_CONTRIB", f"{emp}|110|{per(6)}", "differs by exactly 0.01")
    emp = f"DW{region}{990001:06d}"
    b.contribution(emp, "110", per(7), 3_000_001)
    for part in (1_000_000, 1_000_000, 1_000_001):
        b.voucher(emp, "110", per(7), part)
    b.near_miss("split_vouchers_sum_exactly", "RECON_CONTRIB", f"{emp}|110|{per(7)}", "three vouchers sum exactly")


def plant_recon_ledger_bank(b: PlantBook, n: int) -> None:
    """专户账实不符: unmatched ledger or special-account bank lines (each line matched at most once)."""
    schemes = sorted(b.special)
    for i in range(max(n, 5)):
        v = i % 5
        scheme = schemes[i % len(schemes)]
        acct = b.special[scheme]
        when = D(YEAR, 1 + i % 12, 10)
        amt = b.unique_amount(30_000_000)
        if v == 0:
            eid = b.ledger(acct, when, "in", amt, scheme)
            b.finding(
                "RECON_LEDGER_BANK",
                f"ledger:{eid}",
                "",
                PROVINCE_CODE,
                [ym(when)],
                amt,
                "ledger entry with no bank movement",
            )
        elif v == 1:
            tid = b.bank(acct, when, "out", amt)
            b.finding(
                "RECON_LEDGER_BANK",
                f"bank:{tid}",
                "",
                PROVINCE_CODE,
                [ym(when)],
                amt,
                "special-account bank movement with no ledger entry",
            )
        elif v == 2:
            b.bank(acct, when, "in", amt)
            b.ledger(acct, when, "in", amt, scheme)
            eid = b.ledger(acct, when + dt.timedelta(days=2), "in", amt, scheme)
            b.finding(
                "RECON_LEDGER_BANK",
                f"ledger:{eid}",
                "",
                PROVINCE_CODE,
                [ym(when)],
                amt,
                "two ledger lines, one bank line (same date pairs first)",
            )
        elif v == 3:
            b.ledger(acct, when, "out", amt, scheme)
            b.bank(acct, when, "out", amt)
            tid = b.bank(acct, when + dt.timedelta(days=1), "out", amt)
            b.finding(
                "RECON_LEDGER_BANK",
                f"bank:{tid}",
                "",
                PROVINCE_CODE,
                [ym(when)],
                amt,
                "two bank lines, one ledger line (same date pairs first)",
            )
        else:
            eid = b.ledger(acct, when, "in", amt, scheme)
            tid = b.bank(acct, when + dt.timedelta(days=5), "in", amt)
            b.finding(
                "RECON_LEDGER_BANK",
                f"ledger:{eid}",
                "",
                PROVINCE_CODE,
                [ym(when)],
                amt,
                "bank movement 5 days later: outside the window",
            )
            b.finding(
                "RECON_LEDGER_BANK",
                f"bank:{tid}",
                "",
                PROVINCE_CODE,
                [ym(when)],
                amt,
                "ledger entry 5 days earlier: outside the window",
            )
    acct = b.special[schemes[0]]
    amt = b.unique_amount(30_000_000)
    eid = b.ledger(acct, D(YEAR, 6, 7), "in", amt, schemes[0])
    b.bank(acct, D(YEAR, 6, 10), "in", amt)
    b.near_miss("ledger_three_days_before_bank", "RECON_LEDGER_BANK", f"ledger:{eid}", "booked 3 days before bank")


def plant_recon_payment(b: PlantBook, n: int) -> None:
    """发放对账差异: missing/different/failed/returned bank results and orphan results."""
    for i in range(max(n, 6)):
        v = i % 6
        p = b.person()
        amt = b.py.randint(200_000, 600_000)
        for m in range(1, 13):
            if m == 6:
                continue
            b.pay(p, "110", "pension", per(m), amt)
        if v == 0:
            pid, note = b.pay(p, "110", "pension", per(6), amt, status=None), "no bank result"
        elif v == 1:
            pid, note = b.pay(p, "110", "pension", per(6), amt, bank_amount=amt - 10_000), "bank amount 100.00 less"
        elif v == 2:
            pid = b.pay(p, "110", "pension", per(6), amt, bank_account=b.fresh_account())
            note = "credited a different account"
        elif v == 3:
            pid, note = b.pay(p, "110", "pension", per(6), amt, status="failed"), "bank result failed"
        elif v == 4:
            pid, note = b.pay(p, "110", "pension", per(6), amt, status="returned"), "bank result returned"
        else:
            b.pay(p, "110", "pension", per(6), amt)
            pid = b.next_id(f"FF{YEAR}Q", 6)
            b.add(
                "bank_disbursements",
                payment_id=pid,
                bank_account=p["account"],
                amount=amt,
                status="success",
                settled_date=D(YEAR, 6, 16),
            )
            note = "bank result for an unknown payment_id"
        b.finding("RECON_PAYMENT", pid, "" if v == 5 else p["person_id"], p["region_code"], [per(6)], amt, note)


def plant_unregistered_account(b: PlantBook, n: int) -> None:
    """未登记账户: bank movements on an unknown account, or after the account's closed_date."""
    for i in range(max(n, 2)):
        v = i % 2
        region = REGION_CODES[i % len(REGION_CODES)]
        if v == 0:
            acct = f"95{region}{800000 + i:08d}"
            a1, a2 = b.unique_amount(5_000_000), b.unique_amount(5_000_000)
            b.bank(acct, D(YEAR, 3, 12), "in", a1)
            b.bank(acct, D(YEAR, 4, 2), "out", a2)
            b.finding("UNREGISTERED_ACCOUNT", acct, "", region, [per(3), per(4)], a1 + a2, "account not registered")
        else:
            acct = f"19{region}21{i:04d}9"
            b.add(
                "fund_accounts",
                account_no=acct,
                account_type="expenditure",
                scheme="210",
                bank_name="中国银行",
                opened_date=D(2010, 1, 4),
                closed_date=D(YEAR, 6, 30),
            )
            b.bank(acct, D(YEAR, 3, 10), "out", b.unique_amount(5_000_000))
            late = b.unique_amount(5_000_000)
            b.bank(acct, D(YEAR, 8, 15), "out", late)
            b.finding("UNREGISTERED_ACCOUNT", acct, "", region, [per(8)], late, "used after closed_date 06-30")
    region = REGION_CODES[1]
    acct = f"19{region}21{9999:04d}9"
    b.add(
        "fund_accounts",
        account_no=acct,
        account_type="expenditure",
        scheme="210",
        bank_name="中国银行",
        opened_date=D(2010, 1, 4),
        closed_date=D(YEAR, 9, 30),
    )
    b.bank(acct, D(YEAR, 9, 30), "out", b.unique_amount(5_000_000))
    b.near_miss("used_on_closed_date", "UNREGISTERED_ACCOUNT", acct, "last movement on the closed_date itself")


def _steps(b: PlantBook, region: str, approver: str | None) -> list[tuple[str, str]]:
    ops = b.ops[(region, "business")]
    steps = [("accept", ops[0]), ("review", ops[1]), ("recheck", ops[2])]
    if approver:
        steps.append(("approve", approver))
    return [*steps, ("pay", ops[3])]


def plant_sod_breach(b: PlantBook, n: int) -> None:
    """不相容岗位混岗: one operator in two stages of a business, or an admin in any stage."""
    for i in range(max(n, 3)):
        v = i % 3
        region = REGION_CODES[i % len(REGION_CODES)]
        steps = _steps(b, region, b.ops[(region, "leader")][0])
        if v == 0:
            steps[1] = ("review", steps[0][1])
            note = "same operator accepted and reviewed"
        elif v == 1:
            steps[2] = ("recheck", b.ops[(region, "admin")][0])
            note = "system administrator performed the recheck"
        else:
            steps[4] = ("pay", steps[1][1])
            note = "same operator reviewed and paid"
        amt = b.py.randint(100_000, 5_000_000)
        when = dt.datetime(YEAR, 1 + i % 12, 5, 9, 0)
        bid = b.business(region, steps, amt, when)
        b.finding("SOD_BREACH", bid, "", region, [ym(when)], amt, note)


def plant_large_unapproved(b: PlantBook, n: int) -> None:
    """大额支付未经负责人审批: amount >= 100,000.00 without an approve stage by a leader."""
    for i in range(max(n, 3)):
        v = i % 3
        region = REGION_CODES[i % len(REGION_CODES)]
        if v == 0:
            amt, steps, note = 15_000_000, _steps(b, region, None), "no approve stage"
        elif v == 1:
            amt, steps = LARGE_PAYMENT_FEN, _steps(b, region, b.ops[(region, "business")][4])
            note = "exactly 100,000.00 approved by a business operator"
        else:
            amt, steps = 25_000_000, _steps(b, region, b.ops[(region, "auditor")][0])
            note = "approved by an auditor"
        when = dt.datetime(YEAR, 1 + i % 12, 12, 9, 0)
        bid = b.business(region, steps, amt, when)
        b.finding("LARGE_PAYMENT_UNAPPROVED", bid, "", region, [ym(when)], amt, note)
    region = REGION_CODES[2]
    bid = b.business(
        region, _steps(b, region, b.ops[(region, "business")][4]), LARGE_PAYMENT_FEN - 1, dt.datetime(YEAR, 3, 3, 9, 0)
    )
    b.near_miss("just_below_threshold", "LARGE_PAYMENT_UNAPPROVED", bid, "99,999.99 approved by a business operator")
    bid = b.business(
        region, _steps(b, region, b.ops[(region, "leader")][1]), LARGE_PAYMENT_FEN, dt.datetime(YEAR, 3, 4, 9, 0)
    )
    b.near_miss("threshold_approved_by_leader", "LARGE_PAYMENT_UNAPPROVED", bid, "100,000.00 approved by a leader")


def pension_amount(b: PlantBook, scheme: str) -> int:
    """A monthly pension in fen: small for the resident scheme 170."""
    return b.py.randint(18_000, 50_000) if scheme == "170" else b.py.randint(250_000, 700_000)


def custody_months(spells: list[tuple[str, dt.date, dt.date | None]]) -> list[int]:
    """The periods of YEAR a pension is stopped for (CONTRACT PRISONER_PAID): strictly after the month a
    stopping spell starts and strictly before the month it ends (no end: every later period)."""
    return [
        per(m)
        for m in range(1, 13)
        if any(
            kind in STOPPING_SENTENCES and per(m) > ym(start) and (end is None or per(m) < ym(end))
            for kind, start, end in spells
        )
    ]


PRISON_VARIANTS: tuple[tuple[str, str, list[tuple[str, dt.date, dt.date | None]]], ...] = (
    ("detention 03-10 to 07-05, released", "110", [("detention", D(YEAR, 3, 10), D(YEAR, 7, 5))]),
    ("imprisonment 2024-08-10 to 04-20, released", "110", [("imprisonment", D(YEAR - 1, 8, 10), D(YEAR, 4, 20))]),
    ("life imprisonment since 2023-05-01, no end date", "120", [("life", D(YEAR - 2, 5, 1), None)]),
    ("death sentence suspended from 02-03, no end date", "110", [("death_suspended", D(YEAR, 2, 3), None)]),
    (
        "imprisonment from 06-15, release set for 2027-12-14",
        "170",
        [("imprisonment", D(YEAR, 6, 15), D(YEAR + 2, 12, 14))],
    ),
    (
        "detention 03-20 to 08-31 and imprisonment from 05-08 overlap: each payment once",
        "110",
        [("detention", D(YEAR, 3, 20), D(YEAR, 8, 31)), ("imprisonment", D(YEAR, 5, 8), None)],
    ),
)


def plant_prisoner_paid(b: PlantBook, n: int) -> None:
    """服刑期间领取养老金: a pension paid all year to a person in stopping custody (every stopping sentence
    type, released or not, with or without end date, two overlapping spells); near-misses: 缓刑 and 管制
    while paid, a pension paid only for the month of admission and the month of release, and custody
    that starts and ends in one month."""
    for i in range(max(n, len(PRISON_VARIANTS))):
        label, scheme, spells = PRISON_VARIANTS[i % len(PRISON_VARIANTS)]
        p = b.person()
        b.retired(p, scheme)
        amt = pension_amount(b, scheme)
        for m in range(1, 13):
            b.pay(p, scheme, "pension", per(m), amt)
        for kind, start, end in spells:
            b.custody(p, kind, start, end)
        months = custody_months(spells)
        note = f"{label}: pension paid for {len(months)} months in custody, {months[0]}-{months[-1]}"
        b.finding("PRISONER_PAID", p["person_id"], p["person_id"], p["region_code"], months, amt * len(months), note)
    for kind, start, end, note in (
        ("suspended", D(YEAR, 2, 1), D(YEAR + 2, 1, 31), "suspended sentence (缓刑) from 02-01, pension paid all year"),
        ("surveillance", D(YEAR - 1, 10, 1), D(YEAR, 9, 30), "surveillance (管制) until 09-30, pension paid all year"),
        ("detention", D(YEAR, 5, 3), D(YEAR, 5, 28), "detention 05-03 to 05-28 inside one month, paid all year"),
    ):
        p = b.person()
        b.retired(p)
        for m in range(1, 13):
            b.pay(p, "110", "pension", per(m), 300_000)
        b.custody(p, kind, start, end)
        b.near_miss(f"custody_{kind}_while_paid", "PRISONER_PAID", p["person_id"], note)
    p = b.person()
    b.retired(p)
    for m in (1, 2, 3, 9, 10, 11, 12):
        b.pay(p, "110", "pension", per(m), 320_000)
    b.custody(p, "imprisonment", D(YEAR, 3, 15), D(YEAR, 9, 10))
    b.near_miss(
        "paid_in_admission_and_release_month",
        "PRISONER_PAID",
        p["person_id"],
        "imprisonment 03-15 to 09-10, pension stopped 202504-202508, paid for 202503 and 202509",
    )


def plant_unemp_with_pension(b: PlantBook, n: int) -> None:
    """领取养老金期间领取失业金: pensioners drawing unemployment benefit for months they are paid a pension
    (no payroll, no employer spell in YEAR: not UNEMP_WHILE_EMPLOYED); near-miss: benefit up to the month
    before the pension starts."""
    for i in range(max(n, 3)):
        v = i % 3
        p = b.person()
        unemp = b.py.randint(170_000, 260_000)
        region = p["region_code"]
        if v == 0:
            b.retired(p, "110")
            pension, paid, months = pension_amount(b, "110"), range(1, 13), [3, 4, 5, 6]
            scheme, note = "110", "enterprise pensioner paid unemployment benefit 202503-202506"
        elif v == 1:
            b.retired(p, "120")
            pension, paid, months = pension_amount(b, "120"), range(1, 13), [10, 11, 12]
            scheme, region = "120", b.other_region(p["region_code"])
            note = "public-sector pensioner paid unemployment benefit in another region 202510-202512"
        else:
            b.retired(p, "170", start=D(2011, 7, 1))
            pension, paid, months = pension_amount(b, "170"), range(4, 13), [1, 2, 3, 4, 5]
            scheme, note = "170", "resident pension from 202504, unemployment benefit 202501-202505: April and May"
        for m in paid:
            b.pay(p, scheme, "pension", per(m), pension)
        for m in months:
            b.pay(p, "210", "unemployment", per(m), unemp, region=region)
        flagged = [per(m) for m in months if m in paid]
        b.finding("UNEMP_WITH_PENSION", p["person_id"], p["person_id"], region, flagged, unemp * len(flagged), note)
    p = b.person()
    b.retired(p, "110")
    for m in range(2, 6):
        b.pay(p, "210", "unemployment", per(m), 200_000)
    for m in range(6, 13):
        b.pay(p, "110", "pension", per(m), 350_000)
    b.near_miss(
        "unemployment_before_pension_starts",
        "UNEMP_WITH_PENSION",
        p["person_id"],
        "unemployment benefit 202502-202505, pension from 202506",
    )


def _spaced(name: str, space: str) -> str:
    """A name as typed with a space after the surname: '王伟' -> '王 伟' (or the full-width space U+3000)."""
    return name[0] + space + name[1:]


def plant_dup_identity(b: PlantBook, n: int) -> None:
    """一人多号: one person enrolled and paid a pension under two IDs (other division code, same start
    date: the smaller ID is the person) or three (one more with another sequence number), a name typed
    with a space or a full-width space in one spell; different accounts.  Near-misses: namesakes of one
    birth date and gender never paid for one month, same name with another birth date or gender."""
    for i in range(max(n, 2)):
        v = i % 2
        p = b.person()
        other = b.other_region(p["region_code"])
        counties = [c for c in BIRTH_COUNTIES[other] if c != p["person_id"][:6]]
        q = b.variant(p, county=counties[b.py.randrange(len(counties))], region=other)
        # (person, scheme, first enrollment start, months paid, monthly pension)
        if v == 0:
            q["name"] = _spaced(p["name"], " ")
            ids = [(p, "110", D(1992, 3, 1), range(1, 13)), (q, "110", D(1992, 3, 1), range(3, 13))]
            note = "two IDs differing in the division code, one name typed with a space, enrolled the same day"
        else:
            r = b.variant(p, seq_step=1, name=_spaced(p["name"], "\u3000"))
            ids = [
                (p, "110", D(1986, 7, 1), range(1, 13)),
                (q, "110", D(1990, 1, 1), range(1, 13)),
                (r, "170", D(2011, 7, 1), range(6, 10)),
            ]
            note = "three IDs: another division code, another sequence number (name with a full-width space)"
        paid: dict[int, list[tuple[int, str, str]]] = {}
        for person, scheme, start, months in ids:
            b.retired(person, scheme, start=start)
            amt = pension_amount(b, scheme)
            for m in months:
                b.pay(person, scheme, "pension", per(m), amt)
                paid.setdefault(per(m), []).append((amt, person["person_id"], person["region_code"]))
        shared = sorted(period for period, pays in paid.items() if len(pays) > 1)
        first = min((start, person["person_id"]) for person, _, start, _ in ids)[1]
        risk = sum(sum(a for a, _, _ in paid[k]) - max(a for a, _, _ in paid[k]) for k in shared)
        region = next(reg for _, pid, reg in paid[shared[-1]] if pid == first)
        subject = "|".join(sorted(person["person_id"] for person, _, _, _ in ids))
        b.finding("DUP_IDENTITY", subject, first, region, shared, risk, f"{note}; shared {shared[0]}-{shared[-1]}")
    near = (
        (
            "namesakes_never_paid_together",
            {},
            (range(1, 7), range(7, 13)),
            "same name, birth date, gender; paid Jan-Jun and Jul-Dec",
        ),
        (
            "same_name_other_birth_date",
            {"birth": True},
            (range(1, 13), range(1, 13)),
            "same name and gender, birth date a year later",
        ),
        (
            "same_name_and_birth_date_other_gender",
            {"male": True},
            (range(1, 13), range(1, 13)),
            "same name and birth date, other gender",
        ),
    )
    for kind, change, (months_p, months_q), note in near:
        p = b.person()
        if "birth" in change:
            q = b.variant(p, birth=p["birth_date"] + dt.timedelta(days=400))
        elif "male" in change:
            q = b.variant(p, male=p["gender"] == "2")
        else:
            other = b.other_region(p["region_code"])
            q = b.variant(p, county=BIRTH_COUNTIES[other][0], region=other)
        for person, months in ((p, months_p), (q, months_q)):
            b.retired(person)
            for m in months:
                b.pay(person, "110", "pension", per(m), 310_000)
        b.near_miss(kind, "DUP_IDENTITY", "|".join(sorted((p["person_id"], q["person_id"]))), note)


def _retired(b: PlantBook, typo: str | None = None) -> dict:
    """A plant person with a past 110 spell: enrolled, so a mistyped ID of theirs can resolve."""
    p = b.person(typo)
    b.retired(p)
    return p


def plant_resolving_typos(b: PlantBook) -> None:
    """Rows whose person_id arrives mistyped (CONTRACT section 6) and resolves to its person: one substituted
    digit and one swap of adjacent digits in each of benefit_payments, death_records, medical_claims and
    payroll_withholding, one in custody_records.  Each makes or changes a finding, so a row that did not
    resolve, or resolved to someone else, shows in the findings."""

    # DECEASED_PAID: the death notice typed with two adjacent digits swapped, a late pension with one wrong digit
    p = _retired(b, "swap")
    amt = pension_amount(b, "110")
    for m in range(1, 10):
        b.pay(p, "110", "pension", per(m), amt)
        if m == 8:
            b.mistype("benefit_payments", b.typo(p["person_id"], "substitution"), "resolved")
    b.death(p, D(YEAR, 5, 20), "civil")
    b.mistype("death_records", b.typo(p["person_id"], "swap"), "resolved")
    b.finding(
        "DECEASED_PAID",
        p["person_id"],
        p["person_id"],
        p["region_code"],
        [per(6), per(9)],
        4 * amt,
        "death notice (civil, 05-20) with two digits of the ID swapped; the 202508 pension with one digit wrong",
    )
    # DECEASED_PAID: the earlier of two notices typed with one wrong digit decides the month of death
    p = _retired(b, "substitution")
    amt = pension_amount(b, "110")
    for m in range(1, 13):
        b.pay(p, "110", "pension", per(m), amt)
    b.death(p, D(YEAR, 7, 15), "police")
    b.death(p, D(YEAR, 4, 5), "health")
    b.mistype("death_records", b.typo(p["person_id"], "substitution"), "resolved")
    b.finding(
        "DECEASED_PAID",
        p["person_id"],
        p["person_id"],
        p["region_code"],
        [per(5), per(12)],
        8 * amt,
        "health notice 04-05 with one wrong digit is the earliest (police 07-15): 202505 onward",
    )
    # DUP_CLAIM: the second claim of an invoice, and of a person/hospital/date/total, typed wrong
    for kind in ("substitution", "swap"):
        p = b.person(kind)
        b.enroll(p, "390", p["region_code"], None, D(2018, 1, 1), None)
        hosp = f"H{p['region_code']}{b.py.randrange(20):03d}"
        day = D(YEAR, b.py.randint(1, 10), b.py.randint(1, 28))
        total = b.py.randint(80_000, 1_500_000)
        inv = f"ZJ{YEAR}T{b.next_id('inv', 8)[3:]}"
        first = b.claim(p, hosp, inv, day, total, total * 7 // 10)
        if kind == "substitution":
            again = day + dt.timedelta(days=6)
            b.claim(p, hosp, inv, again, total, total * 6 // 10)
            note = "same invoice claimed again under an ID with one wrong digit"
        else:
            again = day
            b.claim(p, hosp, f"ZJ{YEAR}T{b.next_id('inv', 8)[3:]}", day, total, total * 6 // 10)
            note = "same hospital, date and total claimed again under an ID with two digits swapped"
        b.mistype("medical_claims", b.typo(p["person_id"], kind), "resolved")
        b.finding(
            "DUP_CLAIM",
            p["person_id"],
            p["person_id"],
            p["region_code"],
            [ym(day), ym(again)],
            total * 6 // 10,
            f"{note}; {first} kept",
        )
    # UNEMP_WHILE_EMPLOYED: the payroll declaration that proves the job typed wrong
    for kind, months, wages in (
        ("swap", range(3, 9), {6: 520_000}),
        ("substitution", range(4, 10), {7: 480_000, 8: 495_000}),
    ):
        p = b.person(kind)
        b.enroll(p, "390", p["region_code"], None, D(2016, 1, 1), None)
        amt = b.py.randint(170_000, 260_000)
        for m in months:
            b.pay(p, "210", "unemployment", per(m), amt)
        employer = b.employer(p["region_code"])
        for m, wage in wages.items():
            b.payroll(employer, p, per(m), wage)
        b.mistype("payroll_withholding", b.typo(p["person_id"], kind), "resolved")
        flagged = [per(m) for m in wages]
        b.finding(
            "UNEMP_WHILE_EMPLOYED",
            p["person_id"],
            p["person_id"],
            p["region_code"],
            flagged,
            amt * len(flagged),
            f"payroll for {flagged[-1]} declared under a mistyped ID ({kind})",
        )
    # UNEMP_WITH_PENSION: one unemployment payment typed with two digits swapped
    p = _retired(b, "swap")
    pension, unemp = pension_amount(b, "110"), b.py.randint(170_000, 260_000)
    for m in range(1, 13):
        b.pay(p, "110", "pension", per(m), pension)
    for m in (7, 8, 9):
        b.pay(p, "210", "unemployment", per(m), unemp)
        if m == 8:
            b.mistype("benefit_payments", b.typo(p["person_id"], "swap"), "resolved")
    b.finding(
        "UNEMP_WITH_PENSION",
        p["person_id"],
        p["person_id"],
        p["region_code"],
        [per(7), per(9)],
        3 * unemp,
        "unemployment benefit 202507-202509 beside the pension; 202508 under an ID with two digits swapped",
    )
    # PRISONER_PAID: the custody record typed with one wrong digit (its name is the enrolled one)
    p = _retired(b, "substitution")
    amt = pension_amount(b, "110")
    for m in range(1, 13):
        b.pay(p, "110", "pension", per(m), amt)
    b.custody(p, "imprisonment", D(YEAR, 2, 10), None)
    b.mistype("custody_records", b.typo(p["person_id"], "substitution"), "resolved")
    months = custody_months([("imprisonment", D(YEAR, 2, 10), None)])
    b.finding(
        "PRISONER_PAID",
        p["person_id"],
        p["person_id"],
        p["region_code"],
        months,
        amt * len(months),
        "imprisonment from 02-10 recorded under an ID with one wrong digit",
    )


def plant_unresolvable_typos(b: PlantBook) -> None:
    """Rows whose person_id arrives mistyped (CONTRACT section 6) and must not resolve: ambiguous ones (two
    enrolled persons one edit away, in death_records with the same name) and ones without a candidate (the
    one enrolled person one edit away has another name; the person is not enrolled at all).  Each would
    make a finding if it resolved to the person it was meant for: near-misses."""
    a = _retired(b)
    for m in range(1, 13):
        b.pay(a, "110", "pension", per(m), 330_000)
    raw, twin = b.ambiguous_typo(a, name=a["name"])
    b.enroll(twin, "390", twin["region_code"], None, D(2015, 1, 1), None)
    b.death(a, D(YEAR, 3, 8), "police")
    b.mistype("death_records", raw, "ambiguous")
    b.near_miss("ambiguous_death_notice", "DECEASED_PAID", a["person_id"], f"notice {raw} (same name) fits two IDs")
    b.near_miss("ambiguous_death_notice", "DECEASED_PAID", twin["person_id"], f"notice {raw} fits two IDs")

    a = _retired(b)
    for m in range(1, 13):
        b.pay(a, "110", "pension", per(m), 340_000)
    raw, twin = b.ambiguous_typo(a)
    b.enroll(twin, "390", twin["region_code"], None, D(2015, 1, 1), None)
    b.pay(a, "110", "pension", per(7), 340_000, status=None)
    b.mistype("benefit_payments", raw, "ambiguous")
    b.near_miss("ambiguous_payment", "DUP_BENEFIT", a["person_id"], f"a second 202507 pension under {raw}")

    a = b.person()
    b.enroll(a, "390", a["region_code"], None, D(2016, 1, 1), None)
    for m in range(4, 10):
        b.pay(a, "210", "unemployment", per(m), 210_000)
    raw, twin = b.ambiguous_typo(a)
    b.enroll(twin, "390", twin["region_code"], None, D(2015, 1, 1), None)
    b.payroll(b.employer(a["region_code"]), a, per(6), 500_000)
    b.mistype("payroll_withholding", raw, "ambiguous")
    b.near_miss("ambiguous_payroll", "UNEMP_WHILE_EMPLOYED", a["person_id"], f"payroll for 202506 under {raw}")

    a = b.person()
    b.enroll(a, "390", a["region_code"], None, D(2016, 1, 1), None)
    hosp, inv, day = (
        f"H{a['region_code']}{b.py.randrange(20):03d}",
        f"ZJ{YEAR}A{b.next_id('inv', 8)[3:]}",
        D(YEAR, 6, 3),
    )
    b.claim(a, hosp, inv, day, 260_000, 182_000)
    raw, twin = b.ambiguous_typo(a)
    b.enroll(twin, "390", twin["region_code"], None, D(2015, 1, 1), None)
    b.claim(a, hosp, inv, day + dt.timedelta(days=3), 260_000, 170_000)
    b.mistype("medical_claims", raw, "ambiguous")
    b.near_miss("ambiguous_claim", "DUP_CLAIM", a["person_id"], f"the same invoice claimed again under {raw}")

    # No candidate: the one enrolled person one edit away has another name; nobody enrolled at all.
    a = _retired(b, "substitution")
    for m in range(1, 13):
        b.pay(a, "110", "pension", per(m), 360_000)
    b.death(a, D(YEAR, 4, 22), "civil", name=b.name())
    b.mistype("death_records", b.typo(a["person_id"], "substitution"), "no_candidate")
    b.near_miss("death_notice_other_name", "DECEASED_PAID", a["person_id"], "notice one digit off, another name")

    a = b.person("swap")  # paid, never enrolled
    for m in range(1, 13):
        b.pay(a, "110", "pension", per(m), 280_000)
    b.pay(a, "110", "pension", per(5), 280_000, status=None)
    b.mistype("benefit_payments", b.typo(a["person_id"], "swap"), "no_candidate")
    b.near_miss("payment_of_unenrolled_person", "DUP_BENEFIT", a["person_id"], "a second 202505 pension, ID mistyped")


PLANTERS: tuple[tuple[str, Callable[[PlantBook, int], None]], ...] = (
    ("DUP_ENROLL", plant_dup_enroll),
    ("DUP_BENEFIT", plant_dup_benefit),
    ("DECEASED_PAID", plant_deceased_paid),
    ("UNEMP_WHILE_EMPLOYED", plant_unemp_employed),
    ("DUP_CLAIM", plant_dup_claim),
    ("SHARED_ACCOUNT", plant_shared_account),
    ("RECON_CONTRIB", plant_recon_contrib),
    ("RECON_LEDGER_BANK", plant_recon_ledger_bank),
    ("RECON_PAYMENT", plant_recon_payment),
    ("UNREGISTERED_ACCOUNT", plant_unregistered_account),
    ("SOD_BREACH", plant_sod_breach),
    ("LARGE_PAYMENT_UNAPPROVED", plant_large_unapproved),
    ("PRISONER_PAID", plant_prisoner_paid),
    ("UNEMP_WITH_PENSION", plant_unemp_with_pension),
    ("DUP_IDENTITY", plant_dup_identity),
)
RULES = tuple(r for r, _ in PLANTERS)


# The generator's own density: one plant per rule per 2,000 persons (about 0.76% of persons with a finding).
PERSONS_PER_PLANT = 2000
# A finding-dense inbox (`finding_share`, a bad year) plants at most this share of persons: the plant persons
# (`plant_pool_size`, 20 per plants_per_rule) must stay a minority of the province.
MAX_FINDING_SHARE = 0.2


def plants_per_rule(persons: int, finding_share: float | None = None) -> int:
    """Plants per rule: the generator's density, or with `finding_share` about that share of persons with a
    finding, spread evenly over the rules (as the generator's density is)."""
    if finding_share is None:
        return max(3, persons // PERSONS_PER_PLANT)
    if not 0 < finding_share <= MAX_FINDING_SHARE:
        raise ValueError(f"finding_share must be in (0, {MAX_FINDING_SHARE}]")
    return max(3, round(finding_share * persons / len(PLANTERS)))


def plant_pool_size(persons: int, finding_share: float | None = None) -> int:
    """Plant persons to reserve: at most 4 per plant, plus the near-misses and the mistyped IDs."""
    return 20 * plants_per_rule(persons, finding_share) + 100


def plant_all(book: PlantBook, persons: int, finding_share: float | None = None) -> None:
    n = plants_per_rule(persons, finding_share)
    for _rule, planter in PLANTERS:
        planter(book, n)
    plant_resolving_typos(book)
    plant_unresolvable_typos(book)
