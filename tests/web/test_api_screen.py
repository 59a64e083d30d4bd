"""POST /api/screen, the screening service of the agency's payment system (issue 15, item 3; CONTRACT.md section 7).

On a real `fundwatch web` over the workbench's world (its server log read as an operator would): a call without a
token, with a wrong one and with a revoked one is refused (401, a JSON error) and logged as refused; a valid call
answers the same rows `service.screen` gives for the same batch, records the screening (channel api, by the
token) and the call, and its log line names the token and the counts but no citizen ID. A body that is not JSON
lines, or lacks a required column, is a 400 naming the line or the column. A session cookie is no API token, and
the route takes no CSRF token while the pages still ask for one.

`apiscreen.PublishedFile` in-process: one read-only connection per published file version, reopened after a
swap, the replaced one closed once the last call reading it has finished.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import polars as pl
import pytest

from pipelines.app.commands import screen as screen_command
from pipelines.cases import register as reg
from pipelines.cases import tokens
from pipelines.screen import service
from pipelines.screen.batch import from_records, records_of
from pipelines.warehouse.session import reader
from pipelines.web import apiscreen
from tests.cases.test_evidence import A
from tests.web.conftest import PASSWORD, SCREENING_BATCH, World, api_token, batch_payment, csrf, make_world
from tests.web.serving import workbench

ROOT = Path(__file__).resolve().parents[2]
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
API_LINE = re.compile(r"POST /api/screen (\d{3}) (\d+)ms (.*)$", re.M)


BATCH = SCREENING_BATCH  # line 1 passes, 2 and 3 are DECEASED, 4 INVALID
payment = batch_payment
CHINESE = {
    "payment_id": "发放流水号",
    "person_id": "公民身份号码",
    "region_code": "统筹区编码",
    "scheme": "险种类型",
    "benefit_type": "待遇类型",
    "period": "待遇所属期",
    "amount": "发放金额",
    "bank_account": "银行账号",
}


def body_of(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


@dataclass
class Served:
    world: World
    base: str
    log: Path
    token: str
    revoked: str

    def log_lines(self) -> list[tuple[int, int, str]]:
        return [(int(s), int(ms), rest.strip()) for s, ms, rest in API_LINE.findall(self.log.read_text())]

    def calls(self) -> list[dict]:
        with reg.reader(self.world.register) as con:
            return [dict(r) for r in con.execute("SELECT * FROM api_calls ORDER BY call_id")]

    def post(self, body: bytes, token: str | None, **headers: str) -> httpx.Response:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.post(f"{self.base}/api/screen", content=body, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def served(tmp_path_factory, published) -> Iterator[Served]:
    """The world with two API tokens (one revoked), `fundwatch web` serving it for real; its log."""
    folder = tmp_path_factory.mktemp("api-screen")
    world = make_world(folder, published)
    with reg.writer(world.register) as con:
        token = tokens.create(con, "ADM", "paysys")
        revoked = tokens.create(con, "ADM", "oldsys")
        tokens.revoke(con, "ADM", "oldsys", "系统下线 retired")
    log = folder / "server.log"
    with workbench(world.db, log) as base:
        yield Served(world, base, log, token, revoked)


@pytest.mark.slow
@pytest.mark.parametrize("given", ["missing", "wrong", "revoked", "not bearer"])
def test_a_call_without_a_valid_token_is_refused_and_logged(served: Served, given: str):
    before = len(served.calls())
    token = {"missing": None, "wrong": "not-a-token-" + "x" * 30, "revoked": served.revoked}.get(given)
    headers = {"Authorization": f"Basic {served.token}"} if given == "not bearer" else {}
    answer = served.post(body_of(BATCH), token, **headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert "令牌" in answer.json()["error"] and "set-cookie" not in answer.headers
    calls = served.calls()[before:]
    assert [(c["token_name"], c["outcome"], c["rows"], c["screening_id"]) for c in calls] == [
        ("-", "refused", None, None)
    ]
    assert calls[0]["remote"] == "127.0.0.1"
    assert served.log_lines()[-1][0] == 401 and served.log_lines()[-1][2] == "token=- refused"
    with reg.reader(served.world.register) as con:  # nothing was screened
        assert con.execute("SELECT count(*) FROM screenings WHERE channel = 'api'").fetchone()[0] == len(
            [c for c in served.calls() if c["outcome"] == "ok"]
        )


@pytest.mark.slow
def test_a_valid_call_answers_the_rows_service_screen_gives_and_is_recorded(served: Served):
    body = body_of(BATCH)
    answer = served.post(body, served.token, **{"Content-Type": "application/x-ndjson"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    assert "set-cookie" not in answer.headers
    rows = [json.loads(line) for line in answer.text.splitlines()]
    assert [list(r) for r in rows] == [list(apiscreen.RESULT_COLUMNS)] * len(BATCH)

    calls = served.calls()
    call = calls[-1]
    assert (call["token_name"], call["outcome"], call["rows"], call["held"]) == ("paysys", "ok", 4, 3)
    with reg.reader(served.world.register) as con:
        recorded = dict(
            con.execute("SELECT * FROM screenings WHERE screening_id = ?", [call["screening_id"]]).fetchone()
        )
        held = con.execute(
            "SELECT line, reasons FROM screening_holds WHERE screening_id = ? ORDER BY line", [call["screening_id"]]
        ).fetchall()
        listed = service.blacklist_in_force(con)
    assert (recorded["channel"], recorded["screened_by"], recorded["batch_file"]) == ("api", "token:paysys", "api")
    assert (recorded["rows"], recorded["held"]) == (4, 3)
    assert [tuple(h) for h in held] == [(r["line"], r["reasons"]) for r in rows if r["verdict"] == "hold"]

    # the same rows as the screening function itself gives for the same batch, on the same day and file
    as_of = dt.date.fromisoformat(recorded["as_of"])
    batch = from_records(records_of(body.decode().splitlines()), as_of, "test")
    with reader(served.world.db, memory_limit="256MB") as duck:
        expected = service.screen(batch, duck, listed, as_of).results
    assert rows == json.loads("[" + ",".join(apiscreen.result_lines(expected).decode().splitlines()) + "]")
    by_line = {r["line"]: r for r in rows}
    assert by_line[1]["verdict"] == "pass" and by_line[1]["reasons"] is None
    assert by_line[2]["reasons"] == "DECEASED" and "死亡" in by_line[2]["explanation"]
    assert by_line[2]["amount"] == "1234.56" and by_line[1]["amount"] == "900.00"  # exact text, not a float
    assert by_line[4]["reasons"] == "INVALID" and by_line[4]["verdict"] == "hold"

    status, _, said = served.log_lines()[-1]
    assert status == 200 and said == "token=paysys rows=4 held=3"
    assert not FULL_ID.search(served.log.read_text())  # never an ID in the server's log


@pytest.mark.slow
def test_chinese_keys_answer_as_english_ones(served: Served):
    english = served.post(body_of(BATCH[:2]), served.token)
    chinese = served.post(body_of([{CHINESE[k]: v for k, v in r.items()} for r in BATCH[:2]]), served.token)
    assert english.status_code == chinese.status_code == 200, chinese.text
    assert english.text == chinese.text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "said"),
    [
        (body_of(BATCH[:1]) + b'{"payment_id": "API9",\n', "第2行"),  # not JSON on line 2
        (body_of(BATCH[:1]) + b"[1, 2]\n", "第2行"),  # not a JSON object
        (body_of([{k: v for k, v in r.items() if k != "amount"} for r in BATCH]), "amount"),  # a column missing
        (b"", "请求体为空"),
        (b"\xff\xfe{}\n", "UTF-8"),
    ],
)
def test_a_body_that_cannot_be_screened_is_a_400_naming_the_line_or_column(served: Served, body: bytes, said: str):
    answer = served.post(body, served.token)
    assert answer.status_code == 400
    assert said in answer.json()["error"]
    call = served.calls()[-1]
    assert (call["token_name"], call["outcome"], call["screening_id"]) == ("paysys", "error", None)
    assert served.log_lines()[-1][0] == 400 and served.log_lines()[-1][2] == "token=paysys error"


@pytest.mark.slow
def test_a_session_is_no_token_and_the_pages_still_want_their_csrf_token(served: Served):
    with httpx.Client(base_url=served.base, follow_redirects=False, timeout=60) as browser:
        login = browser.get("/login")
        done = browser.post("/login", data={"staff_id": "chief", "password": PASSWORD, "csrf": csrf(login.text)})
        assert done.status_code == 303
        assert browser.post("/api/screen", content=body_of(BATCH)).status_code == 401  # the cookie is sent
        # a page's form without its CSRF token is still refused; with it, it is done
        assert browser.post("/blacklist/add", data={"kind": "account", "key": "6217", "reason": "x"}).status_code == 403
        token = csrf(browser.get("/blacklist").text)
        form = {"kind": "account", "key": "6217000088880001", "reason": "测试 test", "csrf": token}
        assert browser.post("/blacklist/add", data=form).status_code == 303
    # the API with a token needs no CSRF token nor cookie; the listed account is held
    record = payment(7, A, amount="900.00", bank_account="6217000088880001")
    answer = served.post(body_of([record]), served.token)
    assert answer.status_code == 200 and json.loads(answer.text)["reasons"] == "BLACKLISTED"


# ---- one connection per published file version (in-process) ---------------------------------------------------


def _runs_in(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT count(*) FROM runs").fetchone()[0])


def test_the_published_file_is_opened_once_per_version_and_reopened_after_a_swap(tmp_path, published):
    world = make_world(tmp_path, published)
    files = apiscreen.PublishedFile(world.db, "256MB")
    with files.session() as first:
        before = _runs_in(first)
    with files.session() as second:
        assert _runs_in(second) == before
    assert files.opened == 1

    # the next file is built beside it and renamed over it, as a run publishes (ADR 0008)
    building = tmp_path / "next.duckdb"
    shutil.copy(world.db, building)
    con = duckdb.connect(str(building))
    con.execute(
        "INSERT INTO runs (run_id, as_of, started_at, finished_at, status) VALUES"
        " ('R-next', DATE '2026-01-15', now(), now(), 'succeeded')"
    )
    con.close()
    with files.session() as during:  # a call that began before the swap keeps reading the file it opened
        replaced = files._current
        os.replace(building, world.db)
        assert _runs_in(during) == before
        with files.session() as after:
            assert _runs_in(after) == before + 1
        assert files.opened == 2
        assert replaced is not None and not replaced.closed  # still read by `during`
        assert _runs_in(during) == before
    assert replaced.closed  # closed when its last reader finished
    with files.session() as later:
        assert _runs_in(later) == before + 1
    assert files.opened == 2
    files.close()
    with pytest.raises(FileNotFoundError):
        apiscreen.PublishedFile(tmp_path / "none.duckdb", "256MB")._acquire()


def test_without_a_published_file_a_call_is_a_503_and_logged(tmp_path, published):
    world = make_world(tmp_path, published)
    token = api_token(world)
    world.db.unlink()
    answer = world.client().post("/api/screen", content=body_of(BATCH), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and "没有已发布的数据库" in answer.json()["error"]
    with reg.reader(world.register) as con:
        calls = [tuple(r) for r in con.execute("SELECT token_name, outcome, screening_id FROM api_calls")]
        assert con.execute("SELECT count(*) FROM screenings").fetchone()[0] == 0
    assert calls == [("paysys", "error", None)]


def test_calls_at_the_same_time_share_the_one_connection(tmp_path, published):
    world = make_world(tmp_path, published)
    files = apiscreen.PublishedFile(world.db, "256MB")
    with files.session() as con:
        expected = _runs_in(con), int(con.execute("SELECT count(*) FROM benefit_payments").fetchone()[0])

    def call(_: int) -> tuple[int, int]:
        with files.session() as con:
            return _runs_in(con), int(con.execute("SELECT count(*) FROM benefit_payments").fetchone()[0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(call, range(40)))
    assert answers == [expected] * 40 and files.opened == 1
    current = files._current
    assert current is not None and current.users == 0
    files.close()
    assert current.closed


def test_results_are_json_lines_with_exact_amounts_and_the_columns_of_the_result_file():
    assert apiscreen.RESULT_COLUMNS == screen_command.OUTPUT_COLUMNS
    frame = pl.DataFrame(
        {c: [None] for c in service.RESULT_COLUMNS if c not in ("line", "amount")}
        | {"line": [1], "amount": pl.Series([None], dtype=pl.Decimal(18, 2))}
    ).select(service.RESULT_COLUMNS)
    frame = pl.concat(
        [
            frame,
            frame.with_columns(
                pl.lit(2, dtype=pl.Int64).alias("line"), pl.lit(3210).cast(pl.Decimal(18, 2)).alias("amount")
            ),
        ]
    )
    lines = [json.loads(x) for x in apiscreen.result_lines(frame).decode().splitlines()]
    assert [x["amount"] for x in lines] == [None, "3210.00"]
    assert "bank_account" not in lines[0] and list(lines[0]) == list(apiscreen.RESULT_COLUMNS)
    assert apiscreen.bearer_token("Bearer  abc ") == "abc" and apiscreen.bearer_token("Basic abc") is None
    assert apiscreen.bearer_token(None) is None and apiscreen.bearer_token("Bearer") is None
