"""Pages keep answering while a nightly run publishes, and a run is never held up by a reader (issue 13, "done
when": "it never blocks a nightly run and a run never blocks it").

As users meet it: the sample's published file and register (a real `fundwatch run` over data_samples/), staff
made with `fundwatch staff`, the real `fundwatch web` serving them on a loopback port, a chief and an auditor
logged in. Then a second `fundwatch run` over the same inbox, a week later (so detection runs again, the cases are
synced and a new file is swapped in), and while it works the chief asks for the queue, a case with its evidence,
the overview, data quality and a person's picture one after another, and the auditor does the same at the same
time. Every answer is recorded with its status, its time and whether the published file had been swapped yet (its
inode, watched beside the loop).

The other way round: a read-only session held open on the published file for the whole run, the way the
workbench opens it (`pipelines.warehouse.session.reader`), does not make the run fail, wait or refuse; it keeps
reading the earlier file, and a session opened after the swap, in the same process or another, reads the new one
(docs/adr/0008-publication-by-atomic-swap.md).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

from pipelines.cases import register as reg
from pipelines.cases.staff import os_user
from pipelines.warehouse.session import STORAGE_VERSION, catalog_name, connect, reader, storage_version
from tests.sample_run import ROOT, SAMPLES, sample_database
from tests.web.serving import free_port, wait_until_serving

LATER = "2026-12-04"  # a week after the sample's as-of (tests/sample_run.py): detection cannot carry forward
PASSWORD = "a long chief password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
UNAVAILABLE = re.compile(r"(?:evidence|data) unavailable: ?([^<]*)")
SLOWEST_ANSWER = 10.0  # seconds: a page held up by the run would wait for the whole run (a minute and more)
ENOUGH_DURING_RUN = 20  # answers while the run's process was alive and before its swap
RUN_TIMEOUT = 900  # seconds


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "FUNDWATCH_CRASH_AT"}
    return env | extra


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=_env(),
    )


def _start(args: list[str], out: IO[str], env: dict[str, str]) -> subprocess.Popen:
    """A `fundwatch` command as its own process group, output to a file (a pipe left unread would fill and stall
    the server, whose log has a line per request)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines", *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _tail(out: IO[str]) -> str:
    out.seek(0)
    return out.read()[-4000:]


def _start_run(db: Path, out: IO[str]) -> subprocess.Popen:
    args = ["run", "--inbox", str(SAMPLES), "--db", str(db), "--as-of", LATER]
    return _start(args, out, _env())


def _runs(db: Path) -> list[tuple[str, str, bool]]:
    with reader(db, memory_limit="256MB") as con:
        rows = con.execute("SELECT run_id, status, rules_skipped FROM runs ORDER BY started_at").fetchall()
    return [(str(r), str(s), bool(k)) for r, s, k in rows]


@pytest.fixture
def published(tmp_path, tmp_path_factory) -> Path:
    """A copy of the sample run's published file and its register: this test's own."""
    shared = sample_database(tmp_path_factory)
    db = tmp_path / shared.name
    shutil.copy2(shared, db)
    shutil.copy2(reg.register_path_for(shared), reg.register_path_for(db))
    return db


def _staff_up(db: Path) -> None:
    """The first admin (this OS account), then a chief and an auditor with passwords the admin sets:
    `fundwatch staff --db DB add|passwd …` (docs/workbench.md)."""
    steps = [
        (["add", "ADM", "--name", "管理员", "--role", "admin", "--os-user", os_user()], None),
        (["add", "C01", "--name", "王科长", "--role", "chief"], None),
        (["add", "AUD", "--name", "审计员", "--role", "auditor"], None),
        (["passwd", "C01", "--password-stdin"], PASSWORD + "\n"),
        (["passwd", "AUD", "--password-stdin"], PASSWORD + "\n"),
    ]
    for args, stdin in steps:
        done = _cli("staff", "--db", str(db), *args, stdin=stdin)
        assert done.returncode == 0, (args, done.stdout + done.stderr)


@dataclass(frozen=True)
class Answer:
    who: str
    page: str
    started: float  # time.monotonic()
    seconds: float
    status: int
    unavailable: str | None  # what the page said instead of its data from the published file
    run_alive: bool  # the run's process was alive when the request was sent
    text: str

    @property
    def ended(self) -> float:
        return self.started + self.seconds


class Official:
    """A logged-in browser, asking for one page after another."""

    def __init__(self, base: str, staff_id: str, sid: str) -> None:
        self.client = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
        self.staff_id, self.sid = staff_id, sid
        login = self.client.get("/login")
        assert login.status_code == 200, login.text
        form = {"staff_id": staff_id, "password": PASSWORD, "csrf": CSRF.search(login.text).group(1)}
        done = self.client.post("/login", data=form)
        assert done.status_code == 303, done.text
        page = self.client.get(f"/case/{sid}")
        assert page.status_code == 200, page.text
        self.csrf = CSRF.search(page.text).group(1)  # the session's token, on every form of the page

    def requests(self) -> list[tuple[str, str, str, dict[str, str] | None]]:
        """(name, method, path, form) of one round of pages."""
        return [
            ("queue", "GET", "/queue", None),
            ("case", "GET", f"/case/{self.sid}", None),
            ("overview", "GET", "/overview", None),
            ("quality", "GET", "/quality", None),
            ("person", "POST", "/person", {"csrf": self.csrf, "case": self.sid}),
        ]

    def ask(self, name: str, method: str, path: str, form, run_alive: bool) -> Answer:
        started = time.monotonic()
        response = self.client.request(method, path, data=form)
        seconds = time.monotonic() - started
        said = UNAVAILABLE.search(response.text)
        unavailable = said.group(0) if said else None
        status, text = response.status_code, response.text
        return Answer(self.staff_id, name, started, seconds, status, unavailable, run_alive, text)

    def round(self, run_alive: bool) -> list[Answer]:
        return [self.ask(*request, run_alive) for request in self.requests()]


class Alongside(threading.Thread):
    """A second official asking for pages round after round until told to stop (requests that overlap)."""

    def __init__(self, official: Official, run_alive) -> None:
        super().__init__(daemon=True)
        self.official, self.run_alive = official, run_alive
        self.answers: list[Answer] = []
        self.error: BaseException | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                for request in self.official.requests():
                    self.answers.append(self.official.ask(*request, run_alive=self.run_alive()))
        except BaseException as err:  # re-raised by the test
            self.error = err


class SwapWatch(threading.Thread):
    """Watches the published file's inode: the moment the run's `os.replace` swaps a new file in."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.inode = db.stat().st_ino
        self.swapped_at: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set() and self.swapped_at is None:
            if self.db.stat().st_ino != self.inode:
                self.swapped_at = time.monotonic()
            time.sleep(0.005)


def _check_page(answer: Answer, sid: str) -> None:
    """The page shows what it is for (or says, in its own words, that the published data are unavailable)."""
    expected = {
        "queue": ["案件队列 case queue"],
        "case": [f"案件 case {sid}"],
        "overview": ["概览 overview"],
        "quality": ["运行记录 run history"],
        "person": ["人员全貌", f'href="/case/{sid}"'],  # the person's findings, this case among them
    }[answer.page]
    if answer.unavailable is None:  # what is read from the published file
        read = {"case": ['<td class="source">'], "person": ["参保经历 enrollment spells"]}  # rows with their file:line
        expected += read.get(answer.page, [])
    missing = [e for e in expected if e not in answer.text]
    assert not missing, (answer.who, answer.page, missing, answer.text[-3000:])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@pytest.mark.slow  # two real runs through Prefect (the shared sample's, then one more) and a server
def test_pages_keep_answering_while_a_nightly_run_publishes(published, tmp_path):
    db = published
    _staff_up(db)
    with reg.reader(reg.register_path_for(db)) as con:
        sid = con.execute(
            "SELECT suspect_id FROM cases WHERE rule = 'DECEASED_PAID' AND person_id IS NOT NULL ORDER BY suspect_id"
        ).fetchone()[0]
    runs_before = _runs(db)
    port = free_port()
    server_out = tempfile.TemporaryFile("w+", dir=tmp_path)
    run_out = tempfile.TemporaryFile("w+", dir=tmp_path)
    server = _start(
        ["web", "--db", str(db), "--port", str(port)], server_out, _env(FUNDWATCH_DUCKDB_MEMORY_LIMIT="256MB")
    )
    run: subprocess.Popen | None = None
    auditor: Alongside | None = None
    answers: list[Answer] = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(server, base, lambda: _tail(server_out))
        chief = Official(base, "C01", sid)
        answers += chief.round(run_alive=False)  # before the run
        auditor = Alongside(Official(base, "AUD", sid), lambda: run is not None and run.poll() is None)
        auditor.start()

        watch = SwapWatch(db)
        watch.start()
        run_started = time.monotonic()
        run = _start_run(db, run_out)
        while run.poll() is None:
            assert time.monotonic() - run_started < RUN_TIMEOUT, "the run did not end: " + _tail(run_out)
            for request in chief.requests():
                answers.append(chief.ask(*request, run_alive=run.poll() is None))
        run_seconds = time.monotonic() - run_started
        watch.done.set()
        watch.join()
        answers += chief.round(run_alive=False)  # after it
    finally:
        if auditor is not None:
            auditor.stop.set()
            auditor.join(timeout=120)
        if run is not None:
            _stop(run, signal.SIGTERM)
        _stop(server, signal.SIGINT)
    assert auditor.error is None, repr(auditor.error)

    # The run did its work and published it.
    assert run.returncode in (0, 1), f"run exit {run.returncode} (3 failed, 4 busy): " + _tail(run_out)
    assert watch.swapped_at is not None, "the run ended without swapping a new file in"
    runs_after = _runs(db)
    assert runs_after[: len(runs_before)] == runs_before and len(runs_after) == len(runs_before) + 1, runs_after
    new_run, new_status, rules_skipped = runs_after[-1]
    assert new_status in ("succeeded", "bad_input") and not rules_skipped, runs_after[-1]

    # Every page answered, each in its own words, and none waited for the run.
    everyone = answers + auditor.answers
    for answer in everyone:
        assert answer.status == 200, (answer.who, answer.page, answer.status, answer.text[:2000])
        _check_page(answer, sid)
    slowest = max(everyone, key=lambda a: a.seconds)
    assert slowest.seconds < SLOWEST_ANSWER, (slowest.page, slowest.seconds, f"run took {run_seconds:.1f} s")

    # The chief asked throughout the run: many times before its swap, around it, and after it.
    swap = watch.swapped_at
    before_swap = [a for a in answers if a.run_alive and a.ended < swap]
    after_swap = [a for a in answers if a.started > swap]
    spanning = [a for a in answers if a.started <= swap <= a.ended]
    assert len(before_swap) >= ENOUGH_DURING_RUN, (len(before_swap), run_seconds)
    assert {a.page for a in after_swap} == {"queue", "case", "overview", "quality", "person"}, after_swap
    # The swap fell inside the chief's stream of requests: nothing but the one then in flight between the last
    # answer before it and the first request after it.
    gap = min(a.started for a in after_swap) - max(a.ended for a in before_swap)
    assert gap < SLOWEST_ANSWER and len(spanning) <= 1, (gap, spanning)
    assert sum(a.run_alive for a in auditor.answers) >= ENOUGH_DURING_RUN, len(auditor.answers)

    # The pages show an earlier or a newer state, whole: the run history names the new run only after the swap,
    # and every page asked after the swap names it, whatever the other official's request in flight still reads
    # (the last test below makes that overlap certain).
    for answer in (a for a in everyone if a.page == "quality"):
        if answer.ended < swap:
            assert new_run not in answer.text, (answer.who, "a page showed the new run before its swap")
        if answer.started > swap:
            assert new_run in answer.text, (answer.who, answer.started - swap, "asked after the swap: no new run")

    # "The database is busy" (or any other word that the published data could not be read) was never said.
    unavailable = [(a.page, a.unavailable) for a in everyone if a.unavailable]
    during = [a for a in everyone if a.run_alive]
    latencies = [a.seconds for a in during]
    p50, p95 = (_percentile(latencies, share) * 1000 for share in (0.5, 0.95))
    print(
        f"\nrun {run_seconds:.1f} s (exit {run.returncode}); {len(everyone)} answers, {len(during)} while the run"
        f" was alive (chief: {len(before_swap)} before its swap, {len(spanning)} spanning it, {len(after_swap)} after"
        f" it; auditor alongside: {len(auditor.answers)}); during the run p50 {p50:.0f} ms, p95 {p95:.0f} ms, max"
        f" {max(latencies) * 1000:.0f} ms ({slowest.page}); unavailable: {len(unavailable)} {unavailable[:5]}"
    )
    assert not unavailable, unavailable


@pytest.mark.slow  # two real runs through Prefect (the shared sample's, then one more)
def test_a_reader_held_open_across_a_run_neither_fails_nor_holds_up_the_run(published, tmp_path):
    db = published
    runs_before = _runs(db)
    run_out = tempfile.TemporaryFile("w+", dir=tmp_path)
    # Opened the way the workbench opens the published file, and held for the whole run (an analyst's session).
    with reader(db, memory_limit="256MB") as held:
        count = "SELECT count(*) FROM runs"
        assert held.execute(count).fetchone()[0] == len(runs_before)
        run = _start_run(db, run_out)
        try:
            reads = 0
            while run.poll() is None:
                # The held session keeps answering while the run works, from the earlier file.
                assert held.execute(count).fetchone()[0] == len(runs_before)
                reads += 1
                time.sleep(0.2)
            run.wait(timeout=RUN_TIMEOUT)
        finally:
            _stop(run, signal.SIGTERM)
        assert run.returncode in (0, 1), f"run exit {run.returncode} (3 failed, 4 busy): " + _tail(run_out)
        # ADR 0008: a session opened before the swap keeps reading the earlier file until it reconnects ...
        assert held.execute(count).fetchone()[0] == len(runs_before)
        assert reads > 0
        # ... while one opened now reads the new one: in this process (as the workbench's next request) and in
        # another (an analyst's `fundwatch runs`).
        runs_after = _runs(db)
        listed = _cli("runs", "--db", str(db))
        assert listed.returncode == 0, listed.stdout + listed.stderr
    assert len(runs_after) == len(runs_before) + 1 and runs_after[-1][1] in ("succeeded", "bad_input"), runs_after
    assert runs_after[-1][0] in listed.stdout and LATER in listed.stdout, listed.stdout
    assert not any(db.parent.glob(f"{db.name}.building*")), "the run left its building copy"


def _publish_run(db: Path, run_id: str) -> None:
    """`db` as a run leaves it: `run_id` recorded, a macro and a view using it (as the v_* views use theirs)."""
    con = connect(db, memory_limit="256MB")
    try:
        con.execute(
            "INSERT INTO runs (run_id, as_of, started_at, status) VALUES (?, DATE '2026-11-27', now(), 'succeeded')",
            [run_id],
        )
        con.execute("CREATE OR REPLACE MACRO run_label(v) AS '批次 ' || v")
        con.execute("CREATE OR REPLACE VIEW v_last_run AS SELECT run_label(max(run_id)) AS label FROM runs")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def test_a_session_opened_after_a_swap_reads_the_new_file_while_one_opened_before_is_still_open(tmp_path):
    """In one process (the workbench's requests overlap): DuckDB would hand a new connection the instance still
    open on the replaced file; `reader` opens the file afresh, so the swap is seen by the next request at once."""
    db = tmp_path / "fw.duckdb"
    _publish_run(db, "R1")
    label = "SELECT label FROM v_last_run"
    with reader(db, memory_limit="256MB") as before:
        assert before.execute(label).fetchone() == ("批次 R1",)
        building = tmp_path / "fw.duckdb.building"
        shutil.copyfile(db, building)
        _publish_run(building, "R2")
        os.replace(building, db)
        with reader(db, memory_limit="256MB") as after:
            assert after.execute(label).fetchone() == ("批次 R2",)
            assert before.execute(label).fetchone() == ("批次 R1",)
            # read as on a direct open: the file's own name, its storage format, its macros from a plain query
            assert after.execute("SELECT current_database(), run_label('x')").fetchone() == ("fw", "批次 x")
            assert storage_version(after) == STORAGE_VERSION
    assert catalog_name(Path("var/fundwatch.duckdb")) == "fundwatch" and catalog_name(Path("memory.db")) == "memory_db"
