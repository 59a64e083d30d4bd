"""Readers: encodings detected (not declared), XLSX and Parquet, line numbers, unreadable files."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from pipelines.ingest.readers import UnreadableFile, detect_encoding, open_file

TEXT = "person_id,姓名,summary\n11010519491231002X,张三,退休金\n"


def collect(path):
    fmt, batches = open_file(path)
    batches = list(batches)
    frame = pl.concat([b.frame for b in batches], how="diagonal")
    lines = pl.concat([b.lines for b in batches]).to_list()
    malformed = [m for b in batches for m in b.malformed]
    return fmt, frame, lines, malformed


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030")],
)
def test_encoding_is_detected_and_text_decoded(tmp_path, encoding, expected):
    path = tmp_path / "f.csv"
    path.write_bytes(TEXT.encode(encoding))
    assert detect_encoding(path) == expected
    fmt, frame, lines, _ = collect(path)
    assert fmt == f"csv:{expected}"
    assert frame.columns == ["person_id", "姓名", "summary"]  # no BOM left on the first header
    assert frame.row(0) == ("11010519491231002X", "张三", "退休金")
    assert lines == [2]


def test_gb18030_larger_than_one_chunk_is_transcoded_whole(tmp_path, monkeypatch):
    import pipelines.ingest.readers as readers

    monkeypatch.setattr(readers, "CHUNK_BYTES", 7)  # chunk edges fall inside multi-byte characters
    path = tmp_path / "f.csv"
    body = "".join(f"{i},名字{i},摘要文字\n" for i in range(500))
    path.write_bytes(("id,name,summary\n" + body).encode("gb18030"))
    _, frame, lines, _ = collect(path)
    assert frame.height == 500 and frame["name"][499] == "名字499"
    assert lines[-1] == 501


def test_binary_file_named_csv_is_unreadable(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(UnreadableFile, match="binary"):
        detect_encoding(path)


def test_ragged_rows_are_reported_with_their_line_and_the_rest_keep_theirs(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text('a,b,c\n1,2,3\n4,5\n\n6,"7,x",8\n9,10,11,12\n13,14,15\n', encoding="utf-8")
    _, frame, lines, malformed = collect(path)
    assert [(m.line, m.text) for m in malformed] == [(3, "4,5"), (6, "9,10,11,12")]
    assert frame["a"].to_list() == ["1", "", "6", "13"]
    assert lines == [2, 4, 5, 7]


def test_padded_headers_are_trimmed(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text(" person_id ,\u3000姓名\n1,2\n", encoding="utf-8")
    assert collect(path)[1].columns == ["person_id", "姓名"]


def test_xlsx_first_sheet_with_native_dates_and_numbers(tmp_path):
    path = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("data")
    wb.add_worksheet("other").write(0, 0, "not this sheet")
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["公民身份号码", "金额", "日期"])
    ws.write_row(1, 0, ["11010519491231002X", 1234.5])
    ws.write_datetime(1, 2, dt.datetime(2024, 3, 5), date_format)
    ws.write_row(3, 0, ["11010519491231002X", "1,234.50", "2024/3/5"])
    wb.close()
    fmt, frame, lines, _ = collect(path)
    assert fmt == "xlsx"
    assert frame.columns == ["公民身份号码", "金额", "日期"]
    assert frame.row(0) == ("11010519491231002X", "1234.5", "2024-03-05 00:00:00")
    assert frame.row(2) == ("11010519491231002X", "1,234.50", "2024/3/5")
    assert lines == [2, 3, 4]  # the sheet rows; row 3 is blank


def test_parquet_streams_native_types(tmp_path):
    path = tmp_path / "f.parquet"
    table = pa.table(
        {"period": pa.array([202403, 202404], pa.int64()), "d": pa.array([dt.date(2024, 3, 5), None], pa.date32())}
    )
    pq.write_table(table, path)
    fmt, frame, lines, _ = collect(path)
    assert fmt == "parquet" and frame.schema["period"] == pl.Int64 and lines == [2, 3]


def test_truncated_parquet_is_unreadable(tmp_path):
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"a": list(range(1000))}), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableFile, match="Parquet"):
        collect(path)


@pytest.mark.parametrize("content", [b"PK\x03\x04truncated zip", b"just text, not a workbook\n"])
def test_broken_xlsx_is_unreadable(tmp_path, content):
    path = tmp_path / "f.xlsx"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match="XLSX"):
        collect(path)


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "f.json"
    path.write_text("{}")
    with pytest.raises(UnreadableFile, match="unsupported"):
        open_file(path)
