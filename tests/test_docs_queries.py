"""Analysts open the published file with the tool the README names, and every documented query is a tested example.

* The DuckDB command line of requirements.lock (`.venv/bin/duckdb`, duckdb-cli 1.5.x) opens what a run
  publishes: the file is written in the storage format it reads (`session.STORAGE_VERSION`), and a file of
  DuckDB 2.0's own format is rewritten by its next publication (docs/adr/0018-analyst-sql-shell.md).
* Every ```sql block of README.md and docs/analyst.md runs, read-only, on the database of a run over the
  sample inbox: from Python and through the command line; a ```text block right after it is exactly what the
  command line prints. Every `duckdb … "SELECT …"` line of a ```sh block runs through the command line, the
  Python example runs, and the case ids and finding sentences the docs quote are ones the sample produces.
  A block that breaks fails with its file and line.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from pipelines.warehouse.publication import publish_failed_run, remove_leftovers, rewrite_path
from pipelines.warehouse.session import STORAGE_VERSION, connect, ensure_schema, storage_version
from pipelines.warehouse.views import create_views
from tests.sample_run import ROOT, sample_database

DOCS = ("README.md", "docs/analyst.md")
DUCKDB_CLI = Path(sys.executable).with_name("duckdb")
PUBLISHED = "var/fundwatch.duckdb"  # the path the docs use; the tests put the sample run's database there

_FENCE = re.compile(r"^```(\w*)\s*$")


@dataclass(frozen=True)
class Block:
    """A fenced block of a document: its language, its text, and the line of its opening fence."""

    doc: str
    line: int
    lang: str
    text: str
    output: str | None = None  # a ```text block right after a ```sql block: what the command line prints

    def where(self) -> str:
        return f"{self.doc}:{self.line}"


@dataclass(frozen=True)
class ShellQuery:
    """A `duckdb …` command of a ```sh block: its arguments after the program, and where it is."""

    doc: str
    line: int
    args: tuple[str, ...]

    def where(self) -> str:
        return f"{self.doc}:{self.line}"


def fenced_blocks(doc: str, text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, each with the line (1-based) of its opening fence; a ```text
    block that follows a ```sql block with nothing but blank lines between is that block's output."""
    lines = text.splitlines()
    blocks: list[Block] = []
    closed_at = -1  # the line of the last block's closing fence
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        if end == len(lines):
            raise ValueError(f"{doc}:{i + 1}: a fenced block that is never closed")
        lang, body = opening.group(1), "\n".join(lines[i + 1 : end])
        previous = blocks[-1] if blocks else None
        follows = previous is not None and all(not line.strip() for line in lines[closed_at + 1 : i])
        if lang == "text" and follows and previous.lang == "sql" and previous.output is None:
            blocks[-1] = Block(previous.doc, previous.line, previous.lang, previous.text, body)
        else:
            blocks.append(Block(doc, i + 1, lang, body))
        closed_at = end
        i = end + 1
    return blocks


def shell_queries(block: Block) -> list[ShellQuery]:
    """The `duckdb …` / `.venv/bin/duckdb …` commands of a shell block."""
    found = []
    for offset, line in enumerate(block.text.splitlines(), start=1):
        words = shlex.split(line, comments=True)
        if words and Path(words[0]).name == "duckdb":
            found.append(ShellQuery(block.doc, block.line + offset, tuple(words[1:])))
    return found


def documented(lang: str) -> list[Block]:
    return [
        block
        for doc in DOCS
        for block in fenced_blocks(doc, (ROOT / doc).read_text(encoding="utf-8"))
        if block.lang == lang
    ]


SQL_BLOCKS = documented("sql")
SHELL_QUERIES = [query for block in documented("sh") for query in shell_queries(block)]
PYTHON_EXAMPLES = [block for block in documented("python") if "duckdb" in block.text]


def run_sql_block(con: duckdb.DuckDBPyConnection, block: Block) -> list[tuple]:
    """Run a documented block; a failure names the file and line of the block."""
    try:
        return con.execute(block.text).fetchall()
    except duckdb.Error as err:
        raise AssertionError(f"{block.where()}: the documented query fails: {err}\n{block.text}") from None


def cli(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The DuckDB command line on `db`, read-only, as an analyst runs it (no ~/.duckdbrc)."""
    assert DUCKDB_CLI.exists(), f"{DUCKDB_CLI} missing: install requirements.lock (duckdb-cli)"
    return subprocess.run(
        [str(DUCKDB_CLI), "-no-init", "-readonly", str(db), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def cli_value(db: Path, sql: str) -> str:
    done = cli(db, "-csv", "-noheader", "-c", sql)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# ---- the extraction itself (no database needed) ------------------------------------------------------------


def test_blocks_are_found_with_the_line_of_their_fence_and_their_output(tmp_path: Path) -> None:
    text = (
        "# t\n"  # 1
        "\n"  # 2
        "```sql\n"  # 3
        "SELECT 1;\n"  # 4
        "```\n"  # 5
        "\n"  # 6
        "```text\n"  # 7
        "out\n"  # 8
        "```\n"  # 9
        "```sh\n"  # 10
        "ls\n"  # 11
        'duckdb -readonly var/fundwatch.duckdb "SELECT 2"   # a comment\n'  # 12
        "```\n"  # 13
        "words\n"  # 14
        "```text\n"  # 15: not right after a query: not an output
        "x\n"
        "```\n"
    )
    blocks = fenced_blocks("t.md", text)
    assert [(b.lang, b.line, b.text, b.output) for b in blocks] == [
        ("sql", 3, "SELECT 1;", "out"),
        ("sh", 10, 'ls\nduckdb -readonly var/fundwatch.duckdb "SELECT 2"   # a comment', None),
        ("text", 15, "x", None),
    ]
    assert shell_queries(blocks[1]) == [ShellQuery("t.md", 12, ("-readonly", PUBLISHED, "SELECT 2"))]
    with pytest.raises(ValueError, match="t.md:1"):
        fenced_blocks("t.md", "```sql\nSELECT 1\n")


def test_a_broken_block_fails_with_its_file_and_line() -> None:
    con = duckdb.connect()
    try:
        broken = Block("docs/analyst.md", 42, "sql", "SELECT nonsense FROM v_top_amounts;")
        with pytest.raises(AssertionError, match=r"^docs/analyst.md:42: the documented query fails: .*v_top_amounts"):
            run_sql_block(con, broken)
        assert run_sql_block(con, Block("README.md", 7, "sql", "SELECT 1 AS x;")) == [(1,)]
    finally:
        con.close()


def test_the_docs_document_queries_of_every_view() -> None:
    assert {b.doc for b in SQL_BLOCKS} == set(DOCS)
    assert SHELL_QUERIES and PYTHON_EXAMPLES
    analyst = "\n".join(b.text for b in SQL_BLOCKS if b.doc == "docs/analyst.md")
    connection = duckdb.connect()
    try:
        ensure_schema(connection)
        views = create_views(connection)
    finally:
        connection.close()
    assert [v for v in views if v not in analyst] == []


# ---- the file a run publishes, for the command line (fast: no run) ------------------------------------------


def test_a_new_file_is_written_in_the_storage_version_the_command_line_reads(tmp_path: Path) -> None:
    db = tmp_path / "fw.duckdb"
    con = connect(db)
    try:
        assert storage_version(con) == STORAGE_VERSION
        con.execute("INSERT INTO runs (run_id, as_of, started_at, status) VALUES ('R1', DATE '2026-11-27', now(), 'x')")
        create_views(con)
    finally:
        con.close()
    assert cli_value(db, "SELECT count(*) FROM runs") == "1"
    assert cli_value(db, "SELECT mask_id('330102199001011234')") == "330102********1234"


def test_a_file_of_duckdb_2_storage_is_rewritten_by_its_next_publication(tmp_path: Path) -> None:
    db = tmp_path / "fw.duckdb"
    old = duckdb.connect(str(db))  # DuckDB 2.0's own format, as fundwatch published before
    try:
        ensure_schema(old)
        old.execute(
            "INSERT INTO suspects (suspect_id, rule, subject_id, amount_at_risk, first_seen, last_seen, active, "
            "first_run_id, last_run_id, status) VALUES ('S1', 'DECEASED_PAID', '330102199001011234', 12.34, "
            "DATE '2026-11-01', DATE '2026-11-01', true, 'R0', 'R0', 'open')"
        )
        create_views(old)
        assert storage_version(old) == "v2.0.0"
    finally:
        old.close()
    refused = cli(db, "-c", "SELECT 1")
    assert refused.returncode != 0 and "version number" in refused.stderr
    os.chmod(db, 0o640)

    started = dt.datetime(2026, 11, 27, 2, tzinfo=ZoneInfo("Asia/Shanghai"))
    publish_failed_run(db, "R1", dt.date(2026, 11, 27), "inbox", started, "boom", memory_limit="1GB")

    assert cli_value(db, "SELECT suspect_id || ' ' || amount_at_risk FROM suspects") == "S1 12.34"
    assert cli_value(db, "SELECT run_id || ' ' || status FROM runs") == "R1 failed"
    assert cli_value(db, "SELECT subject_id FROM v_top_amounts") == "330102********1234"
    assert db.stat().st_mode & 0o777 == 0o640
    assert not rewrite_path(db.with_name(db.name + ".building")).exists()
    with duckdb.connect(str(db), read_only=True) as con:
        assert storage_version(con) == STORAGE_VERSION
        # the primary key came along
        keys = "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'suspects' AND constraint_type = ?"
        assert con.execute(keys, ["PRIMARY KEY"]).fetchone() == (1,)


def test_a_half_rewritten_file_of_a_killed_run_is_a_leftover(tmp_path: Path) -> None:
    db = tmp_path / "fw.duckdb"
    leftover = rewrite_path(db.with_name(db.name + ".building"))
    leftover.write_bytes(b"half")
    assert leftover in remove_leftovers(db) and not leftover.exists()


# ---- the sample run: every documented query --------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_database(tmp_path_factory)


@pytest.mark.slow
def test_the_command_line_opens_the_published_file_read_only(sample_db: Path) -> None:
    with duckdb.connect(str(sample_db), read_only=True) as con:
        # every table of every schema (the datasets, and the evidence lookup's copies of their rows) and view
        relations = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal ORDER BY ALL"
        ).fetchall()
        counts = {
            f"{schema}.{name}": con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0]
            for schema, name in relations
        }
    suspects = counts["main.suspects"]
    assert suspects > 0 and counts["evidence_lookup.person_names"] > 0
    # `duckdb -readonly var/fundwatch.duckdb` as the README says, a query typed in; a write is refused
    session = cli(sample_db, stdin="SELECT count(*) AS n FROM suspects;\n")
    assert session.returncode == 0, session.stderr
    assert re.search(rf"│\s+{suspects}\s+│", session.stdout), session.stdout
    refused = cli(sample_db, stdin="CREATE TABLE mine (x INTEGER);\n")
    assert "read-only" in refused.stderr
    # every table and every view (macros and all) reads the same through the command line as from Python
    union = " UNION ALL ".join(
        f'SELECT \'{schema}.{name}\', count(*) FROM "{schema}"."{name}"' for schema, name in relations
    )
    got = dict(line.split(",") for line in cli_value(sample_db, union).splitlines())
    assert {name: int(n) for name, n in got.items()} == counts


@pytest.mark.slow
@pytest.mark.parametrize("block", SQL_BLOCKS, ids=Block.where)
def test_every_documented_sql_block_runs(sample_db: Path, block: Block) -> None:
    with duckdb.connect(str(sample_db), read_only=True) as con:
        run_sql_block(con, block)
    done = cli(sample_db, "-c", block.text)
    assert done.returncode == 0, f"{block.where()}: fails in the DuckDB command line: {done.stderr}"
    if block.output is not None:
        assert done.stdout.rstrip("\n") == block.output, (
            f"{block.where()}: the output shown is not what the query prints on the sample; it prints\n{done.stdout}"
        )


@pytest.mark.slow
@pytest.mark.parametrize("query", SHELL_QUERIES, ids=ShellQuery.where)
def test_every_documented_duckdb_command_runs(sample_db: Path, query: ShellQuery) -> None:
    args = [a for a in query.args if a != "-readonly"]  # cli() opens it read-only in every case
    assert PUBLISHED in args, f"{query.where()}: expected the published file {PUBLISHED}"
    args[args.index(PUBLISHED)] = str(sample_db)
    done = subprocess.run(
        [str(DUCKDB_CLI), "-no-init", "-readonly", *args],
        input="SELECT count(*) FROM suspects;\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and not done.stderr, f"{query.where()}: {shlex.join(query.args)}\n{done.stderr}"
    assert done.stdout.strip(), f"{query.where()}: printed nothing"


@pytest.mark.slow
@pytest.mark.parametrize("block", PYTHON_EXAMPLES, ids=Block.where)
def test_the_python_example_runs(sample_db: Path, block: Block) -> None:
    assert f'"{PUBLISHED}"' in block.text, block.where()
    code = block.text.replace(f'"{PUBLISHED}"', repr(str(sample_db)))
    namespace: dict[str, object] = {}
    try:
        exec(compile(code, block.where(), "exec"), namespace)  # noqa: S102 - the docs' own example
    except Exception as err:
        raise AssertionError(f"{block.where()}: the Python example fails: {err!r}") from err
    finally:
        con = namespace.get("con")
        if isinstance(con, duckdb.DuckDBPyConnection):
            con.close()


_CASE_ID = re.compile(r"\bSP-[0-9a-f]{16}\b")
# A finding's one-sentence evidence quoted in the docs: inline code ending in an amount in yuan.
_SUMMARY = re.compile(r"`([^`\n]*[\u4e00-\u9fff][^`\n]*\d{1,3}(?:,\d{3})*\.\d{2}元)`")


@pytest.mark.slow
def test_case_ids_and_findings_quoted_in_the_docs_are_the_samples(sample_db: Path) -> None:
    with duckdb.connect(str(sample_db), read_only=True) as con:
        ids = {r[0] for r in con.execute("SELECT suspect_id FROM suspects").fetchall()}
        summaries = {
            r[0] for r in con.execute("SELECT summary FROM suspects UNION SELECT summary FROM v_top_amounts").fetchall()
        }
    wrong = []
    for doc in DOCS:
        for number, line in enumerate((ROOT / doc).read_text(encoding="utf-8").splitlines(), start=1):
            wrong += [f"{doc}:{number}: case {case}" for case in _CASE_ID.findall(line) if case not in ids]
            wrong += [f"{doc}:{number}: finding {text}" for text in _SUMMARY.findall(line) if text not in summaries]
    assert wrong == []
