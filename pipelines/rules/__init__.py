"""The one registry of detection rules (CONTRACT.md section 3).

Each rule is a module `pipelines/rules/<module>.py` exposing one pure function
`detect(<input tables as LazyFrames>, *, <options>) -> pl.LazyFrame` in the
suspects shape (`schemas.suspects.SUSPECT_SCHEMA`), and a plain DuckDB
SQL twin `sql/rules/<module>.sql` used as the second engine (both run by
`pipelines.detect.engine`). The flow, the CLI,
the docs and the tests iterate `RULES`; adding a rule is one module, one SQL
file and one line here.

Options a rule may take (keyword-only): `as_of` (dt.date: the data date; an
open enrollment spell runs until it) and `large_payment_threshold` (Decimal yuan).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

SQL_RULES_DIR = Path(__file__).resolve().parents[2] / "sql" / "rules"


@dataclass(frozen=True)
class Rule:
    code: str
    name_zh: str
    module: str
    inputs: tuple[str, ...]
    options: tuple[str, ...]
    description: str
    # A column every input carries and every finding is confined to: the rule gives the same findings
    # computed over disjoint shards of its values (by hash) and concatenated (pipelines.detect.engine). A rule
    # whose findings span several values of it (DUP_IDENTITY: several IDs of one person) exports
    # `shard_value(key)`, what is hashed instead (there: the birth date and gender the ID encodes). A rule whose
    # findings need one lookup across shards exports `detect_shard` and `finish_shards` (RECON_PAYMENT: an
    # orphan bank result's region; engine.detect_part / engine.combine). None: the rule runs in one pass
    # (streamed), as its findings are not confined to one value of a column every input carries (DUP_CLAIM's
    # invoice criterion spans persons, ADR 0006; SOD_BREACH and LARGE_PAYMENT_UNAPPROVED read all operators;
    # RECON_LEDGER_BANK sums an entry_id's lines whatever their account). docs/adr/0029.
    shard_key: str | None = None

    @property
    def detect(self) -> Callable[..., pl.LazyFrame]:
        return importlib.import_module(f"pipelines.rules.{self.module}").detect

    @property
    def sql_file(self) -> Path:
        return SQL_RULES_DIR / f"{self.module}.sql"


RULES: tuple[Rule, ...] = (
    Rule(
        "DUP_ENROLL",
        "重复参保",
        "dup_enroll",
        ("enrollment",),
        ("as_of",),
        "two enrollment spells of one person overlapping by more than 30 days: same scheme (any region) "
        "or two schemes of one family (pension 110/120/170; medical 310/390)",
        shard_key="person_id",
    ),
    Rule(
        "DUP_BENEFIT",
        "重复领取待遇",
        "dup_benefit",
        ("benefit_payments",),
        (),
        "two or more payments of the same benefit type for the same period; amount = all but the largest",
        shard_key="person_id",
    ),
    Rule(
        "DECEASED_PAID",
        "死亡后继续领取",
        "deceased_paid",
        ("benefit_payments", "death_records"),
        (),
        "payments for a period after the month of death (earliest death_date of any source), "
        "funeral and survivor benefits excluded",
        shard_key="person_id",
    ),
    Rule(
        "UNEMP_WHILE_EMPLOYED",
        "就业期间领取失业金",
        "unemp_while_employed",
        ("benefit_payments", "payroll_withholding", "enrollment"),
        ("as_of",),
        "unemployment benefit for a month with wages > 0 or an active 110/120 enrollment with an employer",
        shard_key="person_id",
    ),
    Rule(
        "DUP_CLAIM",
        "医保重复报销",
        "dup_claim",
        ("medical_claims",),
        (),
        "claims with the same invoice number (case, spaces, full-width ignored) or the same person, hospital, "
        "service date and total; amount = fund_paid of all but the first by claim_id",
    ),
    Rule(
        "SHARED_ACCOUNT",
        "多人共用收款账户",
        "shared_account",
        ("benefit_payments",),
        (),
        "one bank account receiving benefit payments for 3 or more persons in one period",
        # a finding is one account's payments
        shard_key="bank_account",
    ),
    Rule(
        "RECON_CONTRIB",
        "征缴对账差异",
        "recon_contrib",
        ("contributions", "tax_collections"),
        (),
        "assessed and collected differ by more than 0.01 yuan per employer, scheme and period",
        # a finding is one employer's key (employer_id|scheme|period)
        shard_key="employer_id",
    ),
    Rule(
        "RECON_LEDGER_BANK",
        "专户账实不符",
        "recon_ledger_bank",
        ("finance_ledger", "bank_statements", "fund_accounts"),
        (),
        "ledger entry without a bank movement (same account, direction, amount, within ±3 days) or a "
        "special-account bank movement without a ledger entry; each line matched at most once",
    ),
    Rule(
        "RECON_PAYMENT",
        "发放对账差异",
        "recon_payment",
        ("benefit_payments", "bank_disbursements"),
        (),
        "benefit payment without a bank result, or with a result differing in amount or account, or failed/"
        "returned; or a bank result for an unknown payment",
        # a finding is one payment_id's lines; an orphan's region is routed over all shards (finish_shards)
        shard_key="payment_id",
    ),
    Rule(
        "UNREGISTERED_ACCOUNT",
        "未登记账户（多头开户）",
        "unregistered_account",
        ("bank_statements", "fund_accounts"),
        (),
        "bank account not registered in fund_accounts, or used after its closed_date",
        # a finding is one account's movements and listings
        shard_key="account_no",
    ),
    Rule(
        "SOD_BREACH",
        "不相容岗位混岗",
        "sod_breach",
        ("business_log", "operators"),
        (),
        "one operator performing two different stages of one business, or an admin performing any stage",
    ),
    Rule(
        "LARGE_PAYMENT_UNAPPROVED",
        "大额支付未经负责人审批",
        "large_payment_unapproved",
        ("business_log", "operators"),
        ("large_payment_threshold",),
        "business with amount >= the threshold (default 100,000 yuan) without an approve stage by a leader",
    ),
    Rule(
        "PRISONER_PAID",
        "服刑期间领取养老金",
        "prisoner_paid",
        ("benefit_payments", "custody_records"),
        (),
        "pension for a month after the month custody starts and before the month of release (detention, "
        "imprisonment, life, death_suspended; open custody: every later month)",
        shard_key="person_id",
    ),
    Rule(
        "UNEMP_WITH_PENSION",
        "领取养老金期间领取失业金",
        "unemp_with_pension",
        ("benefit_payments",),
        (),
        "unemployment benefit for a month the same person is paid a pension",
        shard_key="person_id",
    ),
    Rule(
        "DUP_IDENTITY",
        "一人多号",
        "dup_identity",
        ("enrollment", "benefit_payments"),
        (),
        "two or more IDs enrolled under one name (spaces, full-width ignored) encoding the same birth date and "
        "gender, paid a pension for the same months; amount = per month all but the largest",
        # an identity spans several IDs: shards by what they share, birth date and gender (dup_identity.shard_value)
        shard_key="person_id",
    ),
)

BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
