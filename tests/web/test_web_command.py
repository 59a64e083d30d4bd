"""`fundwatch staff passwd` and `fundwatch web` as commands: the password set from the command line (admins only),
and the server started for real on a loopback port."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pipelines.app import cli
from pipelines.cases import register as reg
from pipelines.cases.staff import os_user
from pipelines.web import accounts
from tests.cases.staffing import STAFF, staff_up
from tests.web.conftest import DEAD, make_world
from tests.web.serving import free_port, wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def staffed(tmp_path: Path, me_role: str) -> Path:
    db = tmp_path / "fw.duckdb"
    db.write_bytes(b"")
    con = reg.open_register(reg.register_path_for(db))
    members = [(s, n, r, g, os_user() if r == me_role else (u if u != os_user() else None)) for s, n, r, g, u in STAFF]
    staff_up(con, members)
    con.close()
    return db


def passwd(monkeypatch, capsys, db: Path, staff_id: str, password: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    code = cli.main(["staff", "--db", str(db), "passwd", staff_id, "--password-stdin"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_an_admin_sets_a_password_which_is_stored_as_an_argon2_hash_only(tmp_path, monkeypatch, capsys):
    db = staffed(tmp_path, "admin")
    code, out = passwd(monkeypatch, capsys, db, "V01", "short")
    assert code == 6 and "至少10个字符" in out
    code, out = passwd(monkeypatch, capsys, db, "NOBODY", "a long password")
    assert code == 6 and "不在人员名册" in out
    code, out = passwd(monkeypatch, capsys, db, "V01", "a long password")
    assert code == 0 and "密码已设置" in out
    with reg.reader(reg.register_path_for(db)) as con:
        rows = [tuple(r) for r in con.execute("SELECT staff_id, hash, set_by FROM staff_password")]
        assert accounts.verify(con, "V01", "a long password") is not None
        assert accounts.verify(con, "V01", "a long passwort") is None
    assert len(rows) == 1 and rows[0][0] == "V01" and rows[0][2] == "ADM"
    assert rows[0][1].startswith("$argon2id$") and "a long password" not in rows[0][1]


def test_only_an_admin_sets_passwords(tmp_path, monkeypatch, capsys):
    db = staffed(tmp_path, "chief")
    code, out = passwd(monkeypatch, capsys, db, "V01", "a long password")
    assert code == 6 and "only an admin" in out


@pytest.mark.slow
def test_fundwatch_web_serves_the_login_and_a_case_page_for_real(tmp_path, published):
    world = make_world(tmp_path, published)
    sid = world.sid("DECEASED_PAID")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "web", "--db", str(world.db), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FUNDWATCH_DUCKDB_MEMORY_LIMIT": "256MB"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(server, base, lambda: server.stderr.read() if server.stderr else "")
        secret = world.db.with_suffix(".web-secret")
        assert secret.is_file() and secret.stat().st_mode & 0o777 == 0o600
        with httpx.Client(base_url=base, follow_redirects=False) as client:
            login = client.get("/login")
            assert login.status_code == 200 and "登录 log in" in login.text
            cookie = login.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie
            token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
            started = time.perf_counter()
            done = client.post("/login", data={"staff_id": "chief", "password": "correct horse 42", "csrf": token})
            login_seconds = time.perf_counter() - started
            assert done.status_code == 303, done.text
            assert "httponly" in done.headers["set-cookie"].lower()
            started = time.perf_counter()
            page = client.get(f"/case/{sid}")
            case_seconds = time.perf_counter() - started
            assert page.status_code == 200 and "死亡后继续领取 DECEASED_PAID" in page.text
            assert "来源文件" in page.text and "benefit_payments/bp_330100.csv" in page.text
            assert DEAD not in page.text
            client.get(f"/queue?person={DEAD}")  # an ID in a URL is never logged
        print(f"login {login_seconds * 1000:.0f} ms, case page {case_seconds * 1000:.0f} ms")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            out, err = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            out, err = server.communicate()
    assert f"/case/{sid} 200" in err and "POST /login 303" in err
    assert not FULL_ID.search(out + err), err[-2000:]
