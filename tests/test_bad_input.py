"""Every kind of bad input, one line each: what arrives, and what must become of it.

A case names the dirt, the dataset, the file's name and its content (bytes, or a function that makes the
file, e.g. a symbolic link), and the outcome: the file `Rejected` with a reason, the row `Quarantined`
(column and reason), or the file `Loaded` (rows, and values as stored). Every case also delivers a good
file beside the bad one, which must load untouched: one bad file never costs another.

To add a kind of dirt: one line in CASES (`csv(dataset, column=value)` gives a file of one otherwise valid
row; `raw(...)` gives any bytes).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.ingest.inbox import discover
from pipelines.ingest.load import ingest_files
from pipelines.warehouse.session import connect

AS_OF = dt.date(2026, 11, 27)
ID = "11010519491231002X"  # valid check digit, born 1949-12-31 in 110105
ID15 = "110105491231002"

# One valid row per dataset: the base every case changes in one place.
VALID: dict[str, dict[str, str]] = {
    "enrollment": {
        "enrollment_id": "E1",
        "person_id": ID,
        "name": "张伟",
        "gender": "1",
        "birth_date": "1949-12-31",
        "region_code": "330100",
        "scheme": "110",
        "employer_id": "EMP1",
        "start_date": "2010-01-01",
        "end_date": "",
    },
    "contributions": {"employer_id": "EMP1", "scheme": "110", "period": "202503", "amount_due": "1,234.50"},
    "benefit_payments": {
        "payment_id": "P1",
        "person_id": ID,
        "region_code": "330100",
        "scheme": "110",
        "benefit_type": "pension",
        "period": "202503",
        "amount": "3210.00",
        "bank_account": "6222000011112222",
        "pay_date": "2025-03-15",
        "batch_id": "B1",
    },
    "medical_claims": {
        "claim_id": "C1",
        "person_id": ID,
        "region_code": "330100",
        "hospital_id": "H1",
        "invoice_no": "INV1",
        "service_date": "2025-03-05",
        "total_amount": "100.00",
        "fund_paid": "80.00",
    },
    "business_log": {
        "business_id": "YW1",
        "business_type": "待遇核定",
        "stage": "accept",
        "operator_id": "OP1",
        "operated_at": "2025-03-05 10:00:00",
        "person_id": ID,
        "amount": "1000.00",
    },
    "operators": {"operator_id": "OP1", "name": "李四", "region_code": "330100", "role": "business"},
    "tax_collections": {
        "voucher_no": "V1",
        "employer_id": "EMP1",
        "scheme": "110",
        "period": "202503",
        "amount_collected": "1234.50",
        "collected_date": "2025-03-20",
    },
    "payroll_withholding": {"employer_id": "EMP1", "person_id": ID, "period": "202503", "wage_income": "8000.00"},
    "fund_accounts": {
        "account_no": "A1",
        "account_type": "special",
        "scheme": "110",
        "bank_name": "银行",
        "opened_date": "2010-01-01",
        "closed_date": "",
    },
    "finance_ledger": {
        "entry_id": "L1",
        "account_no": "A1",
        "entry_date": "2025-03-05",
        "direction": "in",
        "amount": "100.00",
        "scheme": "110",
        "counterparty_account": "",
        "summary": "收入",
    },
    "bank_statements": {
        "txn_id": "T1",
        "account_no": "A1",
        "txn_date": "2025-03-05",
        "direction": "in",
        "amount": "100.00",
        "counterparty_account": "",
        "counterparty_name": "",
        "summary": "",
    },
    "bank_disbursements": {
        "payment_id": "P1",
        "bank_account": "6222000011112222",
        "amount": "3210.00",
        "status": "success",
        "settled_date": "2025-03-16",
    },
    "death_records": {"person_id": ID, "name": "张伟", "death_date": "2025-01-05", "source": "police"},
}


def _csv_line(cells: list[str]) -> str:
    return ",".join(f'"{c}"' if ("," in c or '"' in c) else c for c in cells)


def csv(dataset: str, encoding: str = "utf-8", **changes: str | None) -> bytes:
    """A CSV of one row of `dataset`: the valid row with `changes` (a value; None drops the column)."""
    row = {k: v for k, v in (VALID[dataset] | changes).items() if v is not None}
    return (_csv_line(list(row)) + "\n" + _csv_line(list(row.values())) + "\n").encode(encoding)


def raw(text: str | bytes, encoding: str = "utf-8") -> bytes:
    return text if isinstance(text, bytes) else text.encode(encoding)


@dataclass(frozen=True)
class Rejected:
    reason: str  # a part of the reason recorded in ingested_files


@dataclass(frozen=True)
class Quarantined:
    column: str | None  # the first failing column (None: the row could not be split into fields)
    reason: str  # a part of the reason recorded in quarantine


@dataclass(frozen=True)
class Loaded:
    rows: int
    values: dict[str, object] = field(default_factory=dict)  # column -> value of the first row as stored


@dataclass(frozen=True)
class Case:
    kind: str
    dataset: str
    file: str
    content: bytes | Callable[[Path], None]
    expect: Rejected | Quarantined | Loaded


CASES: list[Case] = [
    # --- files that cannot be read: rejected whole -------------------------------------------------
    Case("missing required column", "death_records", "d.csv", csv("death_records", death_date=None),
         Rejected("missing required column")),
    Case("binary content", "death_records", "d.csv", raw(b"\x00\x01\x02garbage"), Rejected("binary")),
    Case("empty file", "death_records", "d.csv", raw(b""), Rejected("empty file")),
    Case("unsupported type", "death_records", "d.txt", csv("death_records"), Rejected("unsupported file type")),
    Case("unknown dataset folder", "deaths", "d.csv", csv("death_records"), Rejected("unknown dataset")),
    # --- rows that cannot be made valid: quarantined -----------------------------------------------
    Case("ID with a wrong check digit", "death_records", "d.csv", csv("death_records", person_id=ID[:-1] + "3"),
         Quarantined("person_id", "wrong check digit")),
    Case("unparseable date", "death_records", "d.csv", csv("death_records", death_date="2025-13-45"),
         Quarantined("death_date", "unparseable date")),
    Case("unknown code", "death_records", "d.csv", csv("death_records", source="rumour"),
         Quarantined("source", "unknown code")),
    Case("negative amount where none is allowed", "benefit_payments", "p.csv",
         csv("benefit_payments", amount="-1.00"), Quarantined("amount", "> 0")),
    Case("a third decimal", "benefit_payments", "p.csv", csv("benefit_payments", amount="1.005"),
         Quarantined("amount", "unparseable amount")),
    Case("missing required value", "death_records", "d.csv", csv("death_records", source=""),
         Quarantined("source", "missing required value")),
    Case("a death after the data date", "death_records", "d.csv", csv("death_records", death_date="2026-11-28"),
         Quarantined("death_date", "implausible date")),
    Case("wrong number of fields", "death_records", "d.csv",
         raw(f"person_id,name,death_date,source\n{ID},张伟,2025-01-05,police,extra\n"),
         Quarantined(None, "wrong number of fields")),
    # --- values people type: loaded, canonical -------------------------------------------------------
    Case("15-digit ID", "death_records", "d.csv", csv("death_records", person_id=ID15), Loaded(1, {"person_id": ID})),
    Case("lower-case x, full-width digits and spaces", "death_records", "d.csv",
         csv("death_records", person_id=" １１０１０５１９４９１２３１００２x "), Loaded(1, {"person_id": ID})),
    Case("Chinese headers in GB18030, a Chinese code label", "death_records", "d.csv",
         raw("公民身份号码,死亡日期,信息来源\n" f"{ID},2025年1月5日,公安户籍注销\n", "gb18030"),
         Loaded(1, {"source": "police", "death_date": dt.date(2025, 1, 5)})),
    Case("thousands separator", "contributions", "c.csv", csv("contributions", amount_due="1,234.50"),
         Loaded(1, {"amount_due": Decimal("1234.50")})),
    # --- issue 11: values ---
    Case("thousands separator after two digits", "contributions", "c.csv", csv("contributions", amount_due="12,34"),
         Quarantined("amount_due", "unparseable amount")),
    Case("a separator between single digits", "contributions", "c.csv",
         csv("contributions", amount_due="1,2,3,4"), Quarantined("amount_due", "unparseable amount")),
    Case("four digits after a separator", "contributions", "c.csv",
         csv("contributions", amount_due="12,3456.00"), Quarantined("amount_due", "unparseable amount")),
    Case("thousands separators every three digits", "contributions", "c.csv",
         csv("contributions", amount_due="12,345,678.00"), Loaded(1, {"amount_due": Decimal("12345678.00")})),
    Case("a negative amount with a separator", "contributions", "c.csv",
         csv("contributions", amount_due="-1,234.00"), Loaded(1, {"amount_due": Decimal("-1234.00")})),
    Case("a full-width amount with separators", "contributions", "c.csv",
         csv("contributions", amount_due="１２，３４５．６"), Loaded(1, {"amount_due": Decimal("12345.60")})),
    Case("a payment date far ahead", "benefit_payments", "p.csv", csv("benefit_payments", pay_date="2099-01-01"),
         Quarantined("pay_date", "implausible date")),
    Case("a period far ahead", "benefit_payments", "p.csv", csv("benefit_payments", period="209901"),
         Quarantined("period", "implausible period")),
    Case("a period long past", "contributions", "c.csv", csv("contributions", period="189901"),
         Quarantined("period", "implausible period")),
    Case("a timestamp far ahead", "business_log", "b.csv", csv("business_log", operated_at="2099-01-01 10:00:00"),
         Quarantined("operated_at", "implausible timestamp")),
    Case("a birth date after the data date", "enrollment", "e.csv", csv("enrollment", birth_date="2026-11-28"),
         Quarantined("birth_date", "implausible date")),
    Case("an enrollment set to end in four years", "enrollment", "e.csv", csv("enrollment", end_date="2030-12-31"),
         Loaded(1, {"end_date": dt.date(2030, 12, 31)})),
    Case("ID with a right check digit born on 30 February", "death_records", "d.csv",
         csv("death_records", person_id="110105202502300029"), Quarantined("person_id", "no such birth date")),
    Case("ID with a right check digit born in month 13", "death_records", "d.csv",
         csv("death_records", person_id="110105190013990027"), Quarantined("person_id", "no such birth date")),
    Case("ID with a region code never issued", "death_records", "d.csv",
         csv("death_records", person_id="999999194912310025"), Quarantined("person_id", "region code never issued")),
    Case("15-digit ID born on 30 February", "death_records", "d.csv", csv("death_records", person_id="110105490230002"),
         Quarantined("person_id", "no such birth date")),
    Case("15-digit ID with a region code never issued", "death_records", "d.csv",
         csv("death_records", person_id="999999491231002"), Quarantined("person_id", "region code never issued")),
    Case("ID born after the data date", "death_records", "d.csv", csv("death_records", person_id="330102202611280014"),
         Quarantined("person_id", "birth date not between")),
    Case("ID of a district merged in 2021 (330103)", "death_records", "d.csv",
         csv("death_records", person_id="330103198501010029"), Loaded(1, {"person_id": "330103198501010029"})),
    Case("ID of a district created in 2021 (330114)", "death_records", "d.csv",
         csv("death_records", person_id="330114202301010049"), Loaded(1, {"person_id": "330114202301010049"})),
    # --- issue 11: files and headers ---
    Case("header names equal after trimming", "death_records", "d.csv",
         raw(f"person_id,name,death_date,source, source \n{ID},张伟,2025-01-05,police,police\n"),
         Rejected("after trimming: 'source'")),
    Case("one column in English and Chinese, different values", "death_records", "d.csv",
         raw(f"person_id,name,death_date,死亡日期,source\n{ID},张伟,2025-01-05,2025-01-06,police\n"),
         Rejected("given twice, as 'death_date' and '死亡日期', with different values: line 2")),
    Case("one column in English and Chinese, same values", "death_records", "d.csv",
         raw(f"person_id,name,death_date,死亡日期,source\n{ID},张伟,2025-01-05, 2025-01-05 ,police\n"),
         Loaded(1, {"death_date": dt.date(2025, 1, 5)})),
    Case("header only", "death_records", "d.csv", raw("person_id,name,death_date,source\n"), Loaded(0)),
    Case("header only, a required column missing", "death_records", "d.csv", raw("person_id,name\n"),
         Rejected("missing required column")),
    Case("GB18030 with a line in UTF-8 (garbled if loaded)", "death_records", "d.csv",
         raw(f"person_id,name,death_date,source\n{ID},李四,2025-01-05,police\n".encode("gb18030")
             + f"{ID},张伟,2025-01-05,police\n".encode()), Rejected("mixed encodings: line 3")),
    Case("GB18030 with a line valid as UTF-8 by chance", "death_records", "d.csv",
         raw(f"person_id,name,death_date,source\n{ID},郑露,2025-01-05,police\n{ID},张伟,2025-01-05,police\n",
             "gb18030"), Loaded(2, {"name": "郑露"})),
    Case("a symbolic link to a file out of the inbox", "death_records", "d.csv",
         lambda path: path.symlink_to("/etc/passwd"), Rejected("符号链接 symbolic link: not followed")),
    Case("a symbolic link to a folder", "death_records", "linked", lambda path: path.symlink_to("/etc"),
         Rejected("符号链接 symbolic link: not followed")),
    Case("a named pipe", "death_records", "d.csv", lambda path: os.mkfifo(path), Rejected("not a regular file")),
    Case("a header line of 5 MB", "death_records", "d.csv",
         raw("person_id,name,death_date,source," + "X" * 5_000_000 + "\n"), Rejected("header line cannot be parsed")),
    Case("a terminal escape in a cell", "death_records", "d.csv", csv("death_records", death_date="\x1b[31m2025-13-45"),
         Quarantined("death_date", "unparseable date: '[31m2025-13-45'")),
]  # fmt: skip


def _write(inbox: Path, case: Case) -> None:
    path = inbox / case.dataset / case.file
    path.parent.mkdir(parents=True, exist_ok=True)
    if callable(case.content):
        case.content(path)
    else:
        path.write_bytes(case.content)
    good = inbox / "death_records" / "zz_good.csv"
    good.parent.mkdir(parents=True, exist_ok=True)
    good.write_bytes(csv("death_records"))


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "fw.duckdb"
    _write(inbox, case)
    con = connect(db)
    try:
        results = {r.file: r for r in ingest_files(con, discover(inbox), "r1", AS_OF)}
        file = f"{case.dataset}/{case.file}"
        result = results[file]
        good = results["death_records/zz_good.csv"]
        assert good.status == "loaded" and good.rows_loaded == 1, good  # nothing else lost
        quarantine = con.execute(
            'SELECT "column", reason FROM quarantine WHERE file = ? ORDER BY line', [file]
        ).fetchall()
        if isinstance(case.expect, Rejected):
            assert result.status == "rejected", result
            assert case.expect.reason in (result.reason or ""), result.reason
            assert not quarantine
        elif isinstance(case.expect, Quarantined):
            assert result.status == "loaded" and result.rows_loaded == 0, result
            assert len(quarantine) == 1, quarantine
            column, reason = quarantine[0]
            assert column == case.expect.column and case.expect.reason in reason, quarantine
        else:
            assert result.status == "loaded" and result.rows_loaded == case.expect.rows, result
            assert not quarantine, quarantine
            if case.expect.values:
                names = list(case.expect.values)
                cols = ", ".join(f'"{n}"' for n in names)
                first = con.execute(
                    f'SELECT {cols} FROM "{case.dataset}" WHERE source_file = ? ORDER BY source_line LIMIT 1', [file]
                ).fetchall()[0]
                assert dict(zip(names, first, strict=True)) == case.expect.values
    finally:
        con.close()


def test_every_case_has_its_own_name():
    assert len({c.kind for c in CASES}) == len(CASES)
    assert os.sep not in "".join(c.file for c in CASES if not callable(c.content))
