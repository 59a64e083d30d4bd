"""Evidence an analyst can use (issue 12, item 8): `pipelines.cases.evidence`.

Two worlds. A small hand-built warehouse (the real DDL, every rule run on it by the real rule code and
merged into `suspects` as a run does) where every row's file and line are known; and the bundled sample
through a real `fundwatch run` (slow), whose source lines are checked against the inbox files themselves.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import fastexcel
import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.app import console
from pipelines.cases import evidence, lookup
from pipelines.cases.evidence import (
    NAME_HEADER,
    NO_REGION,
    NOT_FOUND,
    ROUTES,
    UNNAMED,
    EvidenceNotFound,
    EvidenceView,
    SourceRef,
    evidence_view,
    has_lookup,
    person_summary,
)
from pipelines.detect.engine import detect_polars
from pipelines.detect.findings import merge_findings
from pipelines.rules import RULES
from pipelines.synth.ids import check_digit
from pipelines.warehouse.append import append_frame
from pipelines.warehouse.session import ensure_schema
from schemas.datasets import BY_NAME, code_sets
from schemas.divisions import region_label, region_name
from tests.rules.harness import table
from tests.sample_run import SAMPLES, sample_database

AS_OF = dt.date(2025, 12, 31)
THRESHOLD = Decimal("100000.00")
CJK = re.compile(r"[\u4e00-\u9fff]")
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def citizen(first17: str) -> str:
    return first17 + check_digit(first17)


DEAD = citizen("33010219500101001")  # 上城区, died 2025-03-10, paid on
TWICE = citizen("33010619800202002")  # enrolled twice, unemployment paid twice while employed
A, B, C = citizen("33010219600303003"), citizen("33010219610404004"), citizen("33010219620505005")
PRISONER = citizen("33010219520606006")  # in prison from 2025-03-10 to 2025-09-01, pension paid on
PENSIONER = citizen("33010219540707007")  # drawing unemployment and a pension for the same month
ONE, OTHER = citizen("33010219560808008"), citizen("33010619560808018")  # one person under two IDs (一人多号)
SHARED = "6217000011112222333"  # one account paid for A, B and C
ACCOUNT_OF = {
    DEAD: "6217000099990001111",
    TWICE: "6217000099990002222",
    PRISONER: "6217000099990003333",
    PENSIONER: "6217000099990004444",
    ONE: "6217000099990005555",
    OTHER: "6217000099990006666",
}
SPECIAL, UNREGISTERED = "1933000000000001", "6228480000000009"


def payment(pid, person, period, amount, benefit="pension", scheme="110", region="330100", account=None):
    return {
        "payment_id": pid,
        "person_id": person,
        "region_code": region,
        "scheme": scheme,
        "benefit_type": benefit,
        "period": period,
        "amount": amount,
        "bank_account": account or ACCOUNT_OF.get(person, SHARED),
        "pay_date": f"{period[:4]}-{period[4:]}-15",
    }


def spell(eid, person, name, region, start, end=None, employer="DW330100000001", scheme="110"):
    return {
        "enrollment_id": eid,
        "person_id": person,
        "name": name,
        "region_code": region,
        "scheme": scheme,
        "employer_id": employer,
        "start_date": start,
        "end_date": end,
    }


def step(bid, stage, operator, at, amount):
    return {"business_id": bid, "stage": stage, "operator_id": operator, "operated_at": at, "amount": amount}


# dataset -> file -> rows; a row's line is its place in the file, header = 1
WORLD: dict[str, dict[str, list[dict]]] = {
    "enrollment": {
        "enrollment/enr_330100.csv": [
            spell("E1", DEAD, "王方", "330102", "2000-01-01", "2009-12-31"),
            spell("E2", DEAD, "王芳", "330102", "2010-01-01"),  # the latest spell: its name is shown
            spell("E3", TWICE, "李强", "330102", "2020-01-01"),
            spell("E4", TWICE, "李强", "330106", "2021-01-01", employer="DW330100000002"),
            spell("E5", A, "张三", "330102", "2015-01-01", employer=None, scheme="170"),
            spell("E6", B, "赵四", "330102", "2015-01-01", employer=None, scheme="170"),
            spell("E7", C, "钱五", "330102", "2015-01-01", employer=None, scheme="170"),
            spell("E8", PRISONER, "孙六", "330102", "2010-01-01", employer=None, scheme="170"),
            spell("E9", PENSIONER, "周七", "330102", "2014-01-01", employer=None, scheme="170"),
            spell("E10", ONE, "吴八", "330102", "2001-01-01", employer=None, scheme="170"),
            spell("E11", OTHER, "吴 八", "330106", "2015-01-01", employer=None, scheme="170"),
        ]
    },
    "benefit_payments": {
        "benefit_payments/bp_330100.csv": [
            payment("P1", DEAD, "202503", "1234.56"),
            payment("P2", DEAD, "202504", "1234.56"),
            payment("P3", DEAD, "202505", "1234.56"),
            payment("U1", TWICE, "202506", "1800.00", "unemployment", "210"),
            payment("U2", TWICE, "202506", "1850.00", "unemployment", "210"),
            payment("S1", A, "202507", "900.00", "pension", "170"),
            payment("S2", B, "202507", "910.00", "pension", "170"),
            payment("S3", C, "202507", "920.00", "pension", "170"),
            payment("J1", PRISONER, "202503", "3100.00", "pension", "170"),  # the month custody starts: due
            payment("J2", PRISONER, "202505", "3100.00", "pension", "170"),  # in prison: at risk
            payment("W1", PENSIONER, "202506", "1500.00", "unemployment", "210"),
            payment("W2", PENSIONER, "202506", "3200.00", "pension", "170"),
            payment("D1", ONE, "202509", "2600.00", "pension", "170"),
            payment("D2", OTHER, "202509", "900.00", "pension", "170"),
        ],
        # U1 delivered once more, by another region's file: the same row, two sources
        "benefit_payments/bp_330200.csv": [payment("U1", TWICE, "202506", "1800.00", "unemployment", "210")],
    },
    "death_records": {
        "death_records/dr_police.csv": [{"person_id": DEAD, "death_date": "2025-03-10", "source": "police"}]
    },
    "custody_records": {
        "custody_records/cr_2025.csv": [
            {
                "person_id": PRISONER,
                "name": "孙六",
                "sentence_type": "imprisonment",
                "start_date": "2025-03-10",
                "end_date": "2025-09-01",
            }
        ]
    },
    "payroll_withholding": {
        "payroll_withholding/pw_202506.csv": [
            {"employer_id": "DW330100000002", "person_id": TWICE, "period": "202506", "wage_income": "6500.00"}
        ]
    },
    "medical_claims": {
        "medical_claims/mc_330100.csv": [
            {
                "claim_id": f"JS{i}",
                "person_id": A,
                "region_code": "330100",
                "hospital_id": "H330100001",
                "invoice_no": "ZJ2025B0001",
                "service_date": f"2025-03-{10 + i:02d}",
                "total_amount": "2000.00",
                "fund_paid": "1400.00",
            }
            for i in (1, 2)
        ]
    },
    "contributions": {
        "contributions/contrib_330100.csv": [
            {
                "employer_id": "DW330100000001",
                "scheme": "110",
                "period": "202503",
                "amount_due": "15669.01",
                "headcount": 37,
            }
        ]
    },
    "tax_collections": {
        "tax_collections/tax_330100.csv": [
            {
                "voucher_no": "SPP0000000003",
                "employer_id": "DW330100000001",
                "scheme": "110",
                "period": "202503",
                "amount_collected": "14329.01",
                "collected_date": "2025-04-18",
            }
        ]
    },
    "fund_accounts": {"fund_accounts/fa.csv": [{"account_no": SPECIAL, "account_type": "special", "scheme": "110"}]},
    "finance_ledger": {
        "finance_ledger/fl.csv": [
            {
                "entry_id": "PZ1",
                "account_no": SPECIAL,
                "entry_date": "2025-02-10",
                "direction": "in",
                "amount": "300040.37",
                "summary": f"收到{ACCOUNT_OF[DEAD]}退回款",
            }
        ]
    },
    "bank_statements": {
        "bank_statements/bs.csv": [
            {  # PZ1 booked 10 days late by the bank: a near miss, the two findings linked
                "txn_id": "YH0",
                "account_no": SPECIAL,
                "txn_date": "2025-02-20",
                "direction": "in",
                "amount": "300040.37",
                "counterparty_name": "社会保险基金收入户",
            },
            {
                "txn_id": "YH1",
                "account_no": UNREGISTERED,
                "txn_date": "2025-08-15",
                "direction": "out",
                "amount": "50201.81",
                "counterparty_name": "往来单位",
            },
        ]
    },
    "bank_disbursements": {
        "bank_disbursements/bd.csv": [
            {"payment_id": "P2", "bank_account": ACCOUNT_OF[DEAD], "amount": "1234.56", "status": "failed"}
        ]
        # the payments of the custody, pension and identity findings reached their accounts (no RECON_PAYMENT)
        + [
            {"payment_id": pid, "bank_account": ACCOUNT_OF[person], "amount": amount, "status": "success"}
            for pid, person, amount in [
                ("J1", PRISONER, "3100.00"),
                ("J2", PRISONER, "3100.00"),
                ("W1", PENSIONER, "1500.00"),
                ("W2", PENSIONER, "3200.00"),
                ("D1", ONE, "2600.00"),
                ("D2", OTHER, "900.00"),
            ]
        ]
    },
    "operators": {
        "operators/op.csv": [
            {"operator_id": f"OP{i}", "name": f"经办{i}", "region_code": "330100", "role": "business"}
            for i in (1, 2, 3)
        ]
    },
    "business_log": {
        "business_log/bl.csv": [
            step("YW1", "accept", "OP1", "2025-01-05 09:00:00", "25507.99"),
            step("YW1", "review", "OP1", "2025-01-05 12:00:00", "25507.99"),  # one operator, two stages
            step("YW2", "accept", "OP1", "2025-01-12 09:00:00", "150000.00"),
            step("YW2", "review", "OP2", "2025-01-12 12:00:00", "150000.00"),
            step("YW2", "pay", "OP3", "2025-01-12 18:00:00", "150000.00"),  # large, never approved
        ]
    },
}
PERSONAL = [DEAD, TWICE, A, B, C, PRISONER, PENSIONER, ONE, OTHER]
ACCOUNTS = [SHARED, *ACCOUNT_OF.values(), SPECIAL, UNREGISTERED]


def build(con: duckdb.DuckDBPyConnection) -> None:
    """The world's rows with their lineage, then every rule over them, merged into `suspects` as a run does."""
    ensure_schema(con)
    frames = {}
    for dataset in BY_NAME:
        parts = []
        for file, rows in WORLD.get(dataset, {}).items():
            parts.append(
                table(dataset, rows).with_columns(
                    pl.lit(file).alias("source_file"),
                    pl.Series("source_line", range(2, len(rows) + 2), pl.Int64),
                    pl.lit("R1").alias("run_id"),
                )
            )
        frame = pl.concat(parts) if parts else table(dataset, [])
        append_frame(con, dataset, frame)
        frames[dataset] = frame.drop("source_file", "source_line", "run_id").lazy()
    found = pl.concat([detect_polars(rule, frames, AS_OF, THRESHOLD) for rule in RULES])
    merge_findings(con, found, AS_OF, "R1")


# Every test of the world runs twice: over a file with the evidence lookup a publication builds
# (pipelines.cases.lookup), and over one without it (published before it existed: the datasets are searched).
SEARCHED = ["lookup", "datasets"]


@pytest.fixture(scope="module", params=SEARCHED)
def world(request):
    con = duckdb.connect()
    build(con)
    if request.param == "lookup":
        lookup.build(con)
    yield con
    con.close()


@pytest.fixture(params=SEARCHED)
def fresh(request):
    """A world of its own, for a test that changes it (and then calls `republish`)."""
    con = duckdb.connect()
    build(con)
    if request.param == "lookup":
        lookup.build(con)
    yield con
    con.close()


def republish(con) -> None:
    """After a test changed the world's data, what the next publication does: rebuild the lookup it has."""
    if has_lookup(con):
        lookup.build(con)


def suspect(con, rule: str, subject: str | None = None) -> str:
    sql, params = "SELECT suspect_id FROM suspects WHERE rule = ?", [rule]
    if subject is not None:
        sql, params = sql + " AND subject_id = ?", [rule, subject]
    (sid,) = con.execute(sql + " ORDER BY suspect_id LIMIT 1", params).fetchone()
    return sid


def texts(view: EvidenceView) -> list[str]:
    """Every string an analyst could read in the view."""
    out = [*view.header_lines(), *view.notes, view.subject, view.summary, view.region]
    for t in view.tables:
        out += [t.title, *(c.header for c in t.columns), *(cell for row in t.rows for cell in row)]
    return out


def cell(view: EvidenceView, dataset: str, key: str, header_start: str) -> str:
    (t,) = [t for t in view.tables if t.dataset == dataset]
    i = next(i for i, c in enumerate(t.columns) if c.header.startswith(header_start))
    (row,) = [r for r in t.records if r.key == key]
    return row.cells[i]


def world_line(source_file: str, line: int) -> dict:
    dataset = source_file.split("/", 1)[0]
    return WORLD[dataset][source_file][line - 2]


# --- the hand-built world ----------------------------------------------------------------------------------


def test_every_rule_fires_in_the_hand_built_world(world):
    fired = {r for (r,) in world.execute("SELECT DISTINCT rule FROM suspects").fetchall()}
    assert fired == {r.code for r in RULES}


def test_every_row_of_every_finding_is_shown_under_chinese_headers_with_its_file_and_line(world):
    for (sid,) in world.execute("SELECT suspect_id FROM suspects ORDER BY suspect_id").fetchall():
        view = evidence_view(world, sid)
        (evidence,) = world.execute("SELECT evidence_rows FROM suspects WHERE suspect_id = ?", [sid]).fetchone()
        assert sum(len(t.records) for t in view.tables) == len(json.loads(evidence)) >= 1, sid
        for t in view.tables:
            for c in t.columns:
                zh, english = c.header.split("\n")
                assert CJK.search(zh) and not zh.startswith(UNNAMED) and english.isascii(), (view.rule, c.header)
            for row in t.records:
                assert len(row.cells) == len(t.columns)
                assert row.sources, (view.rule, row)
                key_column = next(iter(_key_columns(view.rule, t.dataset)))
                for ref in row.sources:
                    assert ref.file.startswith(f"{t.dataset}/")
                    assert str(world_line(ref.file, ref.line)[key_column]) == row.key, (view.rule, ref)
        assert not view.notes, view.notes


def _key_columns(rule: str, dataset: str) -> tuple[str, ...]:
    return next(s.key for s in ROUTES[rule].sources.values() if s.dataset == dataset)


def test_the_person_is_named_from_the_latest_enrollment_spell_and_the_region_from_gbt2260(world):
    view = evidence_view(world, suspect(world, "DECEASED_PAID"))
    assert (view.name, view.name_source) == ("王芳", "enrollment")  # not 王方, the name of the earlier spell
    assert view.region_code == "330100" and view.region == "330100 杭州市"
    header = "\n".join(view.header_lines())
    assert "王芳" in header and "330100 杭州市" in header and "死亡后继续领取 DECEASED_PAID" in header


def test_codes_show_their_labels_money_its_exact_text_and_sources_their_line(world):
    view = evidence_view(world, suspect(world, "DECEASED_PAID"))
    (t,) = view.tables
    assert t.dataset == "benefit_payments" and t.title.startswith("待遇发放明细 benefit_payments")
    assert [r.key for r in t.records] == ["P2", "P3"]
    assert cell(view, "benefit_payments", "P2", "待遇类型") == "pension 基本养老金"
    assert cell(view, "benefit_payments", "P2", "发放金额") == "1,234.56"
    assert cell(view, "benefit_payments", "P3", "来源文件") == "benefit_payments/bp_330100.csv"
    assert cell(view, "benefit_payments", "P3", "行号") == "4"
    numeric = {c.header.split("\n")[1]: c.numeric for c in t.columns}
    assert numeric["amount"] and numeric["source_line"] and not numeric["payment_id"]


def test_a_finding_over_two_datasets_is_two_tables_with_each_datasets_column_names(world):
    view = evidence_view(world, suspect(world, "RECON_CONTRIB"))
    assert [t.dataset for t in view.tables] == ["contributions", "tax_collections"]
    assessed, collected = view.tables
    assert "应缴金额\namount_due" in [c.header for c in assessed.columns]
    assert "实缴金额\namount_collected" in [c.header for c in collected.columns]
    assert "税票号码\nvoucher_no" not in [c.header for c in assessed.columns]  # null there: not its column
    assert assessed.rows[0][:2] == ("15,669.01", "37")
    assert collected.records[0].sources[0].file == "tax_collections/tax_330100.csv"

    payments = evidence_view(world, suspect(world, "RECON_PAYMENT", "P2"))
    assert [t.dataset for t in payments.tables] == ["benefit_payments", "bank_disbursements"]
    assert cell(payments, "bank_disbursements", "P2", "处理状态") == "failed 失败"
    assert cell(payments, "benefit_payments", "P2", "发放日期") == "2025-04-15"  # `date` is pay_date here


def test_ledger_and_bank_lines_use_their_own_datasets_names_and_name_their_pair(world):
    view = evidence_view(world, suspect(world, "RECON_LEDGER_BANK", "ledger:PZ1"))
    (t,) = view.tables
    headers = [c.header for c in t.columns]
    assert t.dataset == "finance_ledger" and "凭证号\nentry_id" in headers and "记账日期\nentry_date" in headers
    assert cell(view, "finance_ledger", "PZ1", "收支方向") == "in 收"
    assert view.region == "330000 浙江省"
    # the near miss it pairs with (issue 12 item 5): the other finding, by its subject and its suspect_id
    assert cell(view, "finance_ledger", "PZ1", "配对对象") == "bank:YH0"
    assert cell(view, "finance_ledger", "PZ1", "配对疑点编号") == suspect(world, "RECON_LEDGER_BANK", "bank:YH0")
    assert cell(view, "finance_ledger", "PZ1", "相差天数") == "10"
    bank = evidence_view(world, suspect(world, "RECON_LEDGER_BANK", "bank:YH0"))
    assert [t.dataset for t in bank.tables] == ["bank_statements"]
    assert "交易流水号\ntxn_id" in [c.header for c in bank.tables[0].columns]


def test_a_shared_account_names_every_person_paid_into_it(world):
    view = evidence_view(world, suspect(world, "SHARED_ACCOUNT"))
    (t,) = view.tables
    headers = [c.header for c in t.columns]
    assert headers[headers.index("公民身份号码\nperson_id") + 1] == NAME_HEADER
    assert [cell(view, "benefit_payments", k, "姓名") for k in ("S1", "S2", "S3")] == ["张三", "赵四", "钱五"]
    assert view.subject == "*" * (len(SHARED) - 4) + SHARED[-4:]


def test_one_row_delivered_in_two_files_shows_both_and_each_copy_once(world):
    view = evidence_view(world, suspect(world, "DUP_BENEFIT"))
    (t,) = view.tables
    copies = [r.sources for r in t.records if r.key == "U1"]
    assert sorted(copies) == [
        (SourceRef("benefit_payments/bp_330100.csv", 5),),
        (SourceRef("benefit_payments/bp_330200.csv", 2),),
    ]


def test_ids_and_accounts_are_masked_unless_revealed(world):
    for (sid,) in world.execute("SELECT suspect_id FROM suspects ORDER BY suspect_id").fetchall():
        shown = "\n".join(texts(evidence_view(world, sid)))
        assert not FULL_ID.search(shown), shown
        for secret in (*PERSONAL, *ACCOUNTS):
            assert secret not in shown, (sid, secret)
    masked = evidence_view(world, suspect(world, "DECEASED_PAID"))
    assert masked.person_id == DEAD[:6] + "********" + DEAD[-4:] and not masked.revealed
    assert cell(masked, "benefit_payments", "P2", "银行账号") == "***************1111"

    revealed = evidence_view(world, suspect(world, "DECEASED_PAID"), reveal=True)
    assert revealed.person_id == DEAD and revealed.subject == DEAD and revealed.revealed
    assert cell(revealed, "benefit_payments", "P2", "银行账号") == ACCOUNT_OF[DEAD]
    assert any("未脱敏 unmasked" in line for line in revealed.header_lines())
    ledger = suspect(world, "RECON_LEDGER_BANK", "ledger:PZ1")
    assert ACCOUNT_OF[DEAD] not in cell(evidence_view(world, ledger), "finance_ledger", "PZ1", "摘要")  # in free text
    assert ACCOUNT_OF[DEAD] in cell(evidence_view(world, ledger, reveal=True), "finance_ledger", "PZ1", "摘要")


def test_what_a_rule_derived_is_masked_like_free_text(fresh):
    sid = suspect(fresh, "UNEMP_WHILE_EMPLOYED")
    (evidence,) = fresh.execute("SELECT evidence_rows FROM suspects WHERE suspect_id = ?", [sid]).fetchone()
    rows = json.loads(evidence)
    (u2,) = [r for r in rows if r["payment_id"] == "U2"]
    u2["grounds"] = f"与{A}同一单位，工资入账{SHARED}"
    fresh.execute("UPDATE suspects SET evidence_rows = ? WHERE suspect_id = ?", [json.dumps(rows), sid])
    republish(fresh)
    shown = cell(evidence_view(fresh, sid), "benefit_payments", "U2", "就业依据")
    assert shown == f"与{A[:6]}********{A[-4:]}同一单位，工资入账{'*' * (len(SHARED) - 4)}{SHARED[-4:]}"
    assert cell(evidence_view(fresh, sid, reveal=True), "benefit_payments", "U2", "就业依据") == u2["grounds"]


def test_the_view_renders_with_the_console_table(world):
    view = evidence_view(world, suspect(world, "SOD_BREACH"))
    rendered = console.text(
        [
            *view.header_lines(),
            *(
                console.table([console.Column(c.header, c.numeric) for c in t.columns], t.rows, title=t.title)
                for t in view.tables
            ),
        ]
    )
    assert "经办业务日志 business_log（2 行 rows）" in rendered
    assert "环节" in rendered and "accept 受理" in rendered and "2025-01-05 12:00:00" in rendered
    assert "business_log/bl.csv" in rendered
    assert NAME_HEADER not in [c.header for c in view.tables[0].columns]  # the steps name no person


def test_a_row_no_longer_in_force_has_no_source_and_the_view_says_so(fresh):
    sid = suspect(fresh, "DECEASED_PAID")
    fresh.execute("DELETE FROM benefit_payments WHERE payment_id = 'P3'")  # withdrawn since the finding
    fresh.execute("UPDATE benefit_payments SET amount = 1000.00 WHERE payment_id = 'P2'")  # corrected since
    republish(fresh)
    view = evidence_view(fresh, sid)
    (t,) = view.tables
    assert [r.sources for r in t.records] == [(), ()]
    assert cell(view, "benefit_payments", "P3", "来源文件") == NOT_FOUND
    assert any("2 行在现行数据中已找不到" in note for note in view.notes)


def test_regions_unknown_or_missing_show_as_they_are(fresh):
    sid = suspect(fresh, "DUP_CLAIM")
    fresh.execute("UPDATE suspects SET region_code = '339999' WHERE suspect_id = ?", [sid])
    republish(fresh)
    assert evidence_view(fresh, sid).region == "339999"
    assert evidence_view(fresh, suspect(fresh, "UNREGISTERED_ACCOUNT")).region == NO_REGION


def test_every_rule_has_its_route_and_a_rule_added_since_still_shows_its_rows(fresh):
    assert set(ROUTES) == {r.code for r in RULES}
    sid = suspect(fresh, "DECEASED_PAID")
    fresh.execute("UPDATE suspects SET rule = 'EMIGRANT_PAID' WHERE suspect_id = ?", [sid])  # no route yet
    republish(fresh)
    view = evidence_view(fresh, sid)
    (t,) = view.tables
    assert t.dataset == "benefit_payments" and [r.key for r in t.records] == ["P2", "P3"]
    assert [r.sources for r in t.records] == [
        (SourceRef("benefit_payments/bp_330100.csv", 3),),
        (SourceRef("benefit_payments/bp_330100.csv", 4),),
    ]


def test_a_person_never_enrolled_is_named_from_the_death_notice_and_said_so(fresh):
    sid = suspect(fresh, "DECEASED_PAID")
    fresh.execute("DELETE FROM enrollment WHERE person_id = ?", [DEAD])
    fresh.execute("UPDATE death_records SET name = '王芳芳' WHERE person_id = ?", [DEAD])
    republish(fresh)
    view = evidence_view(fresh, sid)
    assert (view.name, view.name_source) == ("王芳芳", "death_records")
    assert any("王芳芳（据死亡信息 per death_records）（参保登记无此人" in line for line in view.header_lines())
    assert person_summary(fresh, DEAD)["name_source"] == "death_records"
    fresh.execute("UPDATE death_records SET name = NULL")
    republish(fresh)
    assert evidence_view(fresh, sid).name is None


def test_custody_pension_and_identity_findings_show_their_rows_with_sources_and_names(world):
    prison = evidence_view(world, suspect(world, "PRISONER_PAID"))
    assert [t.dataset for t in prison.tables] == ["benefit_payments", "custody_records"]
    assert [r.key for r in prison.tables[0].records] == ["J2"]  # the start month (J1) is not at risk
    (spell,) = prison.tables[1].records
    assert spell.sources == (SourceRef("custody_records/cr_2025.csv", 2),)
    assert "有期徒刑" in " ".join(spell.cells) and "刑罚类型\nsentence_type" in [
        c.header for c in prison.tables[1].columns
    ]
    both = evidence_view(world, suspect(world, "UNEMP_WITH_PENSION"))
    assert sorted(r.key for t in both.tables for r in t.records) == ["W1", "W2"]
    twins = evidence_view(world, suspect(world, "DUP_IDENTITY", f"{ONE}|{OTHER}"))
    (t,) = twins.tables
    assert {r.key: r.sources[0].line for r in t.records} == {"D1": 14, "D2": 15}
    names = [c for r in t.records for c in r.cells]
    assert "吴八" in names and "吴 八" in names and ONE not in " ".join(names)  # each ID's own name, masked IDs


def test_a_row_loaded_under_a_resolved_id_says_how_it_was_typed(fresh):
    typo = PRISONER[:10] + ("1" if PRISONER[10] != "1" else "2") + PRISONER[11:]  # one character off
    fresh.execute(
        "UPDATE custody_records SET person_id_raw = ?, id_resolved = true WHERE person_id = ?", [typo, PRISONER]
    )
    republish(fresh)
    sid = suspect(fresh, "PRISONER_PAID")
    view = evidence_view(fresh, sid)
    (note,) = view.notes
    assert "custody_records/cr_2025.csv 第 2 行的公民身份号码录入为 " + typo[:6] + "********" + typo[-4:] in note
    assert typo not in note and "已按参保登记纠正" in note
    (revealed,) = evidence_view(fresh, sid, reveal=True).notes
    assert typo in revealed
    (spell,) = view.tables[1].records
    assert spell.sources == (SourceRef("custody_records/cr_2025.csv", 2, typo),)


def test_an_unknown_finding_is_refused(world):
    with pytest.raises(EvidenceNotFound, match="SP-nothing"):
        evidence_view(world, "SP-nothing")


def test_the_lookup_holds_each_named_row_once_also_when_two_rules_look_it_up_by_different_keys():
    con = duckdb.connect()
    build(con)
    sid = suspect(con, "RECON_CONTRIB")  # a contribution is found by (employer, scheme, period)
    # the same finding under a rule with no route yet: its rows are found by their first column (employer) alone
    con.execute(
        "INSERT INTO suspects SELECT * REPLACE ('SP-new-rule' AS suspect_id, 'EMPLOYER_CHECK' AS rule) "
        "FROM suspects WHERE suspect_id = ?",
        [sid],
    )
    built = lookup.build(con)
    copies = con.execute(
        "SELECT source_file, source_line, count(*) FROM evidence_lookup.contributions GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    assert copies == [] and built.rows["contributions"] >= 1
    employers = {e for (e,) in con.execute("SELECT employer_id FROM evidence_lookup.contributions").fetchall()}
    (everything,) = con.execute(
        "SELECT count(*) FROM contributions WHERE employer_id IN (SELECT unnest(?::VARCHAR[]))", [sorted(employers)]
    ).fetchone()
    assert built.rows["contributions"] == everything  # by the employer alone: every period of the employer
    for finding in (sid, "SP-new-rule"):
        view = evidence_view(con, finding)
        assert all(len(r.sources) == 1 for t in view.tables for r in t.records), finding
    assert built.findings == con.execute("SELECT count(*) FROM suspects").fetchone()[0]
    con.close()


def test_a_file_without_findings_gets_an_empty_lookup_with_every_datasets_columns():
    con = duckdb.connect()
    ensure_schema(con)
    built = lookup.build(con)
    assert built.findings == 0 and set(built.rows.values()) == {0} and has_lookup(con)
    for dataset in BY_NAME:
        columns = [d[0] for d in con.execute(f'SELECT * FROM evidence_lookup."{dataset}" LIMIT 0').description]
        assert columns == [d[0] for d in con.execute(f'SELECT * FROM "{dataset}" LIMIT 0').description]
    con.close()


def test_person_summary_names_the_person_their_regions_and_where_they_appear(world):
    summary = person_summary(world, TWICE)
    assert summary["name"] == "李强" and summary["person_id"] == TWICE[:6] + "********" + TWICE[-4:]
    assert summary["regions"] == ["330106 杭州市西湖区", "330102 杭州市上城区", "330100 杭州市"]
    assert summary["datasets"] == [
        {"dataset": "enrollment", "zh": "参保登记", "rows": 2},
        {"dataset": "benefit_payments", "zh": "待遇发放明细", "rows": 3},
        {"dataset": "payroll_withholding", "zh": "个税全员全额扣缴申报", "rows": 1},
    ]
    assert person_summary(world, TWICE, reveal=True)["person_id"] == TWICE
    dead = person_summary(world, DEAD)
    assert dead["names"] == ["王芳", "王方"]
    assert {"dataset": "death_records", "zh": "死亡信息", "rows": 1} in dead["datasets"]
    nobody = person_summary(world, citizen("11010119900101123"))
    assert nobody["name"] is None and nobody["regions"] == [] and nobody["datasets"] == []


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("330102", "330102 杭州市上城区"),
        ("330103", "330103 杭州市下城区"),  # merged away in 2021: its last name
        ("330100", "330100 杭州市"),
        ("330000", "330000 浙江省"),
        ("110101", "110101 北京市东城区"),  # a municipality: its 市辖区 level is no place
        ("429004", "429004 湖北省仙桃市"),  # a county-level city under its province
        ("339999", "339999"),  # never listed: the code as it is
        ("33010", "33010"),
    ],
)
def test_region_labels_from_the_shipped_gbt2260_table(code, label):
    assert region_label(code) == label
    assert region_name(code) == (label.split(" ", 1)[1] if " " in label else None)


# --- the bundled sample, through a real run ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The published file of the session's one real run over the bundled sample (tests/sample_run.py)."""
    con = duckdb.connect(str(sample_database(tmp_path_factory)), read_only=True)
    yield con
    con.close()


@functools.cache
def inbox_rows(path: Path) -> tuple[list[str], ...]:
    """The lines of an inbox file as they lie on disk, each as its cells, the header first: a CSV file's lines
    split at their commas, a workbook's sheet rows, a Parquet file's rows after its column names."""
    if path.suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        return tuple(csv.reader(line.rstrip("\r") for line in text.split("\n")))
    if path.suffix == ".xlsx":
        sheet = fastexcel.read_excel(path).load_sheet(0, header_row=None, dtypes="string").to_polars()
        return tuple(["" if v is None else str(v) for v in row] for row in sheet.iter_rows())
    data = pq.read_table(path)
    return (data.column_names, *(["" if v is None else str(v) for v in r.values()] for r in data.to_pylist()))


def inbox_cells(path: Path, line: int) -> list[str]:
    """The cells of line `line` of an inbox file (header = 1)."""
    return inbox_rows(path)[line - 1]


def folded(text: str) -> str:
    """Full-width folded, spaces gone: an identifier as the warehouse stores it."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


def amount(text: str) -> Decimal | None:
    try:
        return Decimal(folded(text).replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def not_on_the_line(dataset: str, columns, row, cells: list[str]) -> list[str]:
    """The shown values of an evidence row that its inbox line does not hold: the key and every identifier as
    typed, codes as the code or one of its labels, amounts as numbers. Masked values, dates, periods and free
    text (which arrive in many forms) are not compared."""
    as_typed = {folded(c) for c in cells}
    amounts = {amount(c) for c in cells} - {None}
    missing = [] if folded(row.key) in as_typed else [f"key={row.key}"]
    for column, shown in zip(columns, row.cells, strict=True):
        name = column.header.split("\n")[1]
        spec = next((c for c in BY_NAME[dataset].columns if c.name == name), None)
        if spec is None or not shown or "*" in shown:
            continue  # derived, empty or masked
        if spec.kind in ("money", "integer"):
            ok = amount(shown) in amounts
        elif spec.kind == "code":
            code = shown.split(" ", 1)[0]
            ok = bool({code, *(folded(label) for label in code_sets()[spec.codes][code])} & as_typed)
        elif spec.kind == "region":
            ok = shown.split(" ", 1)[0] in as_typed
        elif spec.kind in ("key", "id") or spec.name == "invoice_no":
            ok = folded(shown) in as_typed
        else:
            continue
        if not ok:
            missing.append(f"{name}={shown}")
    return missing


def resolved_on(con, dataset: str, ref: SourceRef) -> list[str]:
    """The enrolled ID a mistyped one on this line was resolved to (CONTRACT section 6), if the line holds the
    ID as typed: the evidence shows the resolved ID, the line the typo."""
    if "id_resolved" not in {
        c for (c,) in con.execute(f"SELECT name FROM pragma_table_info('\"{dataset}\"')").fetchall()
    }:
        return []
    rows = con.execute(
        f'SELECT person_id, person_id_raw FROM "{dataset}" WHERE source_file = ? AND source_line = ? AND id_resolved',
        [ref.file, ref.line],
    ).fetchall()
    typed = {folded(c) for c in inbox_cells(SAMPLES / ref.file, ref.line)}
    return [person for person, raw in rows if folded(raw) in typed]


def secrets_of(con, sid: str) -> set[str]:
    """The citizen IDs and accounts a finding's evidence holds in full."""
    person, subject, rule, evidence = con.execute(
        "SELECT person_id, subject_id, rule, evidence_rows FROM suspects WHERE suspect_id = ?", [sid]
    ).fetchone()
    found = {person} if person else set()
    if rule in ("SHARED_ACCOUNT", "UNREGISTERED_ACCOUNT"):
        found.add(subject)
    for row in json.loads(evidence):
        found |= {
            v for k, v in row.items() if v and k in ("person_id", "bank_account", "account_no", "counterparty_account")
        }
    return found


@pytest.mark.slow  # the sample through a real run (about a minute, once per session)
@pytest.mark.parametrize("rule", [r.code for r in RULES])
def test_on_the_sample_every_finding_of_every_rule_shows_its_rows_from_their_inbox_lines(sample, rule):
    found = sample.execute("SELECT suspect_id FROM suspects WHERE active AND rule = ? ORDER BY 1", [rule]).fetchall()
    assert found, f"the sample has no {rule}"
    for (sid,) in found:
        view = evidence_view(sample, sid)
        # the only note a sample finding may carry: a row whose mistyped ID was resolved (the sample plants some)
        assert sum(len(t.records) for t in view.tables) >= 1, sid
        assert all("已按参保登记纠正" in note for note in view.notes), (sid, view.notes)
        for t in view.tables:
            for c in t.columns:
                assert CJK.search(c.header.split("\n")[0]) and not c.header.startswith(UNNAMED), c.header
            for row in t.records:
                assert row.sources, (sid, row)
                for ref in row.sources:
                    cells = inbox_cells(SAMPLES / ref.file, ref.line) + resolved_on(sample, t.dataset, ref)
                    assert not not_on_the_line(t.dataset, t.columns, row, cells), (sid, ref, cells)

        shown = "\n".join(texts(view))
        secrets = secrets_of(sample, sid)
        assert not FULL_ID.search(shown), sid
        assert not [s for s in secrets if s in shown], sid
        revealed = "\n".join(texts(evidence_view(sample, sid, reveal=True)))
        assert all(s in revealed for s in secrets), sid


@pytest.mark.slow  # the sample through a real run (about a minute, once per session)
def test_on_the_sample_the_published_lookup_shows_every_finding_as_the_datasets_do(sample, monkeypatch):
    assert has_lookup(sample)  # every run builds it before it publishes
    found = [sid for (sid,) in sample.execute("SELECT suspect_id FROM suspects ORDER BY 1").fetchall()]
    assert len(found) > 40
    for reveal in (False, True):
        looked_up = [evidence_view(sample, sid, reveal=reveal) for sid in found]
        with monkeypatch.context() as m:
            m.setattr(evidence, "has_lookup", lambda duck: False)
            searched = [evidence_view(sample, sid, reveal=reveal) for sid in found]
        assert looked_up == searched
    # some finding rests on a row whose mistyped ID was resolved (the sample plants them), and says so
    assert any("已按参保登记纠正" in note for view in looked_up for note in view.notes)
