"""A workbench over a hand-built world: the evidence tests' warehouse (every rule fired, every row's file and line
known) published as a DuckDB file, its findings synced into a staffed register with passwords, and the app on a
clock the tests move."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from pipelines.cases import lookup, tokens
from pipelines.cases import register as reg
from pipelines.web import accounts
from pipelines.web.app import create_app
from pipelines.web.config import WebConfig
from tests.cases.staffing import STAFF, staff_up
from tests.cases.test_evidence import DEAD, SHARED, A, build

FOUND = dt.date(2025, 12, 31)
START = dt.datetime(2026, 1, 15, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
PASSWORD = "correct horse 42"
SCRIPT = "<script>alert('x')</script>"
EVIL_NAME = '<img src=x onerror="alert(1)">王芳'
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROLES = {"chief": "chief", "verifier": "V01", "auditor": "AUD", "admin": "ADM"}


@pytest.fixture(scope="session")
def published(tmp_path_factory) -> Path:
    """The world as a published file, once: a script in the dead person's name and in a finding's summary."""
    db = tmp_path_factory.mktemp("web-world") / "fw.duckdb"
    con = duckdb.connect(str(db))
    try:
        build(con)
        con.execute("UPDATE enrollment SET name = ? WHERE enrollment_id = 'E2'", [EVIL_NAME])
        con.execute(
            "UPDATE suspects SET summary = ? || ' ' || person_id || ' ' || summary WHERE rule = 'DECEASED_PAID'",
            [SCRIPT],
        )
        # a mistyped ID resolved at load (CONTRACT section 6), and the evidence lookup a publication builds
        con.execute(
            "UPDATE custody_records SET person_id_raw = left(person_id, 10) || '9' || right(person_id, 7), "
            "id_resolved = true"
        )
        lookup.build(con)
    finally:
        con.close()
    return db


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class World:
    def __init__(self, db: Path, clock: Clock, config: WebConfig) -> None:
        self.db, self.clock, self.config = db, clock, config
        self.register = config.register
        self.app = create_app(config)

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def sid(self, rule: str) -> str:
        with reg.reader(self.register) as con:
            return con.execute("SELECT suspect_id FROM cases WHERE rule = ? ORDER BY suspect_id", [rule]).fetchone()[0]

    def login(self, staff_id: str, password: str = PASSWORD, client: TestClient | None = None) -> TestClient:
        client = client or self.client()
        response = self.try_login(client, staff_id, password)
        assert response.status_code == 303, response.text
        return client

    def try_login(self, client: TestClient, staff_id: str, password: str):
        form = client.get("/login")
        return client.post("/login", data={"staff_id": staff_id, "password": password, "csrf": csrf(form.text)})

    def case(self, sid: str) -> dict:
        with reg.reader(self.register) as con:
            return dict(reg.get_case(con, sid))


def csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2id with small parameters: the same code, milliseconds instead of a tenth of a second per hash."""
    hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(accounts, "_HASHER", hasher)
    monkeypatch.setattr(accounts, "_DUMMY", hasher.hash("nobody"))


def make_world(tmp_path: Path, published: Path) -> World:
    db = tmp_path / "fw.duckdb"
    shutil.copy(published, db)
    source = duckdb.connect(str(db), read_only=True)
    try:
        findings = pl.from_arrow(source.sql("SELECT * FROM suspects WHERE active").to_arrow_table())
    finally:
        source.close()
    con = reg.open_register(reg.register_path_for(db))
    try:
        staff_up(con)
        reg.sync_findings(con, findings, FOUND, "R1")
        with reg.write_transaction(con):
            for staff_id, *_ in STAFF:
                accounts.set_password(con, staff_id, PASSWORD, by="ADM", at="2026-01-05T09:00:00+08:00")
    finally:
        con.close()
    clock = Clock()
    config = WebConfig(
        db=db,
        register=reg.register_path_for(db),
        secret=b"0123456789abcdef0123456789abcdef",
        memory_limit="256MB",
        clock=clock,
    )
    return World(db, clock, config)


@pytest.fixture
def world(tmp_path, published) -> World:
    return make_world(tmp_path, published)


# ---- screening (issue 15): a payment batch screened through POST /api/screen, recorded in the world's register ----

API_TOKEN_NAME = "paysys"
SCREENING_PERIOD = "202601"


def batch_payment(n: int, person: str, benefit: str = "pension", scheme: str = "170", region: str = "330100", **more):
    """A benefit_payments record as the payment system sends it (text values); more=... overrides a field."""
    record = {
        "payment_id": f"API{n}",
        "person_id": person,
        "region_code": region,
        "scheme": scheme,
        "benefit_type": benefit,
        "period": SCREENING_PERIOD,
        "amount": "1234.56",
        "bank_account": SHARED if person == A else f"62170000777700{n:05d}",
    }
    return record | more


# line 1 passes; 2 and 3 are held DECEASED (regions 330100 and 330200); 4 is INVALID (a wrong check digit, no region)
SCREENING_BATCH = [
    batch_payment(1, A, amount="900.00"),
    batch_payment(2, DEAD),
    batch_payment(3, DEAD, "unemployment", "210", region="330200"),
    batch_payment(4, "330102195001010010", amount="12.5"),
]


def api_token(world: World) -> str:
    """A new API token of the payment system, created by the admin (each call: a new name after the first)."""
    with reg.writer(world.register) as con:
        taken = con.execute("SELECT count(*) FROM api_tokens").fetchone()[0]
        return tokens.create(con, "ADM", API_TOKEN_NAME if not taken else f"{API_TOKEN_NAME}{taken}")


def screen_batch(world: World, records: list[dict] = SCREENING_BATCH) -> int:
    """`records` screened through POST /api/screen of the world's app (in-process); the recorded screening's id."""
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    answer = world.client().post("/api/screen", content=body, headers={"Authorization": f"Bearer {api_token(world)}"})
    assert answer.status_code == 200, answer.text
    with reg.reader(world.register) as con:
        return int(con.execute("SELECT max(screening_id) FROM screenings").fetchone()[0])


__all__ = ["DEAD", "EVIL_NAME", "PASSWORD", "ROLES", "SCRIPT", "World", "csrf"]
