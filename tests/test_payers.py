"""回避 recusal: who paid the money a finding is about (sql/cases/payers.sql), for every benefit rule.

Small hand-built tables in DuckDB: each benefit rule fires on them (both engines, `tests.rules.harness`), its
findings are merged into `suspects` as a run merges them, and the payer query reads the business log. For each
rule the operator of the `pay` step for that person, amount and month is a payer; the operators of near misses
(another month, another amount, another person, another stage) are not. End to end, the nightly sync records
the payers in the register, and `register.assign` refuses to hand the case to one of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from pipelines.cases import nightly, staff
from pipelines.cases import register as reg
from pipelines.detect.findings import merge_findings
from pipelines.rules import RULES
from pipelines.warehouse.append import append_frame
from pipelines.warehouse.session import ensure_schema
from pipelines.warehouse.sql import read_sql
from tests.cases.staffing import REGION, staff_up
from tests.rules.harness import findings, table

AS_OF = dt.date(2026, 3, 2)  # a Monday
RUN = "20260302T020000-abcdef"
P = "11010519491231002X"
Q = "330102198001010011"
R = "330102198001010038"
S = "330102198001010054"  # in none of the findings
TWIN = "330102194912310048"  # P's birth date and gender under another ID: one person, two IDs (一人多号)

PAYER = "OP7"  # staff of the register too (tests.cases.staffing): a verifier of region 330100
OTHER_VERIFIER = "OP8"
NEAR_MISSES = {
    "OPM": "another month",
    "OPA": "another amount (one fen more)",
    "OPP": "another person",
    "OPR": "the right person, amount and month, but a review step, not a pay step",
}


def payment(pid, person, period, amount, *, benefit_type="pension", pay_date=None, account=None, scheme="110"):
    return {
        "payment_id": pid,
        "person_id": person,
        "region_code": REGION,
        "scheme": scheme,
        "benefit_type": benefit_type,
        "period": period,
        "amount": amount,
        "bank_account": account or f"6222{person[-6:]}",
        "pay_date": pay_date,
    }


def step(operator, person, amount, when, *, stage="pay", business="YW1"):
    return {
        "business_id": business,
        "business_type": "待遇支付",
        "stage": stage,
        "operator_id": operator,
        "operated_at": when,
        "person_id": person,
        "amount": amount,
    }


@dataclass(frozen=True)
class Case:
    """A rule firing on `tables`, and the one payment of its evidence the pay steps are built around."""

    rule: str
    tables: dict[str, list[dict[str, object]]]
    person: str
    amount: str
    paid_on: str  # a timestamp in the month the payment is for

    def steps(self, month_miss: str = "OPM") -> list[dict[str, object]]:
        """The payer's step and the near misses of `NEAR_MISSES` (the one of another month by `month_miss`)."""
        when = dt.datetime.fromisoformat(self.paid_on)
        later = (when.replace(day=1) + dt.timedelta(days=70)).replace(day=when.day)  # two months on
        other_person = next(p for p in (P, Q, R, S) if p != self.person and not self._cites(p))
        more = str(Decimal(self.amount) + Decimal("0.01"))
        return [
            step(PAYER, self.person, self.amount, self.paid_on),
            step(month_miss, self.person, self.amount, later.isoformat(sep=" ")),
            step("OPA", self.person, more, self.paid_on),
            step("OPP", other_person, self.amount, self.paid_on),
            step("OPR", self.person, self.amount, self.paid_on, stage="review"),
        ]

    def _cites(self, person: str) -> bool:
        return any(r.get("person_id") == person for rows in self.tables.values() for r in rows)


CASES = [
    Case(
        "DUP_BENEFIT",
        {
            "benefit_payments": [
                payment("A", P, "202503", "1000.00", pay_date="2025-03-15"),
                payment("B", P, "202503", "1000.00", pay_date="2025-03-16", scheme="120"),
                payment("C", P, "202505", "1000.00", pay_date="2025-05-15"),  # the next month is paid once
            ]
        },
        P,
        "1000.00",
        "2025-03-15 10:00:00",
    ),
    Case(
        "DECEASED_PAID",
        {
            "benefit_payments": [
                payment("A", P, "202504", "2345.67", pay_date="2025-04-15"),
                # the funeral grant is due (not in the finding): its payer pays the same person in that month
                payment("F", P, "202504", "5000.00", benefit_type="funeral", pay_date="2025-04-20"),
            ],
            "death_records": [{"person_id": P, "death_date": "2025-03-10", "source": "police"}],
        },
        P,
        "2345.67",
        "2025-04-15 09:30:00",
    ),
    Case(
        "UNEMP_WHILE_EMPLOYED",
        {
            "benefit_payments": [
                payment("U", P, "202506", "1500.00", benefit_type="unemployment", scheme="210"),
            ],
            "payroll_withholding": [{"employer_id": "E1", "person_id": P, "period": "202506", "wage_income": "5000"}],
        },
        P,
        "1500.00",
        "2025-06-20 11:00:00",
    ),
    Case(
        "DUP_CLAIM",
        {
            "medical_claims": [
                {
                    "claim_id": claim,
                    "person_id": P,
                    "region_code": REGION,
                    "hospital_id": "H1",
                    "invoice_no": "ZJ2025B01",
                    "service_date": "2025-05-10",
                    "total_amount": "1000.00",
                    "fund_paid": "800.00",
                }
                for claim in ("C1", "C2")
            ]
        },
        P,
        "800.00",
        "2025-05-10 16:00:00",
    ),
    Case(
        "SHARED_ACCOUNT",
        {
            "benefit_payments": [
                payment("A", P, "202507", "1000.00", account="6222000"),
                payment("B", Q, "202507", "1100.00", account="6222000"),
                payment("C", R, "202507", "1200.00", account="6222000"),
            ]
        },
        R,
        "1200.00",
        "2025-07-15 08:00:00",
    ),
    Case(
        "RECON_PAYMENT",
        {
            "benefit_payments": [payment("X", P, "202508", "3000.00", pay_date="2025-08-15")],
            "bank_disbursements": [
                {"payment_id": "X", "bank_account": f"6222{P[-6:]}", "amount": "3000.00", "status": "failed"}
            ],
        },
        P,
        "3000.00",
        "2025-08-15 10:00:00",
    ),
    Case(
        "PRISONER_PAID",
        {
            "benefit_payments": [payment("A", P, "202505", "3100.00", pay_date="2025-05-15")],
            "custody_records": [
                {"person_id": P, "sentence_type": "imprisonment", "start_date": "2025-03-10", "end_date": "2025-09-01"}
            ],
        },
        P,
        "3100.00",
        "2025-05-15 10:00:00",
    ),
    Case(
        "UNEMP_WITH_PENSION",
        {
            "benefit_payments": [
                payment("U", P, "202506", "1500.00", benefit_type="unemployment", scheme="210"),
                payment("A", P, "202506", "3200.00"),
            ]
        },
        P,
        "1500.00",
        "2025-06-20 11:00:00",
    ),
    Case(
        "DUP_IDENTITY",
        {
            "enrollment": [
                {
                    "enrollment_id": "E1",
                    "person_id": P,
                    "name": "王芳",
                    "region_code": REGION,
                    "scheme": "110",
                    "start_date": "2001-01-01",
                },
                {
                    "enrollment_id": "E2",
                    "person_id": TWIN,
                    "name": "王 芳",
                    "region_code": REGION,
                    "scheme": "170",
                    "start_date": "2015-01-01",
                },
            ],
            "benefit_payments": [
                payment("A", P, "202509", "2600.00"),
                payment("B", TWIN, "202509", "900.00", scheme="170"),
            ],
        },
        TWIN,
        "900.00",
        "2025-09-15 10:00:00",
    ),
]


def lineage(frame: pl.DataFrame, source_file: str) -> pl.DataFrame:
    return frame.with_columns(pl.lit(source_file).alias("source_file"), pl.lit(RUN).alias("run_id"))


def warehouse(
    rule: str, case_tables: dict[str, list[dict[str, object]]], log: list[dict[str, object]]
) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding the tables, the business log and the findings `rule` makes of them (only
    that rule's: payments without a bank result would make RECON_PAYMENT findings of every case)."""
    con = duckdb.connect()
    ensure_schema(con)
    for name, rows in {**case_tables, "business_log": log}.items():
        frame = table(name, rows).with_columns(
            pl.lit(f"{name}/t.csv").alias("source_file"), pl.lit(RUN).alias("run_id")
        )
        append_frame(con, name, frame)
    merge_findings(con, findings(rule, case_tables, as_of=AS_OF), AS_OF, RUN)
    return con


def payers(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """rule -> the operators the payer query names for that rule's findings."""
    rows = con.execute(
        f"SELECT s.rule, p.operator_id FROM ({read_sql('cases/payers.sql').rstrip().rstrip(';')}) AS p "
        "JOIN suspects AS s USING (suspect_id)"
    ).fetchall()
    out: dict[str, set[str]] = {}
    for rule, operator in rows:
        out.setdefault(rule, set()).add(operator)
    return out


def rules_of(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r for (r,) in con.execute("SELECT rule FROM suspects WHERE active").fetchall()}


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_the_operator_who_paid_is_the_payer_and_near_misses_are_not(case: Case) -> None:
    con = warehouse(case.rule, case.tables, case.steps())
    try:
        assert case.rule in rules_of(con)  # the rule fires on these tables
        assert payers(con) == {case.rule: {PAYER}}, NEAR_MISSES
    finally:
        con.close()


def test_every_rule_about_payments_or_claims_is_covered() -> None:
    """A rule that reads benefit payments or medical claims makes findings about money someone paid: it must
    have a case here (and cite its payments or claims in its evidence, which the case checks)."""
    paying = {r.code for r in RULES if {"benefit_payments", "medical_claims"} & set(r.inputs)}
    assert paying == {c.rule for c in CASES}


def test_a_pay_step_in_the_month_of_the_pay_date_counts_too() -> None:
    """December's pension paid on 28 November (the pay date): the November pay step is the payer's."""
    tables = {
        "benefit_payments": [
            payment("A", P, "202512", "1000.00", pay_date="2025-11-28"),
            payment("B", P, "202512", "1000.00", pay_date="2025-12-15"),
        ]
    }
    log = [
        step("OP7", P, "1000.00", "2025-11-28 10:00:00"),
        step("OP8", P, "1000.00", "2025-12-15 10:00:00"),
        step("OPM", P, "1000.00", "2025-10-28 10:00:00"),  # neither the period nor a pay date
    ]
    con = warehouse("DUP_BENEFIT", tables, log)
    try:
        assert payers(con) == {"DUP_BENEFIT": {"OP7", "OP8"}}
    finally:
        con.close()


def test_a_pay_step_without_an_amount_matches_on_person_and_month() -> None:
    case = CASES[1]  # DECEASED_PAID
    log = [
        step("OP7", P, None, "2025-04-03 09:00:00"),
        step("OPM", P, None, "2025-05-03 09:00:00"),
        step("OPP", Q, None, "2025-04-03 09:00:00"),
    ]
    con = warehouse(case.rule, case.tables, log)
    try:
        assert payers(con) == {"DECEASED_PAID": {"OP7"}}
    finally:
        con.close()


def test_business_findings_keep_their_payers_by_business_id() -> None:
    """SOD_BREACH: the same operator reviewed and paid; the payer is the pay step's operator."""
    log = [
        step("OP1", None, "5000.00", "2025-03-05 09:00:00", stage="accept", business="YW9"),
        step("OP7", None, "5000.00", "2025-03-05 12:00:00", stage="review", business="YW9"),
        step("OP7", None, "5000.00", "2025-03-05 15:00:00", stage="pay", business="YW9"),
        step("OP9", None, "5000.00", "2025-03-05 15:00:00", stage="pay", business="YW8"),  # another business
    ]
    con = duckdb.connect()
    try:
        ensure_schema(con)
        append_frame(
            con,
            "business_log",
            table("business_log", log).with_columns(
                pl.lit("bl/t.csv").alias("source_file"), pl.lit(RUN).alias("run_id")
            ),
        )
        merge_findings(con, findings("SOD_BREACH", {"business_log": log}, as_of=AS_OF), AS_OF, RUN)
        assert payers(con) == {"SOD_BREACH": {"OP7"}}
    finally:
        con.close()


def test_evidence_that_is_not_json_names_no_payer_and_breaks_nothing() -> None:
    case = CASES[0]
    con = warehouse(case.rule, case.tables, case.steps())
    try:
        con.execute("UPDATE suspects SET evidence_rows = 'legacy text, not JSON'")
        assert payers(con) == {}
    finally:
        con.close()


def test_the_query_joins_on_equalities_only() -> None:
    """Province scale: every join of the plan is a hash join (no cross product, no nested loop over an OR)."""
    case = CASES[0]
    con = warehouse(case.rule, case.tables, case.steps())
    try:
        plan = "\n".join(row[1] for row in con.execute("EXPLAIN " + read_sql("cases/payers.sql")).fetchall())
    finally:
        con.close()
    operators = plan.upper().replace(" ", "_")
    assert "HASH_JOIN" in operators, plan
    for slow in ("CROSS_PRODUCT", "NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN", "PIECEWISE_MERGE_JOIN", "IE_JOIN"):
        assert slow not in operators, plan


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_the_register_refuses_to_assign_a_case_to_its_payer(case: Case, tmp_path) -> None:
    """End to end: the nightly sync records the payers, `case assign` to the payer is refused (回避); a colleague
    who paid the same person the same amount in another month is not recused."""
    con = warehouse(case.rule, case.tables, case.steps(month_miss=OTHER_VERIFIER))
    register = tmp_path / "fw.cases.sqlite"
    try:
        nightly.sync_run(con, register, AS_OF, RUN)
        (suspect_id,) = con.execute("SELECT suspect_id FROM suspects WHERE rule = ?", [case.rule]).fetchone()
    finally:
        con.close()
    cases = reg.open_register(register)
    try:
        staff_up(cases)
        with pytest.raises(staff.NotAllowed, match="回避"):
            reg.assign(cases, suspect_id, assignee=PAYER, by="chief", on=AS_OF, today=AS_OF)
        reg.assign(cases, suspect_id, assignee=OTHER_VERIFIER, by="chief", on=AS_OF, today=AS_OF)
        assert reg.get_case(cases, suspect_id)["assignee"] == OTHER_VERIFIER
    finally:
        cases.close()
