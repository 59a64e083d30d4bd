"""API tokens of the payment systems: made by an admin and shown once, stored as a hash, revocable with the record
kept; a token is valid until revoked; every call logged without IDs; `fundwatch token`."""

from __future__ import annotations

import argparse
import hashlib
import sqlite3

import pytest

from pipelines.app import cli
from pipelines.app.commands import token as token_command
from pipelines.app.settings import Settings
from pipelines.cases import register as reg
from pipelines.cases import staff, tokens
from pipelines.present.masking import mask_id
from pipelines.synth.ids import check_digit
from tests.cases.staffing import staff_up

P1 = "33010219500101001" + check_digit("33010219500101001")


@pytest.fixture
def con(tmp_path):
    c = reg.open_register(tmp_path / "fw.cases.sqlite")
    staff_up(c)
    yield c
    c.close()


def test_an_admin_makes_a_token_and_only_its_hash_is_kept(con):
    token = tokens.create(con, "ADM", "payroll-sys")
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert tokens.verify(con, token) == "payroll-sys"
    [row] = con.execute("SELECT * FROM api_tokens").fetchall()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert (row["name"], row["created_by"]) == ("payroll-sys", "ADM") and row["created_at"]
    stored = "\n".join(str(v) for r in con.execute("SELECT * FROM api_tokens") for v in tuple(r))
    assert token not in stored
    listed = tokens.tokens(con)
    assert listed == [
        {
            "name": "payroll-sys",
            "created_by": "ADM",
            "created_at": row["created_at"],
            "revoked_by": None,
            "revoked_at": None,
            "reason": None,
        }
    ]
    assert tokens.create(con, "ADM", "pension-sys") != token  # random each time


@pytest.mark.parametrize("who", ["chief", "V01", "AUD"])
def test_only_an_admin_makes_or_revokes_tokens(con, who):
    with pytest.raises(staff.NotAllowed, match="只有系统管理员"):
        tokens.create(con, who, "payroll-sys")
    tokens.create(con, "ADM", "payroll-sys")
    with pytest.raises(staff.NotAllowed, match="只有系统管理员"):
        tokens.revoke(con, who, "payroll-sys", "理由")
    assert [t["revoked_at"] for t in tokens.tokens(con)] == [None]


def test_wrong_missing_and_revoked_tokens_are_refused(con):
    token = tokens.create(con, "ADM", "payroll-sys")
    other = tokens.create(con, "ADM", "pension-sys")
    assert tokens.verify(con, None) is None
    assert tokens.verify(con, "") is None
    assert tokens.verify(con, token[:-1]) is None
    assert tokens.verify(con, token + "x") is None
    assert tokens.verify(con, hashlib.sha256(token.encode()).hexdigest()) is None  # the stored hash is no token
    assert tokens.verify(con, "x" * 10_000) is None
    tokens.revoke(con, "ADM", "payroll-sys", "系统下线")
    assert tokens.verify(con, token) is None
    assert tokens.verify(con, other) == "pension-sys"
    revoked = tokens.tokens(con)[0]
    assert (revoked["name"], revoked["revoked_by"], revoked["reason"]) == ("payroll-sys", "ADM", "系统下线")
    assert revoked["revoked_at"] and con.execute("SELECT count(*) FROM api_tokens").fetchone()[0] == 2


def test_verification_is_one_indexed_lookup(con):
    tokens.create(con, "ADM", "payroll-sys")
    plan = con.execute(
        "EXPLAIN QUERY PLAN SELECT t.name FROM api_tokens AS t WHERE t.token_hash = ?"
        " AND NOT EXISTS (SELECT 1 FROM api_token_revocations AS r WHERE r.token_id = t.token_id)",
        ["0" * 64],
    ).fetchall()
    details = " ".join(str(r[3]) for r in plan)
    assert "USING INDEX" in details and "SCAN t" not in details and "SCAN api_tokens" not in details, details


def test_names_are_like_staff_ids_and_never_reused(con):
    for bad in ("", "有中文", "a b", "-lead", "x" * 33):
        with pytest.raises(tokens.TokenError, match="名称"):
            tokens.create(con, "ADM", bad)
    tokens.create(con, "ADM", "payroll-sys")
    tokens.revoke(con, "ADM", "payroll-sys", "泄露")
    with pytest.raises(tokens.TokenError, match="payroll-sys"):
        tokens.create(con, "ADM", "payroll-sys")
    assert [t["name"] for t in tokens.tokens(con)] == ["payroll-sys"]


def test_revocation_needs_a_reason_and_a_token_in_force(con):
    tokens.create(con, "ADM", "payroll-sys")
    with pytest.raises(tokens.TokenError, match="理由"):
        tokens.revoke(con, "ADM", "payroll-sys", " ")
    with pytest.raises(tokens.TokenError, match="没有这个令牌"):
        tokens.revoke(con, "ADM", "nosuch", "理由")
    tokens.revoke(con, "ADM", "payroll-sys", "理由")
    with pytest.raises(tokens.TokenError, match="已于"):
        tokens.revoke(con, "ADM", "payroll-sys", "再次")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE api_tokens SET name = 'x'",
        "DELETE FROM api_tokens",
        "DELETE FROM api_token_revocations",
        "UPDATE api_calls SET outcome = 'ok'",
        "DELETE FROM api_calls",
    ],
)
def test_tokens_revocations_and_calls_are_append_only(con, sql):
    tokens.create(con, "ADM", "payroll-sys")
    tokens.revoke(con, "ADM", "payroll-sys", "理由")
    tokens.record_call(con, token_name=None, remote="10.0.0.9", outcome="refused", detail="no token")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute(sql)
    assert tokens.tokens(con)[0]["revoked_by"] == "ADM"


def test_every_call_is_logged_by_the_tokens_name_never_with_an_id(con):
    first = tokens.record_call(
        con, token_name="payroll-sys", remote="10.0.0.5", outcome="ok", rows=3, held=1, screening_id=7
    )
    second = tokens.record_call(
        con, token_name=None, remote="10.0.0.9", outcome="refused", detail=f"bad row {P1} account 6222020200112233445"
    )
    assert second == first + 1
    rows = [
        tuple(r)
        for r in con.execute("SELECT token_name, remote, outcome, rows, held, screening_id, detail FROM api_calls")
    ]
    assert rows[0] == ("payroll-sys", "10.0.0.5", "ok", 3, 1, 7, None)
    assert rows[1][:3] == ("-", "10.0.0.9", "refused")
    assert rows[1][6] == f"bad row {mask_id(P1)} account ***************3445"
    with pytest.raises(ValueError):
        tokens.record_call(con, token_name="x", remote=None, outcome="maybe")


# ---- fundwatch token ---------------------------------------------------------------------------------------------

USERS = {"chief": "chief-user", "V01": "v01-user", "AUD": "aud-user", "ADM": "adm-user"}


def fundwatch(monkeypatch, who: str, *argv: str) -> int:
    """The command in-process as the OS account of staff member `who` (argument errors: argparse's status)."""
    monkeypatch.setattr(staff, "os_user", lambda: USERS[who])
    settings = Settings.from_env()
    if token_command in cli.COMMANDS:
        parser = cli.build_parser(settings)
    else:  # until the command is registered in the CLI: the same parser, built from the module
        parser = argparse.ArgumentParser(prog="fundwatch")
        token_command.add_parser(parser.add_subparsers(dest="command", required=True), settings)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return args.handler(args, settings)


def test_the_command_shows_a_new_token_once_and_lists_and_revokes(monkeypatch, capsys, con, tmp_path):
    r = ["token", "--register", str(tmp_path / "fw.cases.sqlite")]
    assert fundwatch(monkeypatch, "ADM", *r, "add", "payroll-sys") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    token = lines[1].strip()
    assert "仅此一次显示" in out and "shown only now" in out
    assert tokens.verify(con, token) == "payroll-sys"
    assert fundwatch(monkeypatch, "AUD", *r, "list") == 0
    listed = capsys.readouterr().out
    assert "payroll-sys" in listed and "有效 valid" in listed and token not in listed
    assert fundwatch(monkeypatch, "ADM", *r, "revoke", "payroll-sys", "--reason", "系统下线") == 0
    assert "已吊销" in capsys.readouterr().out
    assert tokens.verify(con, token) is None
    assert fundwatch(monkeypatch, "ADM", *r, "list") == 0
    assert "已吊销 revoked" in capsys.readouterr().out


def test_the_command_refuses_all_but_admins(monkeypatch, capsys, con, tmp_path):
    r = ["token", "--register", str(tmp_path / "fw.cases.sqlite")]
    for who in ("chief", "V01", "AUD"):
        assert fundwatch(monkeypatch, who, *r, "add", "payroll-sys") == 6
        assert "拒绝 refused" in capsys.readouterr().err
    tokens.create(con, "ADM", "payroll-sys")
    assert fundwatch(monkeypatch, "chief", *r, "revoke", "payroll-sys", "--reason", "x") == 6
    assert fundwatch(monkeypatch, "V01", *r, "list") == 6
    assert fundwatch(monkeypatch, "ADM", *r, "add", "payroll-sys") == 6  # the name is taken
    assert fundwatch(monkeypatch, "ADM", *r, "revoke", "payroll-sys") == 2  # --reason is required
    assert [t["revoked_at"] for t in tokens.tokens(con)] == [None]


def test_the_command_never_creates_a_register(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere.cases.sqlite"
    assert fundwatch(monkeypatch, "ADM", "token", "--register", str(missing), "add", "payroll-sys") == 2
    assert not missing.exists()
