"""The workbench's page times on a published 1M-person file (issue 13): `make bench` runs it at 1M, or alone:

    .venv/bin/python bench/web_pages.py [--persons 1000000] [--repeat 20] [--scale 10]

1. The published file: `make bench`'s own 1M file while it exists (bench/run.py calls `measure`), or, alone,
   one published once from the cached clean inbox (`bench/cache/clean-<persons>`, generated as bench/run.py
   does) into `bench/cache/web-<persons>/fundwatch.duckdb` by `fundwatch run --as-of 2026-11-27`, and reused.
2. A scratch copy of its case register is staffed with the command line (`fundwatch staff add` — the first an
   admin mapped to this OS user — and `fundwatch staff passwd --password-stdin`): a chief and a verifier of the
   region with the most cases. Then, as the chief would through the workbench, a third of the cases are
   assigned (the verifier's region to the verifier), half of those verified, some partly recovered, some
   dismissed: the queue shows every status, a case page has a timeline.
3. `fundwatch web` is started for real on 127.0.0.1 over the file and the copy; a client (httpx) logs in through
   the login form (its CSRF token) as the chief, then as the verifier, and asks for every page `--repeat` times
   after one warm-up: the queue (default, by rule, by region, the last page, sorted by due date and by first
   seen), case pages (the largest evidence of all, and cases of three other rules), the person page (POST
   /person with a case's suspect_id as `case`) and the overview.
4. Server time is what the app logs per request (`... GET /queue 200 37ms BC1`, measured around the route and the
   template); client time is the round trip seen by the client. Median and p95 of each; a page meets its
   target when the p95 of its server time is within it (the worst variant counts).
5. With `--scale K` (default 10) the queue and the overview are timed again on a second copy of the register in
   which every case is copied K times under new ids (a register of a province of tens of thousands of cases;
   the copies have no events nor evidence, so only the queue and the overview are timed on it).

The numbers go to bench/results.json (`web_pages`) and the "Workbench pages" section of bench/results.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

CACHE = ROOT / "bench" / "cache"
PYTHON = ROOT / ".venv" / "bin" / "python"
AS_OF = "2026-11-27"
PERSONS = 1_000_000
REPEAT = 20
SCALE = 10
ZONE = "Asia/Shanghai"
# Issue 13: server time per page on a 1M-person published file.
TARGETS_MS = {"queue": 300, "case": 300, "person": 500, "overview": 1000}
PAGE_ZH = {"queue": "案件队列 queue", "case": "案件 case", "person": "人员全貌 person", "overview": "概览 overview"}
ADMIN, CHIEF, VERIFIER = "BADM", "BC1", "BV1"
PASSWORD = "bench-pages-2026"  # a scratch register's, never a real one
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
LOG_LINE = re.compile(r" (GET|POST) (\S+) (\d{3}) (\d+)ms (\S+)$")


# ---- the published file and the register --------------------------------------------------------------------


def published(persons: int) -> Path:
    """The published file of the cached clean inbox, made once (`fundwatch run`), reused after."""
    from bench.run import inbox

    source = inbox("clean", persons)
    folder = CACHE / f"web-{persons}"
    db = folder / "fundwatch.duckdb"
    done = folder / "published.json"
    if db.is_file() and done.is_file():
        return db
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("fundwatch.*"):
        old.unlink()
    print(f"publishing {source.name} into {db} (once) ...", flush=True)
    started = time.monotonic()
    with (folder / "run.log").open("w") as log:
        status = subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "fundwatch"),
                "run",
                "--inbox",
                str(source),
                "--db",
                str(db),
                "--as-of",
                AS_OF,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        ).returncode
    if status not in (0, 1):
        raise SystemExit(f"fundwatch run failed ({status}), see {folder / 'run.log'}")
    done.write_text(json.dumps({"as_of": AS_OF, "seconds": round(time.monotonic() - started, 1)}) + "\n")
    return db


def copy_register(source: Path, target: Path) -> None:
    """A consistent copy (SQLite's backup: the WAL included), never touching the source."""
    for old in target.parent.glob(target.name + "*"):
        old.unlink()
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def fundwatch(code: Path, *args: str, stdin: str | None = None) -> str:
    """A `fundwatch` command run from the source tree `code`."""
    cmd = [str(PYTHON), "-c", "from pipelines.app.launch import console; console()", *args]
    done = subprocess.run(cmd, cwd=code, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"fundwatch {' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


@dataclass
class Staged:
    region: str  # the verifier's: the region with the most cases
    other_region: str  # the chief's region filter: the second most
    cases: int
    statuses: dict[str, int]
    chief_cases: list[str]  # case pages to time as the chief
    verifier_cases: list[str]  # ... as the verifier (their region)
    largest: str  # the case with the largest evidence
    largest_rows: int
    person_case: dict[str, str]  # role -> a case whose person is asked for
    rules: dict[str, str]  # suspect_id -> rule, of the cases above


def stage(code: Path, db: Path, register: Path) -> Staged:
    """Staff with passwords (the command line), then case work as the office would do it (the register's own
    functions, as the workbench's forms call them)."""
    where = ["--db", str(db), "--register", str(register)]
    with sqlite3.connect(register) as con:
        region, other_region = (
            r[0]
            for r in con.execute(
                "SELECT region_code FROM cases WHERE region_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1"
                " LIMIT 2"
            )
        )
    me = getpass.getuser()
    fundwatch(code, "staff", *where, "add", ADMIN, "--name", "基准管理员", "--role", "admin", "--os-user", me)
    fundwatch(code, "staff", *where, "add", CHIEF, "--name", "基准科长", "--role", "chief")
    fundwatch(code, "staff", *where, "add", VERIFIER, "--name", "基准核查员", "--role", "verifier", "--regions", region)
    for staff_id in (ADMIN, CHIEF, VERIFIER):
        fundwatch(code, "staff", *where, "passwd", staff_id, "--password-stdin", stdin=PASSWORD + "\n")
    work_cases(register, region)

    import duckdb

    duck = duckdb.connect(str(db), read_only=True)
    try:
        sizes = duck.execute(
            "SELECT suspect_id, rule, region_code, person_id IS NOT NULL, json_array_length(evidence_rows)"
            " FROM suspects WHERE active ORDER BY json_array_length(evidence_rows) DESC, suspect_id"
        ).fetchall()
    finally:
        duck.close()
    largest, _, _, _, largest_rows = sizes[0]
    chief_cases, rules = [largest], {sizes[0][1]}
    for sid, rule, _, _, _ in sizes:  # the largest case of three other rules
        if len(chief_cases) < 4 and rule not in rules:
            chief_cases.append(sid)
            rules.add(rule)
    mine = [s for s in sizes if s[2] == region]
    verifier_cases = [mine[0][0], mine[len(mine) // 2][0], mine[-1][0]]
    with sqlite3.connect(register) as con:
        statuses = dict(con.execute("SELECT status, count(*) FROM cases GROUP BY 1 ORDER BY 1").fetchall())
    return Staged(
        region=region,
        other_region=other_region,
        cases=sum(statuses.values()),
        statuses=statuses,
        chief_cases=chief_cases,
        verifier_cases=verifier_cases,
        largest=largest,
        largest_rows=int(largest_rows),
        person_case={
            "chief": next(s[0] for s in sizes if s[3]),
            "verifier": next(s[0] for s in mine if s[3]),
        },
        rules={s[0]: s[1] for s in sizes},
    )


def work_cases(register: Path, region: str) -> None:
    """A third of the cases assigned (the verifier's region to the verifier, the rest to the chief); of those, half
    verified, a quarter of the verified partly recovered, and one in twelve dismissed instead."""
    from pipelines.cases import register as reg

    today = dt.datetime.now(dt.UTC).astimezone(ZoneInfo(ZONE)).date()
    con = reg.open_register(register, create=False)
    try:
        cases = con.execute("SELECT suspect_id, region_code, amount_at_risk FROM cases ORDER BY suspect_id").fetchall()
        for i, (sid, case_region, amount) in enumerate(cases):
            if i % 3:
                continue
            assignee = VERIFIER if case_region == region else CHIEF
            reg.assign(con, sid, assignee=assignee, by=CHIEF, on=today, today=today, reason="基准 bench")
            if i % 12 == 3:
                reg.dismiss(con, sid, by=assignee, on=today, today=today, reason="基准 bench: 核实无误")
            elif i % 2 == 0:
                reg.verify(con, sid, by=assignee, on=today, today=today)
                if i % 4 == 0:
                    half = (Decimal(amount) / 2).quantize(Decimal("0.01"))
                    if half > 0:
                        reg.rectify(con, sid, by=assignee, on=today, today=today, recovered=half, reason="基准 bench")
    finally:
        con.close()


def inflate(register: Path, times: int) -> int:
    """Copy every case `times` times under new ids (`<id>~k`), in the scratch register only; the case count."""
    with sqlite3.connect(register) as con:
        columns = [r[1] for r in con.execute("PRAGMA table_info(cases)")]
        rest = ", ".join(c for c in columns if c != "suspect_id")
        for k in range(1, times):
            con.execute(
                f"INSERT INTO cases (suspect_id, {rest}) SELECT suspect_id || '~{k}', {rest} FROM cases"
                " WHERE suspect_id NOT LIKE '%~%'"
            )
        return int(con.execute("SELECT count(*) FROM cases").fetchone()[0])


# ---- the server and the client -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(code: Path, db: Path, register: Path, log: Path) -> Iterator[tuple[str, Path]]:
    """`fundwatch web` on 127.0.0.1 (its log lines to `log`); its base URL."""
    port = free_port()
    cmd = [str(PYTHON), "-c", "from pipelines.app.launch import console; console()", "web"]
    cmd += ["--db", str(db), "--register", str(register), "--port", str(port)]
    env = {**os.environ, "FUNDWATCH_TIMEZONE": ZONE}  # the office's zone, as configured there
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=code, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"fundwatch web stopped ({proc.returncode}), see {log}")
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"fundwatch web did not answer in 60 s, see {log}")
            time.sleep(0.3)
        yield base, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Browser:
    """One staff member's session, as a browser holds it: the cookies and the page's CSRF token."""

    def __init__(self, base: str, log: Path, staff_id: str) -> None:
        self.client = httpx.Client(base_url=base, follow_redirects=False, timeout=120)
        self.log, self.staff_id = log, staff_id
        self.seen = log.stat().st_size
        form = self.client.get("/login")
        token = CSRF.search(form.text)
        assert token, "no CSRF token on the login form"
        done = self.client.post("/login", data={"staff_id": staff_id, "password": PASSWORD, "csrf": token.group(1)})
        if done.status_code != 303:
            raise SystemExit(f"login as {staff_id} refused ({done.status_code})")
        found = CSRF.search(self.client.get("/queue").text)
        assert found, "no CSRF token on the queue"
        self.csrf = found.group(1)
        self._server_lines()

    def _server_lines(self) -> list[tuple[str, str, int, int]]:
        with self.log.open("rb") as f:
            f.seek(self.seen)
            text = f.read()
        cut = text.rfind(b"\n") + 1
        self.seen += cut
        lines = []
        for line in text[:cut].decode("utf-8", "replace").splitlines():
            m = LOG_LINE.search(line)
            if m and m.group(5) == self.staff_id:
                lines.append((m.group(1), m.group(2), int(m.group(3)), int(m.group(4))))
        return lines

    def time(self, method: str, url: str, data: dict[str, str] | None = None) -> tuple[float, int]:
        """(client ms, server ms) of one request; it must answer 200."""
        started = time.perf_counter()
        if method == "GET":
            response = self.client.get(url)
        else:
            response = self.client.post(url, data={**(data or {}), "csrf": self.csrf})
        client_ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{method} {url} as {self.staff_id}: {response.status_code}")
        path = url.split("?", 1)[0]
        deadline = time.monotonic() + 5
        while True:
            lines = [line for line in self._server_lines() if line[0] == method and line[1] == path]
            if lines:
                return client_ms, lines[-1][3]
            if time.monotonic() > deadline:
                raise SystemExit(f"no log line of the server for {method} {path}")
            time.sleep(0.01)


# ---- measuring ------------------------------------------------------------------------------------------------


@dataclass
class Variant:
    page: str  # a key of TARGETS_MS
    label: str
    method: str
    url: str
    data: dict[str, str] = field(default_factory=dict)


def variants(role: str, staged: Staged, pages: int, first_rule: str) -> list[Variant]:
    region = staged.region if role == "verifier" else staged.other_region
    out = [
        Variant("queue", "默认 default (amount desc)", "GET", "/queue"),
        Variant("queue", f"规则 rule {first_rule}", "GET", f"/queue?rule={first_rule}"),
        Variant("queue", f"统筹区 region {region}", "GET", f"/queue?region={region}"),
        Variant("queue", f"末页 last page ({pages})", "GET", f"/queue?page={pages}"),
        Variant("queue", "按期限升序 sort due asc", "GET", "/queue?sort=due&dir=asc"),
        Variant(
            "queue", "按首次发现 sort first_seen, status", "GET", "/queue?sort=first_seen&status=under_verification"
        ),
    ]
    cases = staged.chief_cases if role == "chief" else staged.verifier_cases
    for sid in cases:
        note = f"（证据最多 largest evidence, {staged.largest_rows} rows）" if sid == staged.largest else ""
        out.append(Variant("case", f"{staged.rules[sid]} {sid}{note}", "GET", f"/case/{sid}"))
    out.append(
        Variant(
            "person",
            f"via case {staged.rules[staged.person_case[role]]} {staged.person_case[role]}",
            "POST",
            "/person",
            {"case": staged.person_case[role]},
        )
    )
    out.append(Variant("overview", "", "GET", "/overview"))
    return out


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(p95, 1),
        "max": round(ordered[-1], 1),
    }


def time_variants(browser: Browser, role: str, todo: list[Variant], repeat: int, scale: str) -> list[dict]:
    out = []
    for v in todo:
        first = browser.time(v.method, v.url, v.data)  # warm-up: the first request after start-up, reported apart
        client, server_ms = [], []
        for _ in range(repeat):
            c, s = browser.time(v.method, v.url, v.data)
            client.append(c)
            server_ms.append(s)
        row = {
            "page": v.page,
            "variant": v.label,
            "role": role,
            "register": scale,
            "n": repeat,
            "first_server_ms": first[1],
            "server_ms": summary(server_ms),
            "client_ms": summary(client),
        }
        print(
            f"  {role:8} {v.page:8} {v.label[:60]:60} server median {row['server_ms']['median']:7.1f} "
            f"p95 {row['server_ms']['p95']:7.1f} ms   client median {row['client_ms']['median']:7.1f} ms",
            flush=True,
        )
        out.append(row)
    return out


def measure(
    db: Path,
    register: Path,
    work: Path,
    *,
    persons: int,
    repeat: int = REPEAT,
    scale: int = SCALE,
    code: Path = ROOT,
) -> dict:
    """Every page timed on the published file `db` with a scratch copy of its `register` (kept intact)."""
    from bench.run import machine

    work.mkdir(parents=True, exist_ok=True)
    load_before = [round(x, 2) for x in os.getloadavg()]
    scratch = work / "bench.cases.sqlite"
    copy_register(register, scratch)
    print(f"staging the register copy {scratch} ...", flush=True)
    staged = stage(code, db, scratch)
    with sqlite3.connect(scratch) as con:
        first_rule = con.execute("SELECT rule FROM cases ORDER BY rule LIMIT 1").fetchone()[0]
    results: list[dict] = []
    with server(code, db, scratch, work / "web.log") as (base, log):
        for role, staff_id in (("chief", CHIEF), ("verifier", VERIFIER)):
            browser = Browser(base, log, staff_id)
            page = browser.client.get("/queue").text
            pages = int(re.search(r"第 1/(\d+) 页", page).group(1))  # type: ignore[union-attr]
            print(f"[{role}] {pages} queue pages", flush=True)
            results += time_variants(browser, role, variants(role, staged, pages, first_rule), repeat, "1M")
    inflated = None
    if scale > 1:
        big = work / "bench-scaled.cases.sqlite"
        copy_register(scratch, big)
        inflated = inflate(big, scale)
        print(f"register with every case copied {scale} times: {inflated:,} cases", flush=True)
        with server(code, db, big, work / "web-scaled.log") as (base, log):
            for role, staff_id in (("chief", CHIEF), ("verifier", VERIFIER)):
                browser = Browser(base, log, staff_id)
                page = browser.client.get("/queue").text
                pages = int(re.search(r"第 1/(\d+) 页", page).group(1))  # type: ignore[union-attr]
                todo = [v for v in variants(role, staged, pages, first_rule) if v.page in ("queue", "overview")]
                results += time_variants(browser, role, todo, repeat, f"x{scale}")
    verdicts = {}
    for page, limit in TARGETS_MS.items():
        worst = max(
            (r["server_ms"]["p95"] for r in results if r["page"] == page and r["register"] == "1M"), default=None
        )
        verdicts[page] = {"target_ms": limit, "worst_p95_ms": worst, "met": worst is not None and worst <= limit}
    return {
        "measured_at": dt.datetime.now().isoformat("T", "minutes"),
        "machine": machine(),
        "persons": persons,
        "db_gb": round(db.stat().st_size / 1024**3, 2),
        "cases": staged.cases,
        "statuses": staged.statuses,
        "verifier_region": staged.region,
        "scaled_cases": inflated,
        "scale": scale,
        "repeat": repeat,
        "load_average": {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]},
        "targets_ms": TARGETS_MS,
        "verdicts": verdicts,
        "pages": results,
    }


# ---- the report --------------------------------------------------------------------------------------------


def render_markdown(web: dict | None) -> str:
    """The "Workbench pages" section of bench/results.md."""
    if not web:
        return ""
    m = web["machine"]
    lines = [
        "",
        "## 工作台页面 Workbench pages (issue 13)",
        "",
        f"Measured by bench/web_pages.py ({web['measured_at']}; `make bench` runs it at 1M) on {m['cpus']} cores "
        f"({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}: `fundwatch web` started for real on 127.0.0.1 "
        f"over a published {web['persons']:,}-person file ({web['db_gb']} GB) and its register of "
        f"{web['cases']:,} cases ("
        + ", ".join(f"{k} {v:,}" for k, v in web["statuses"].items())
        + f"), a client logged in as a chief and as a verifier (region {web['verifier_region']}). Each page asked "
        f"{web['repeat']} times after one warm-up; server ms is the app's own log line (route and template), client "
        "ms the round trip. A page meets its target when the p95 of its server time does, for every variant. "
        "Load average (1, 5, 15 min) before "
        + " / ".join(str(x) for x in web["load_average"]["before"])
        + ", after "
        + " / ".join(str(x) for x in web["load_average"]["after"])
        + ".",
        "",
        "| 页面 page | 目标 target (server) | 最差 p95 worst p95 | 结论 verdict |",
        "|---|---:|---:|---|",
    ]
    for page, v in web["verdicts"].items():
        verdict = "达标 met" if v["met"] else "未达标 NOT met"
        lines.append(f"| {PAGE_ZH[page]} | ≤ {v['target_ms']} ms | {v['worst_p95_ms']} ms | {verdict} |")
    lines += [
        "",
        "| 页面 page | variant | role | register | server median / p95 ms | client median / p95 ms | first request "
        "server ms |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for r in web["pages"]:
        cases = f"{web['cases']:,}" if r["register"] == "1M" else f"{web['scaled_cases']:,} ({r['register']})"
        lines.append(
            f"| {PAGE_ZH[r['page']]} | {r['variant']} | {r['role']} | {cases} cases | "
            f"{r['server_ms']['median']} / {r['server_ms']['p95']} | {r['client_ms']['median']} / "
            f"{r['client_ms']['p95']} | {r['first_server_ms']} |"
        )
    if web.get("scaled_cases"):
        lines += [
            "",
            f"The rows with {web['scaled_cases']:,} cases: the same register with every case copied {web['scale']} "
            "times under new ids (a province of tens of thousands of cases; the copies have no events nor "
            "evidence, so only the queue and the overview are timed on it).",
        ]
    notes = web.get("notes")
    if notes:
        lines += ["", notes.rstrip()]
    return "\n".join(lines) + "\n"


def save(web: dict) -> None:
    """Into bench/results.json (`web_pages`) and its results.md, the other numbers as they were."""
    from bench.run import RESULTS, load_previous, machine, write_results

    results = load_previous(RESULTS)  # an issue 6 file kept as history, as `make bench` keeps it
    results.setdefault("machine", machine())
    notes = (results.get("web_pages") or {}).get("notes")
    if notes and "notes" not in web:
        web["notes"] = notes  # the analysis written by hand after a run stays until rewritten
    results["web_pages"] = web
    write_results(results)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=PERSONS)
    ap.add_argument("--db", type=Path, default=None, help="a published file to use instead (its register beside it)")
    ap.add_argument("--repeat", type=int, default=REPEAT, help=f"requests per page after the warm-up ({REPEAT})")
    ap.add_argument(
        "--scale", type=int, default=SCALE, help=f"the queue again with every case copied K times ({SCALE})"
    )
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp dir under bench/cache)")
    ap.add_argument("--code", type=Path, default=ROOT, help="the source tree to serve (a checkout, to compare)")
    ap.add_argument("--no-save", action="store_true", help="print only; leave bench/results.* as they are")
    args = ap.parse_args(argv)

    from pipelines.cases import register as reg

    db = args.db or published(args.persons)
    CACHE.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="web-pages-", dir=CACHE))
    try:
        web = measure(
            db,
            reg.register_path_for(db),
            work,
            persons=args.persons,
            repeat=args.repeat,
            scale=args.scale,
            code=args.code,
        )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.code.resolve() != ROOT:
        web["code"] = str(args.code)
    if args.no_save:
        print(json.dumps(web, indent=2, ensure_ascii=False))
    else:
        save(web)
        print(render_markdown(web))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
