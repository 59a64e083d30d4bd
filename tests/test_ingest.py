"""Ingestion: quarantine with file/line/column/reason/raw, rejection, batches, re-delivery, idempotency."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from pipelines.ingest.inbox import discover
from pipelines.ingest.load import ingest_file, ingest_files
from pipelines.warehouse.session import connect

AS_OF = dt.date(2026, 11, 27)
ID_X = "11010519491231002X"
ID_X15 = "110105491231002"

PAYMENTS_HEADER = "payment_id,person_id,region_code,scheme,benefit_type,period,amount,bank_account,pay_date"


def write(inbox: Path, rel: str, text: str, encoding: str = "utf-8") -> Path:
    path = inbox / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def run(inbox: Path, db: Path, run_id: str):
    con = connect(db)
    try:
        return {r.file: r for r in (ingest_file(con, f, run_id, AS_OF) for f in discover(inbox))}
    finally:
        con.close()


def query(db: Path, sql: str, params=None):
    con = connect(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture
def inbox(tmp_path):
    return tmp_path / "inbox"


@pytest.fixture
def db(tmp_path):
    return tmp_path / "fw.duckdb"


def payments(*rows: str) -> str:
    return PAYMENTS_HEADER + "\n" + "\n".join(rows) + "\n"


GOOD = "P1,{id},330100,110,pension,202403,100.00,6222001,2024-03-05"


def test_valid_rows_load_normalised_with_their_file(inbox, db):
    write(
        inbox,
        "benefit_payments/a.csv",
        payments(
            GOOD.format(id=ID_X15),
            f'P2,{ID_X.lower()},330100,企业职工基本养老保险,基本养老金,2024年3月,"1,234.50",6222 002,2024/3/5',
        ),
    )
    result = run(inbox, db, "r1")["benefit_payments/a.csv"]
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 2, 0)
    rows = query(
        db,
        "SELECT payment_id, person_id, scheme, benefit_type, period, amount, bank_account, pay_date, "
        "source_file, source_line FROM benefit_payments ORDER BY payment_id",
    )
    assert rows == [
        (
            "P1",
            ID_X,
            "110",
            "pension",
            "202403",
            Decimal("100.00"),
            "6222001",
            dt.date(2024, 3, 5),
            "benefit_payments/a.csv",
            2,
        ),
        (
            "P2",
            ID_X,
            "110",
            "pension",
            "202403",
            Decimal("1234.50"),
            "6222002",
            dt.date(2024, 3, 5),
            "benefit_payments/a.csv",
            3,
        ),
    ]


def test_invalid_rows_are_quarantined_with_file_line_column_reason_raw(inbox, db):
    write(
        inbox,
        "benefit_payments/a.csv",
        payments(
            GOOD.format(id=ID_X),
            "P2,110105194912310021,330100,110,pension,202403,100.00,6222002,",  # wrong check digit
            f"P3,{ID_X},330100,110,pension,202403,-5,6222003,",  # negative amount
            f"P4,{ID_X},330100,999,pension,202403,5,6222004,",  # unknown code
            f"P5,{ID_X},330100,110,pension,202403,5,,",  # missing required value
            f"P6,{ID_X},330100,110,pension,202403,5,6222006,2024-13-45",  # unparseable date
            f"P7,{ID_X},330100",  # truncated line
        ),
    )
    result = run(inbox, db, "r1")["benefit_payments/a.csv"]
    assert (result.rows_loaded, result.rows_quarantined) == (1, 6)
    q = query(db, 'SELECT dataset, file, line, "column", reason, raw FROM quarantine ORDER BY line')
    assert [(r[2], r[3]) for r in q] == [
        (3, "person_id"),
        (4, "amount"),
        (5, "scheme"),
        (6, "bank_account"),
        (7, "pay_date"),
        (8, None),
    ]
    assert all(r[0] == "benefit_payments" and r[1] == "benefit_payments/a.csv" for r in q)
    assert "check digit" in q[0][4] and "> 0" in q[1][4] and "unknown code" in q[2][4]
    assert "missing required value" in q[3][4] and "unparseable date" in q[4][4] and "fields" in q[5][4]
    assert json.loads(q[0][5])["person_id"] == "110105194912310021"  # the row as it arrived
    assert q[5][5] == f"P7,{ID_X},330100"


def test_chinese_headers_padded_in_any_order_gb18030_with_extra_column(inbox, db):
    text = (
        " 发放金额 ,公民身份号码,发放流水号,统筹区编码,险种类型,待遇类型,待遇所属期,银行账号,备注\n"
        f"88.80,{ID_X},P1,330100,110,失业保险金,2024-03,6222001,补发\n"
    )
    write(inbox, "benefit_payments/gbk.csv", text, encoding="gb18030")
    assert run(inbox, db, "r1")["benefit_payments/gbk.csv"].status == "loaded"
    assert query(db, "SELECT payment_id, benefit_type, amount FROM benefit_payments") == [
        ("P1", "unemployment", Decimal("88.80"))
    ]


def test_xlsx_and_parquet_load_with_native_types(inbox, db):
    path = inbox / "death_records" / "d.xlsx"
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["公民身份号码", "死亡日期", "信息来源"])
    ws.write_string(1, 0, ID_X15)
    ws.write_datetime(1, 1, dt.datetime(2024, 3, 5), wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_string(1, 2, "民政火化")
    ws.write_row(2, 0, [ID_X, "not a date", "police"])
    wb.close()
    pq.write_table(
        pa.table(
            {
                "employer_id": ["E1", "E1"],
                "scheme": [110, 310],
                "period": [202403, 202404],
                "amount_due": pa.array([0.1 + 0.2, 1234.5], pa.float64()),
                "headcount": [3, 4],
            }
        ),
        _mk(inbox / "contributions" / "c.parquet"),
    )
    results = run(inbox, db, "r1")
    assert results["death_records/d.xlsx"].rows_quarantined == 1
    assert query(db, "SELECT person_id, death_date, source FROM death_records") == [
        (ID_X, dt.date(2024, 3, 5), "civil")
    ]
    assert query(db, 'SELECT line, "column" FROM quarantine') == [(3, "death_date")]
    assert query(db, "SELECT scheme, period, amount_due FROM contributions ORDER BY period") == [
        ("110", "202403", Decimal("0.30")),
        ("310", "202404", Decimal("1234.50")),
    ]


def _mk(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize(
    ("rel", "content", "reason_part"),
    [
        ("benefit_payments/nocol.csv", b"payment_id,person_id\nP1,x\n", "missing required column"),
        ("benefit_payments/binary.csv", b"\x00\x01\x02\xff\xfe garbage", "binary"),
        ("benefit_payments/notgb.csv", b"\xff\xff\xff\xff\n", "not text in UTF-8 or GB18030"),
        ("benefit_payments/trunc.parquet", None, "Parquet"),
        ("benefit_payments/trunc.xlsx", b"PK\x03\x04\x14\x00", "XLSX"),
        ("benefit_payments/readme.txt", b"hello", "unsupported file type"),
        ("benefits/x.csv", b"a\n1\n", "unknown dataset"),
        ("benefit_payments/empty.csv", b"", "empty"),
    ],
)
def test_unreadable_files_are_rejected_and_the_others_still_load(inbox, db, tmp_path, rel, content, reason_part):
    if content is None:
        good = tmp_path / "good.parquet"
        pq.write_table(pa.table({"a": list(range(1000))}), good)
        content = good.read_bytes()[:300]
    _mk(inbox / rel).write_bytes(content)
    write(inbox, "benefit_payments/good.csv", payments(GOOD.format(id=ID_X)))
    results = run(inbox, db, "r1")
    assert results[rel].status == "rejected" and reason_part in results[rel].reason
    assert results["benefit_payments/good.csv"].status == "loaded"
    assert query(db, "SELECT count(*) FROM benefit_payments") == [(1,)]
    assert query(db, "SELECT status, reason IS NOT NULL FROM ingested_files WHERE file = ?", [rel]) == [
        ("rejected", True)
    ]


def test_same_bytes_again_are_skipped_and_a_second_run_changes_nothing(inbox, db):
    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X), "P9,bad,330100,110,pension,202403,1,6,"))
    run(inbox, db, "r1")
    snapshot = query(db, "SELECT * EXCLUDE (run_id) FROM benefit_payments ORDER BY ALL")
    quarantine = query(db, "SELECT * EXCLUDE (run_id) FROM quarantine ORDER BY ALL")
    result = run(inbox, db, "r2")["benefit_payments/a.csv"]
    assert result.status == "skipped"
    assert query(db, "SELECT * EXCLUDE (run_id) FROM benefit_payments ORDER BY ALL") == snapshot
    assert query(db, "SELECT * EXCLUDE (run_id) FROM quarantine ORDER BY ALL") == quarantine
    assert query(db, "SELECT run_id, status FROM ingested_files ORDER BY run_id") == [
        ("r1", "loaded"),
        ("r2", "skipped"),
    ]


def test_same_bytes_under_another_name_are_not_loaded_twice(inbox, db):
    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X)))
    run(inbox, db, "r1")
    write(inbox, "benefit_payments/a_copy.csv", payments(GOOD.format(id=ID_X)))
    result = run(inbox, db, "r2")["benefit_payments/a_copy.csv"]
    assert result.status == "skipped" and "benefit_payments/a.csv" in result.reason
    assert query(db, "SELECT count(*) FROM benefit_payments") == [(1,)]


def test_a_corrected_file_replaces_its_earlier_rows(inbox, db):
    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X), "P2,bad-id,330100,110,pension,202403,1,6,"))
    write(inbox, "benefit_payments/b.csv", payments(GOOD.format(id=ID_X).replace("P1", "B1")))
    run(inbox, db, "r1")
    write(
        inbox,
        "benefit_payments/a.csv",
        payments(GOOD.format(id=ID_X).replace("100.00", "120.00"), f"P2,{ID_X},330100,110,pension,202404,1,6,"),
    )
    results = run(inbox, db, "r2")
    assert results["benefit_payments/a.csv"].status == "replaced"
    assert results["benefit_payments/b.csv"].status == "skipped"
    assert query(db, "SELECT payment_id, period, amount, run_id FROM benefit_payments ORDER BY payment_id") == [
        ("B1", "202403", Decimal("100.00"), "r1"),
        ("P1", "202403", Decimal("120.00"), "r2"),
        ("P2", "202404", Decimal("1.00"), "r2"),
    ]
    assert query(db, "SELECT count(*) FROM quarantine") == [(0,)]  # the bad row of the old version is gone
    # and the corrected version is now the one in force: delivering it again changes nothing
    assert run(inbox, db, "r3")["benefit_payments/a.csv"].status == "skipped"


def test_a_rejected_correction_leaves_the_earlier_version_in_force(inbox, db):
    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X)))
    run(inbox, db, "r1")
    write(inbox, "benefit_payments/a.csv", "payment_id\nP1\n")
    result = run(inbox, db, "r2")["benefit_payments/a.csv"]
    assert result.status == "rejected" and "earlier version stays in force" in result.reason
    assert query(db, "SELECT payment_id, run_id FROM benefit_payments") == [("P1", "r1")]


def test_a_file_failing_half_way_loads_nothing_of_itself(inbox, db, monkeypatch):
    import pipelines.ingest.load as ingest
    from pipelines.ingest.readers import UnreadableFile

    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X)))
    real_open = ingest.open_file

    def fails_after_first_batch(path):
        fmt, batches = real_open(path)

        def gen():
            yield from batches
            raise UnreadableFile("cut off")

        return fmt, gen()

    monkeypatch.setattr(ingest, "open_file", fails_after_first_batch)
    result = run(inbox, db, "r1")["benefit_payments/a.csv"]
    assert result.status == "rejected" and "cut off" in result.reason
    assert query(db, "SELECT count(*) FROM benefit_payments") == [(0,)]
    assert query(db, "SELECT count(*) FROM quarantine") == [(0,)]


def test_a_quote_left_open_at_the_end_of_a_csv_loses_no_row(inbox, db):
    rows = [GOOD.format(id=ID_X).replace("P1", f"P{i}") for i in range(50)]
    write(inbox, "benefit_payments/a.csv", payments(*rows) + '"unterminated quote,')
    result = run(inbox, db, "r1")["benefit_payments/a.csv"]
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 50, 1)
    assert query(db, "SELECT line FROM quarantine") == [(52,)]


def test_hidden_files_and_underscore_folders_are_not_deliveries(inbox, db):
    write(inbox, "_truth/findings.csv", "x\n")
    write(inbox, "benefit_payments/.DS_Store", "x")
    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X)))
    assert list(run(inbox, db, "r1")) == ["benefit_payments/a.csv"]


def run_dataset(inbox: Path, db: Path, run_id: str):
    """As the flow calls it: every file of the inbox's one dataset in one call (one transaction)."""
    con = connect(db)
    try:
        return {r.file: r for r in ingest_files(con, discover(inbox), run_id, AS_OF)}
    finally:
        con.close()


def test_in_one_dataset_call_each_file_is_decided_on_its_own(inbox, db, monkeypatch):
    """Twins delivered together load once; a correction failing half-way keeps the earlier version; the rest load."""
    import pipelines.ingest.load as ingest
    from pipelines.ingest.readers import UnreadableFile

    write(inbox, "benefit_payments/c.csv", payments(GOOD.format(id=ID_X).replace("P1", "C1")))
    run_dataset(inbox, db, "r1")
    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X)))
    write(inbox, "benefit_payments/b.csv", payments(GOOD.format(id=ID_X)))  # same bytes as a.csv
    write(inbox, "benefit_payments/c.csv", payments(GOOD.format(id=ID_X).replace("P1", "C2")))  # a correction
    write(inbox, "benefit_payments/d.csv", payments(GOOD.format(id=ID_X).replace("P1", "D1")))
    real_open = ingest.open_file

    def c_is_cut_off(path):
        fmt, batches = real_open(path)
        if path.name != "c.csv":
            return fmt, batches

        def gen():
            yield from batches
            raise UnreadableFile("cut off")

        return fmt, gen()

    monkeypatch.setattr(ingest, "open_file", c_is_cut_off)
    results = run_dataset(inbox, db, "r2")
    assert {f: r.status for f, r in results.items()} == {
        "benefit_payments/a.csv": "loaded",
        "benefit_payments/b.csv": "skipped",
        "benefit_payments/c.csv": "rejected",
        "benefit_payments/d.csv": "loaded",
    }
    assert "same bytes as benefit_payments/a.csv" in results["benefit_payments/b.csv"].reason
    assert "earlier version stays in force" in results["benefit_payments/c.csv"].reason
    assert query(db, "SELECT payment_id, source_file FROM benefit_payments ORDER BY payment_id") == [
        ("C1", "benefit_payments/c.csv"),
        ("D1", "benefit_payments/d.csv"),
        ("P1", "benefit_payments/a.csv"),
    ]


def run_two_files_where_the_second_breaks(inbox: Path, db: Path, monkeypatch) -> None:
    """a.csv loads; opening b.csv raises an unexpected error (not an unreadable file), which propagates."""
    import pipelines.ingest.load as ingest

    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X)))
    write(inbox, "benefit_payments/b.csv", payments(GOOD.format(id=ID_X).replace("P1", "B1")))
    real_open = ingest.open_file

    def b_breaks(path):
        if path.name == "b.csv":
            raise MemoryError("simulated")
        return real_open(path)

    monkeypatch.setattr(ingest, "open_file", b_breaks)
    with pytest.raises(MemoryError):
        run_dataset(inbox, db, "r1")


def test_an_unexpected_error_while_reading_rolls_the_whole_call_back(inbox, db, monkeypatch):
    run_two_files_where_the_second_breaks(inbox, db, monkeypatch)
    assert query(db, "SELECT count(*) FROM benefit_payments") == [(0,)]
    assert query(db, "SELECT count(*) FROM ingested_files") == [(0,)]


def test_files_are_committed_in_groups_and_an_error_loses_only_the_group_in_progress(inbox, db, monkeypatch):
    import pipelines.ingest.load as ingest

    monkeypatch.setattr(ingest, "COMMIT_ROWS", 1)  # every file its own group
    run_two_files_where_the_second_breaks(inbox, db, monkeypatch)
    assert query(db, "SELECT payment_id FROM benefit_payments") == [("P1",)]
    assert query(db, "SELECT file, status FROM ingested_files") == [("benefit_payments/a.csv", "loaded")]
