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


# --- issue 11: headers, mixed encodings, temporary copies ------------------------------------------------


def xlsx(path, rows):
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    for i, row in enumerate(rows):
        ws.write_row(i, 0, row)
    wb.close()
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_header_names_colliding_only_after_trimming_make_the_file_unreadable(tmp_path, suffix):
    path = tmp_path / f"f{suffix}"
    if suffix == ".csv":
        path.write_text("person_id,amount, amount \nX,1,2\n", encoding="utf-8")
    else:
        xlsx(path, [["person_id", "amount", " amount "], ["X", "1", "2"]])
    with pytest.raises(UnreadableFile, match="after trimming: 'amount' \\(columns 2 and 3\\)"):
        collect(path)


def test_an_exact_duplicate_xlsx_header_is_seen_though_fastexcel_renames_it(tmp_path):
    path = xlsx(tmp_path / "f.xlsx", [["person_id", "amount", "amount"], ["X", "1", "2"]])
    with pytest.raises(UnreadableFile, match="duplicate column names in the header: 'amount' \\(columns 2 and 3\\)"):
        collect(path)


def test_xlsx_empty_header_cells_keep_a_placeholder_name_and_rows_their_sheet_line(tmp_path):
    path = xlsx(tmp_path / "f.xlsx", [["person_id", None, "amount"], ["X", "a", "1"], ["Y", "b", "2"]])
    _, frame, lines, _ = collect(path)
    assert frame.columns == ["person_id", "__UNNAMED__1", "amount"]
    assert frame.rows() == [("X", "a", "1"), ("Y", "b", "2")] and lines == [2, 3]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_a_header_without_rows_is_one_empty_batch(tmp_path, suffix):
    path = tmp_path / f"f{suffix}"
    if suffix == ".csv":
        path.write_text("person_id, amount\n", encoding="gb18030")
    elif suffix == ".xlsx":
        xlsx(path, [["person_id", " amount"]])
    else:
        pq.write_table(pa.table({"person_id": pa.array([], pa.string()), " amount": pa.array([], pa.float64())}), path)
    _, batches = open_file(path)
    batches = list(batches)
    assert len(batches) == 1 and batches[0].frame.columns == ["person_id", "amount"] and batches[0].frame.height == 0


MIXED_HEAD = "person_id,name,death_date,source\n"
ROW = "11010519491231002X,{name},2025-01-05,police\n"


def test_a_gb18030_file_with_a_utf8_line_is_rejected_naming_the_line(tmp_path):
    path = tmp_path / "f.csv"
    gb = (MIXED_HEAD + ROW.format(name="李四")).encode("gb18030")
    path.write_bytes(gb + ROW.format(name="张伟").encode("utf-8") + ROW.format(name="王五").encode("gb18030"))
    assert (ROW.format(name="张伟").encode("utf-8").decode("gb18030")).count("寮犱紵") == 1  # decodes, garbled
    with pytest.raises(UnreadableFile, match="mixed encodings: line 3 is UTF-8 in a GB18030 file"):
        detect_encoding(path)


def test_genuine_gb18030_lines_that_happen_to_be_valid_utf8_still_load(tmp_path):
    # 郑露 in GB18030 is D6 A3 C2 B6: valid UTF-8 too ("֣¶"), but not Chinese read that way.
    assert "郑露".encode("gb18030").decode("utf-8") == "\u05a3\u00b6"
    path = tmp_path / "f.csv"
    path.write_bytes((MIXED_HEAD + ROW.format(name="郑露") + ROW.format(name="张伟")).encode("gb18030"))
    fmt, frame, _, _ = collect(path)
    assert fmt == "csv:gb18030" and frame["name"].to_list() == ["郑露", "张伟"]


def test_every_bundled_gb18030_sample_is_still_gb18030():
    from pathlib import Path

    samples = Path(__file__).resolve().parents[1] / "data_samples"
    found = 0
    for path in sorted(samples.glob("*/*.csv")):
        try:
            encoding = detect_encoding(path)
        except UnreadableFile as err:
            assert "mixed" not in str(err), path
            continue
        found += encoding == "gb18030"
    assert found >= 10


def test_mixed_encodings_are_found_across_chunk_edges_and_in_over_long_lines(tmp_path, monkeypatch):
    import pipelines.ingest.readers as readers

    monkeypatch.setattr(readers, "CHUNK_BYTES", 7)
    monkeypatch.setattr(readers, "MAX_CHECKED_LINE_BYTES", 64)
    body = "".join(ROW.format(name=f"名字{i}") for i in range(40))
    long_line = "11010519491231002X," + "长" * 100 + ",2025-01-05,police\n"  # checked on its first 64 bytes
    path = tmp_path / "f.csv"
    path.write_bytes((MIXED_HEAD + body + long_line + body).encode("gb18030"))
    assert detect_encoding(path) == "gb18030"
    path.write_bytes((MIXED_HEAD + body + long_line).encode("gb18030") + ROW.format(name="张伟").encode("utf-8"))
    with pytest.raises(UnreadableFile, match="line 43 is UTF-8"):
        detect_encoding(path)
    utf8_long = ("11010519491231002X," + "张伟" * 50 + ",2025-01-05,police\n").encode("utf-8")
    path.write_bytes((MIXED_HEAD + body).encode("gb18030") + utf8_long + body.encode("gb18030"))
    with pytest.raises(UnreadableFile, match="line 42 is UTF-8"):
        detect_encoding(path)


def test_the_utf8_copy_of_a_gb18030_file_is_private_in_scratch_and_gone_after(tmp_path, monkeypatch):
    import pipelines.ingest.readers as readers

    path = tmp_path / "f.csv"
    path.write_bytes(TEXT.encode("gb18030"))
    scratch = tmp_path / "scratch"
    seen = []
    real = readers._read_csv_utf8

    def spy(utf8, header):
        seen.append((utf8.parent, utf8.stat().st_mode & 0o777, scratch.stat().st_mode & 0o777))
        yield from real(utf8, header)

    monkeypatch.setattr(readers, "_read_csv_utf8", spy)
    fmt, batches = open_file(path, scratch=scratch)
    assert list(batches)[0].frame.row(0) == ("11010519491231002X", "张三", "退休金")
    assert seen == [(scratch, 0o600, 0o700)]
    assert list(scratch.iterdir()) == []


def test_without_scratch_the_copy_goes_to_a_private_temporary_folder_removed_after(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path = tmp_path / "f.csv"
    path.write_bytes(TEXT.encode("gb18030"))
    fmt, batches = open_file(path)
    first = next(batches)
    (folder,) = (tmp_path / "tmp").iterdir()
    (copy,) = folder.iterdir()
    assert folder.stat().st_mode & 0o777 == 0o700 and copy.stat().st_mode & 0o777 == 0o600
    assert first.frame.height == 1
    batches.close()  # stopped half-way, as when a run stops: the copy goes too
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_full_disk_while_transcoding_makes_the_file_unreadable_and_leaves_no_copy(tmp_path, monkeypatch):
    import errno

    import pipelines.ingest.readers as readers

    def disk_full(path, encoding, out):
        out.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(readers, "transcode_to_utf8", disk_full)
    path = tmp_path / "f.csv"
    path.write_bytes(TEXT.encode("gb18030"))
    scratch = tmp_path / "scratch"
    with pytest.raises(UnreadableFile, match="No space left on device"):
        collect_with(path, scratch)
    assert list(scratch.iterdir()) == []


def collect_with(path, scratch):
    _, batches = open_file(path, scratch=scratch)
    return list(batches)


def test_excerpts_are_short_one_line_and_free_of_control_characters():
    from pipelines.ingest.reasons import excerpt

    assert excerpt("a\tb\r\nc") == "a b c"
    assert excerpt("\x1b[2J\x1b]0;owned\x07red\u202eevil\u200b") == "[2J]0;ownedredevil"
    long = excerpt("x" * 5_000_000)
    assert len(long) == 120 and long.endswith("…")
    assert excerpt("名" * 119) == "名" * 119
