"""Signed session cookies, the login form's CSRF cookie, and what a request is allowed to be.

A session is a signed (itsdangerous, HMAC-SHA1 over the payload with the private secret) cookie holding the staff
id, a random nonce, the per-session CSRF token, the password in force at login, the login time and the time of
the last request. Nothing personal is in it. It ends when idle longer than `idle_minutes`, `SESSION_HOURS` after
login, at logout (a `logout` record of its nonce in `web_audit`, checked on every request, so a copied cookie
dies with the session), when the password is reset or the staff member disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeSerializer

from pipelines.cases import staff as staff_register
from pipelines.web import accounts
from pipelines.web.config import SESSION_HOURS, WebConfig

SESSION_COOKIE = "fw_session"
LOGIN_COOKIE = "fw_login"


class LoginRequired(Exception):
    """No valid session: the login page (`why` is said there)."""

    def __init__(self, why: str = "", actor: str | None = None, session_ref: str | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.actor = actor
        self.session_ref = session_ref


class Forbidden(Exception):
    """The role does not allow this page or action (403)."""


class NotFound(Exception):
    """No such page or case, or one the staff member may not see (404: a verifier learns nothing of other regions)."""


@dataclass
class Session:
    staff_id: str
    nonce: str
    csrf: str
    password_id: int
    login_at: float
    last_at: float
    flash: str | None = None
    member: staff_register.Staff | None = field(default=None, compare=False)

    @property
    def ref(self) -> str:
        """Which session, in the audit trail, without the nonce itself."""
        return session_ref(self.nonce)

    def payload(self) -> dict[str, object]:
        out: dict[str, object] = {
            "u": self.staff_id,
            "n": self.nonce,
            "c": self.csrf,
            "p": self.password_id,
            "t0": self.login_at,
            "t": self.last_at,
        }
        if self.flash:
            out["m"] = self.flash
        return out

    def pop_flash(self) -> str | None:
        message, self.flash = self.flash, None
        return message


def session_ref(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("ascii")).hexdigest()[:16]


class Signer:
    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self._session = URLSafeSerializer(config.secret, salt="fundwatch-web-session")
        self._login = URLSafeSerializer(config.secret, salt="fundwatch-web-login")

    def new_session(self, staff_id: str, password_id: int) -> Session:
        now = self.config.now().timestamp()
        return Session(staff_id, secrets.token_urlsafe(24), secrets.token_urlsafe(24), password_id, now, now)

    def dumps(self, session: Session) -> str:
        return str(self._session.dumps(session.payload()))

    def loads(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            p = self._session.loads(cookie)
            login_at, last_at = float(p["t0"]), float(p["t"])
            return Session(str(p["u"]), str(p["n"]), str(p["c"]), int(p["p"]), login_at, last_at, p.get("m"))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    def login_token(self) -> tuple[str, str]:
        """A fresh CSRF token for the login form and the signed cookie that carries it."""
        token = secrets.token_urlsafe(24)
        return token, str(self._login.dumps({"c": token}))

    def login_token_of(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return str(self._login.loads(cookie)["c"])
        except (BadSignature, KeyError, TypeError):
            return None

    def check(self, con: sqlite3.Connection, session: Session) -> staff_register.Staff:
        """The staff member of a live session, its last-seen time moved to now; else LoginRequired."""
        now = self.config.now().timestamp()
        who, ref = session.staff_id, session.ref
        if now - session.last_at > self.config.idle_minutes * 60:
            raise LoginRequired("长时间未操作，请重新登录 the session ended after inactivity", who, ref)
        if now - session.login_at > SESSION_HOURS * 3600 or now < session.login_at:
            raise LoginRequired("会话已到期，请重新登录 the session has ended", who, ref)
        member = staff_register.find(con, session.staff_id)
        if member is None or not member.active:
            raise LoginRequired("账号已停用 the account is disabled", who, ref)
        password = accounts.current(con, session.staff_id)
        if password is None or password.password_id != session.password_id:
            raise LoginRequired("密码已重置，请重新登录 the password was reset", who, ref)
        ended = con.execute(
            "SELECT 1 FROM web_audit WHERE session_ref = ? AND action = 'logout' LIMIT 1", [ref]
        ).fetchone()
        if ended is not None:
            raise LoginRequired("已退出登录 logged out", None, None)
        session.last_at = now
        session.member = member
        return member


def same_token(expected: str | None, given: object) -> bool:
    """Constant-time comparison of a CSRF token; a missing one never matches."""
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(expected, given)
