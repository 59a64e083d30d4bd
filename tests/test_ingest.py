"""Ingestion: quarantine with file/line/column/reason/raw, rejection, batches, re-delivery, idempotency."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from pipelines.ingest import registry
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

    def fails_after_first_batch(path, **options):
        fmt, batches = real_open(path, **options)

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

    def c_is_cut_off(path, **options):
        fmt, batches = real_open(path, **options)
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
    # what the next call plans against: the files in force, by name and by bytes (c's first version stays)
    con = connect(db)
    try:
        known = registry.in_force(con, ["benefit_payments", "death_records"])
    finally:
        con.close()
    assert known.files == {("benefit_payments", f"benefit_payments/{n}.csv") for n in "acd"}
    first_c = payments(GOOD.format(id=ID_X).replace("P1", "C1")).encode()
    assert (
        known.file_with_same_bytes("benefit_payments", hashlib.sha256(first_c).hexdigest()) == "benefit_payments/c.csv"
    )
    b_bytes = (inbox / "benefit_payments" / "b.csv").read_bytes()  # a's bytes: a is the file in force with them
    assert (
        known.file_with_same_bytes("benefit_payments", hashlib.sha256(b_bytes).hexdigest()) == "benefit_payments/a.csv"
    )
    assert known.file_with_same_bytes("death_records", hashlib.sha256(b_bytes).hexdigest()) is None


def run_two_files_where_the_second_breaks(inbox: Path, db: Path, monkeypatch) -> None:
    """a.csv loads; opening b.csv raises an unexpected error (not an unreadable file), which propagates."""
    import pipelines.ingest.load as ingest

    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X)))
    write(inbox, "benefit_payments/b.csv", payments(GOOD.format(id=ID_X).replace("P1", "B1")))
    real_open = ingest.open_file

    def b_breaks(path, **options):
        if path.name == "b.csv":
            raise MemoryError("simulated")
        return real_open(path, **options)

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


# --- issue 11: a bad file costs only itself; links are not followed; re-delivery overlaps --------------------


def good_payment(inbox: Path) -> None:
    write(inbox, "benefit_payments/zz_good.csv", payments(GOOD.format(id=ID_X).replace("P1", "G1")))


def assert_good_loaded(results) -> None:
    good = results["benefit_payments/zz_good.csv"]
    assert (good.status, good.rows_loaded) == ("loaded", 1), good


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_header_colliding_after_trimming_rejects_that_file_only(inbox, db, suffix):
    header = PAYMENTS_HEADER.split(",") + [" amount "]
    row = GOOD.format(id=ID_X).split(",") + ["1.00"]
    if suffix == "csv":
        write(inbox, "benefit_payments/a.csv", ",".join(header) + "\n" + ",".join(row) + "\n")
    else:
        path = inbox / "benefit_payments" / "a.xlsx"
        path.parent.mkdir(parents=True)
        wb = xlsxwriter.Workbook(path)
        ws = wb.add_worksheet()
        ws.write_row(0, 0, header)
        ws.write_row(1, 0, row)
        wb.close()
    good_payment(inbox)
    results = run_dataset(inbox, db, "r1")
    a = results[f"benefit_payments/a.{suffix}"]
    assert a.status == "rejected" and "表头列名重复" in a.reason and "after trimming: 'amount'" in a.reason
    assert_good_loaded(results)


def test_whatever_a_reader_raises_rejects_that_file_with_type_and_message(inbox, db, monkeypatch):
    import pipelines.ingest.load as ingest

    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X)))
    good_payment(inbox)
    real = ingest.process_batch

    def breaks_on_a(batch, mapping, spec, window, file, run_id):
        if file.endswith("a.csv"):
            raise KeyError("a library's surprise \x1b[31m" + "x" * 10_000)
        return real(batch, mapping, spec, window, file, run_id)

    monkeypatch.setattr(ingest, "process_batch", breaks_on_a)
    results = run_dataset(inbox, db, "r1")
    a = results["benefit_payments/a.csv"]
    assert a.status == "rejected" and a.reason.startswith("读取出错 error while reading the file (KeyError):")
    assert "\x1b" not in a.reason and len(a.reason) < 200
    assert_good_loaded(results)


def test_a_full_disk_while_transcoding_rejects_that_file_and_the_scratch_folder_is_used(inbox, db, monkeypatch):
    import errno

    import pipelines.ingest.readers as readers

    chinese = GOOD.format(id=ID_X).replace("pension", "基本养老金")  # not ASCII: GB18030, transcoded
    write(inbox, "benefit_payments/a.csv", payments(chinese), encoding="gb18030")
    write(inbox, "benefit_payments/b.csv", payments(chinese.replace("P1", "B1")), encoding="gb18030")
    good_payment(inbox)
    scratch = db.parent / ".scratch-r1"
    used = []
    real = readers.transcode_to_utf8

    def full_for_a(path, encoding, out):
        used.append([copy.name[:5] for copy in scratch.iterdir()])  # the copy being written is in scratch
        if path.name == "a.csv":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, encoding, out)

    monkeypatch.setattr(readers, "transcode_to_utf8", full_for_a)
    con = connect(db)
    try:
        results = {r.file: r for r in ingest_files(con, discover(inbox), "r1", AS_OF, scratch=scratch)}
    finally:
        con.close()
    a = results["benefit_payments/a.csv"]
    assert a.status == "rejected" and "No space left on device" in a.reason
    assert results["benefit_payments/b.csv"].status == "loaded"
    assert_good_loaded(results)
    assert used == [["utf8-"], ["utf8-"]] and list(scratch.iterdir()) == []


def test_the_same_column_in_english_and_chinese_loads_only_with_the_same_values(inbox, db, monkeypatch):
    import pipelines.ingest.readers as readers

    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 256)  # several batches: the difference is found half-way
    header = PAYMENTS_HEADER + ",发放金额"
    rows = [GOOD.format(id=ID_X).replace("P1", f"P{i}") + ",100.00" for i in range(20)]
    write(inbox, "benefit_payments/same.csv", header + "\n" + "\n".join(rows) + "\n")
    rows[15] = rows[15][: -len("100.00")] + "999.00"
    write(inbox, "benefit_payments/differs.csv", header + "\n" + "\n".join(r.replace("P", "D") for r in rows) + "\n")
    good_payment(inbox)
    results = run_dataset(inbox, db, "r1")
    assert (results["benefit_payments/same.csv"].status, results["benefit_payments/same.csv"].rows_loaded) == (
        "loaded",
        20,
    )
    differs = results["benefit_payments/differs.csv"]
    assert differs.status == "rejected"
    assert "column amount (发放金额) given twice, as 'amount' and '发放金额', with different values: line 17" in (
        differs.reason
    )
    assert query(db, "SELECT count(*) FROM benefit_payments WHERE source_file = 'benefit_payments/differs.csv'") == [
        (0,)
    ]
    assert_good_loaded(results)


def test_a_header_only_file_is_a_delivery_of_zero_rows(inbox, db):
    write(inbox, "benefit_payments/none.csv", PAYMENTS_HEADER + "\n")
    write(inbox, "benefit_payments/nocol.csv", "payment_id,person_id\n")
    results = run_dataset(inbox, db, "r1")
    none = results["benefit_payments/none.csv"]
    assert (none.status, none.rows_loaded, none.rows_quarantined) == ("loaded", 0, 0)
    assert none.reason == "仅有表头 header only: no rows"
    nocol = results["benefit_payments/nocol.csv"]
    assert nocol.status == "rejected" and "missing required column" in nocol.reason
    assert run_dataset(inbox, db, "r2")["benefit_payments/none.csv"].status == "skipped"  # same bytes again


def test_a_mixed_encoding_file_is_rejected_not_loaded_garbled(inbox, db):
    # An extra column of remarks: 张伟 in UTF-8 happens to decode as GB18030 (寮犱紵), so the file does too.
    gb18030 = PAYMENTS_HEADER + ",备注\n" + GOOD.format(id=ID_X) + ",张三\n"
    utf8 = GOOD.format(id=ID_X).replace("P1", "P2") + ",张伟\n"
    path = inbox / "benefit_payments" / "mixed.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(gb18030.encode("gb18030") + utf8.encode("utf-8"))
    good_payment(inbox)
    results = run_dataset(inbox, db, "r1")
    mixed = results["benefit_payments/mixed.csv"]
    assert mixed.status == "rejected" and mixed.reason == "编码混杂 mixed encodings: line 3 is UTF-8 in a GB18030 file"
    assert_good_loaded(results)


PASSWD = "root:x:0:0:root:/root:/bin/bash\n"


def test_symbolic_links_are_rejected_by_name_and_never_followed(inbox, db, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(PASSWD)
    (outside / "deaths").mkdir()
    (outside / "deaths" / "d.csv").write_text(f"person_id,death_date,source\n{ID_X},2025-01-05,police\n")
    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X)))
    (inbox / "benefit_payments" / "passwd.csv").symlink_to(outside / "passwd")
    (inbox / "benefit_payments" / "inner.csv").symlink_to(inbox / "benefit_payments" / "a.csv")  # inside: still not
    (inbox / "benefit_payments" / "sub").symlink_to(outside / "deaths")
    (inbox / "death_records").symlink_to(outside / "deaths")
    items = discover(inbox)
    assert {i.file: i.kind for i in items} == {
        "benefit_payments/a.csv": "file",
        "benefit_payments/inner.csv": "symlink",
        "benefit_payments/passwd.csv": "symlink",
        "benefit_payments/sub": "symlink",
        "death_records": "symlink",
    }
    results = run_dataset(inbox, db, "r1")
    for name in ("benefit_payments/inner.csv", "benefit_payments/passwd.csv", "benefit_payments/sub", "death_records"):
        assert (results[name].status, results[name].reason) == ("rejected", "符号链接 symbolic link: not followed")
    assert results["benefit_payments/a.csv"].status == "loaded"
    stored = query(db, "SELECT string_agg(coalesce(reason, ''), '') FROM ingested_files")[0][0]
    assert "root:" not in stored
    assert query(db, "SELECT count(*) FROM death_records") == [(0,)]


def test_a_named_pipe_is_rejected_not_read(inbox, db):
    import os

    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X)))
    os.mkfifo(inbox / "benefit_payments" / "pipe.csv")  # reading it would block the run forever
    results = run_dataset(inbox, db, "r1")
    assert results["benefit_payments/pipe.csv"].status == "rejected"
    assert "not a regular file" in results["benefit_payments/pipe.csv"].reason
    assert results["benefit_payments/a.csv"].status == "loaded"


def test_a_file_that_cannot_be_opened_is_rejected_and_the_run_goes_on(inbox, db, monkeypatch):
    import pipelines.ingest.load as ingest

    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X)))
    good_payment(inbox)
    real = ingest.sha256_of

    def denied(path):
        if path.name == "a.csv":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(ingest, "sha256_of", denied)
    results = run_dataset(inbox, db, "r1")
    assert results["benefit_payments/a.csv"].status == "rejected"
    assert "cannot be opened" in results["benefit_payments/a.csv"].reason
    assert_good_loaded(results)


@pytest.mark.parametrize(
    ("name", "reason_part"),
    [("X" * 5_000_000, "header line cannot be parsed"), ("X" * 100_000, "duplicate column names")],
)
def test_a_huge_header_gives_a_short_reason(inbox, db, name, reason_part):
    write(inbox, "benefit_payments/a.csv", f"{PAYMENTS_HEADER},{name},{name}\n" + GOOD.format(id=ID_X) + ",1,2\n")
    good_payment(inbox)
    results = run_dataset(inbox, db, "r1")
    result = results["benefit_payments/a.csv"]
    assert result.status == "rejected" and reason_part in result.reason
    assert len(result.reason) < 300
    assert query(db, "SELECT max(length(reason)) FROM ingested_files") == [(len(result.reason),)]
    assert_good_loaded(results)


def test_a_quarantine_reason_quotes_a_cell_short_and_without_control_characters(inbox, db):
    cell = "\x1b[2J2025-13-45" + "9" * 1_000_000
    write(inbox, "benefit_payments/a.csv", payments(GOOD.format(id=ID_X).replace("2024-03-05", cell)))
    run_dataset(inbox, db, "r1")
    ((reason,),) = query(db, "SELECT reason FROM quarantine")
    assert "unparseable date: '[2J2025-13-45999" in reason and reason.endswith("…")
    assert len(reason) < 200 and "\x1b" not in reason


def test_overlapping_files_finds_a_renamed_copy_corrected_later(inbox, db):
    from pipelines.ingest.registry import overlapping_files, record_overlaps, recorded_overlaps

    rows = [GOOD.format(id=ID_X).replace("P1", f"P{i}") for i in range(10)]
    write(inbox, "benefit_payments/a.csv", payments(*rows))
    write(inbox, "benefit_payments/other.csv", payments(GOOD.format(id=ID_X).replace("P1", "Q1")))
    run_dataset(inbox, db, "r1")
    con = connect(db)
    try:
        assert overlapping_files(con, "r1") == []  # files of one dataset that share no rows
    finally:
        con.close()
    corrected = rows[:6] + [r.replace("100.00", "101.00") for r in rows[6:]] + [rows[0].replace("P0", "N1")]
    write(inbox, "benefit_payments/a_copy.csv", payments(*corrected))  # 6 of its 11 rows are a.csv's
    write(inbox, "benefit_payments/fresh.csv", payments(rows[0].replace("P0", "F1")))
    run_dataset(inbox, db, "r2")
    con = connect(db)
    try:
        found = overlapping_files(con, "r2")
        assert found == [
            {
                "dataset": "benefit_payments",
                "file": "benefit_payments/a_copy.csv",
                "other_file": "benefit_payments/a.csv",
                "rows": 11,
                "rows_shared": 6,
                "share": round(6 / 11, 4),
            }
        ]
        assert overlapping_files(con, "r2", min_share=0.6) == []
        # kept at the end of the run's ingestion, and read back by the summary: the same rows, once per run
        assert record_overlaps(con, "r2") == found and record_overlaps(con, "r2") == found
        assert recorded_overlaps(con, "r2") == found and recorded_overlaps(con, "r1") == []
    finally:
        con.close()
