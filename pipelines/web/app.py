"""The workbench's routes: login, the case queue, a case with its actions, the overview, the audit trail, staff,
the screenings with their adjudication, the blacklist, and the screening service (POST /api/screen).

Every route but the login page, the stylesheet and the screening service requires a session (`_session`); a role
check is a dependency of the route (`_roles`), never a hidden button; a verifier asking for a case they may not see
gets 404. Every POST of a page carries the session's CSRF token (`_csrf`). The register is opened per request
(read-only to read, `reg.writer` to act) and the published DuckDB file read-only per request, so a nightly run is
never blocked and its swap is seen.
Every action, login, logout and refusal is appended to the hash-chained `web_audit` (`pipelines.web.trail`).
The log line of a request names the method, the path (masked), the status, the time and the staff id: no query
string, no form, no citizen ID.

One route is a machine's, not a person's: POST /api/screen (`apiscreen`) is authenticated by the calling system's
API token, never by a session, and takes no CSRF token (a page of another site cannot set the Authorization header
it needs); its log line names the token and the counts (`token=<name> rows=1 held=0`), and `api_calls` keeps
every call. It keeps one read-only connection per published file version (`apiscreen.PublishedFile`).
"""

import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import duckdb
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.templating import Jinja2Templates

from pipelines.cases import adjudication, blacklist, casework, inspections, tokens
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.present.masking import mask_text
from pipelines.rules import BY_CODE
from pipelines.screen import service
from pipelines.warehouse.session import WarehouseBusy
from pipelines.warehouse.session import reader as published_reader
from pipelines.web import (
    accounts,
    apiscreen,
    blacklistpages,
    casepages,
    closingpages,
    inspectionpages,
    overviewpages,
    personpages,
    qualitypages,
    reportpages,
    screenpages,
    trail,
)
from pipelines.web.config import WebConfig
from pipelines.web.sessions import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Forbidden,
    LoginRequired,
    NotFound,
    Session,
    Signer,
    same_token,
)

HERE = Path(__file__).resolve().parent
LOG = logging.getLogger("fundwatch.web")
CASE_ROLES = ("chief", "verifier", "auditor")
WORK_ROLES = ("chief", "verifier")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(config: WebConfig) -> FastAPI:
    """The application over one register and one published file. The register must exist (a nightly run creates
    it); its workbench tables are created here if missing."""
    with reg.writer(config.register, create=False) as con:
        trail.ensure_key(con, config.now().isoformat(timespec="seconds"))
    signer = Signer(config)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
    templates = Jinja2Templates(env=env)
    published = apiscreen.PublishedFile(config.db, config.memory_limit)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        published.close()

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.published = published  # the service's connection to the published file
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def remote(request: Request) -> str | None:
        return request.client.host if request.client else None

    def record(request: Request, actor: str, action: str, target: str | None, outcome: str, detail=None, ref=None):
        with reg.writer(config.register, create=False) as con:
            trail.append(
                con,
                at=config.now().isoformat(timespec="seconds"),
                actor=actor,
                remote=remote(request),
                action=action,
                target=target,
                outcome=outcome,
                detail=detail,
                session_ref=ref,
            )

    def reveal(request: Request, session: Session, kind: str, accessed: str, target: str, reason: str) -> str | None:
        """Record an unmasked view: the access log (`kind`, what was `accessed`), then the trail (`target`). The
        register's refusal (no reason, an admin) is returned as the message to show, and recorded as refused."""
        member = session.member
        assert member is not None
        try:
            with reg.writer(config.register, create=False) as con:
                reg.record_access(con, member, kind, accessed, reason, f"web:{remote(request)}")
        except (reg.CaseError, staff_register.StaffError) as err:
            record(request, member.staff_id, "reveal", target, "refused", str(err), session.ref)
            return str(err)
        record(request, member.staff_id, "reveal", target, "ok", reason, session.ref)
        return None

    # ---- the request around every route ----------------------------------------------------------------

    @app.middleware("http")
    async def around(request: Request, call_next: Callable) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        session: Session | None = getattr(request.state, "session", None)
        if session is not None:
            response.set_cookie(
                SESSION_COOKIE,
                signer.dumps(session),
                httponly=True,
                samesite="strict",
                secure=config.secure_cookies,
                path="/",
            )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        # the service's line names its token and counts (`token=<name> rows=1 held=0`), a page's the staff id
        who = getattr(request.state, "api_log", None) or (session.staff_id if session is not None else "-")
        elapsed = (time.perf_counter() - started) * 1000
        LOG.info("%s %s %s %.0fms %s", request.method, mask_text(request.url.path), response.status_code, elapsed, who)
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, err: LoginRequired) -> Response:
        if err.actor:
            record(request, err.actor, "session_end", None, "ended", err.why, err.session_ref)
        request.state.session = None
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, err: Forbidden) -> Response:
        return page(request, "error.html", {"title": "权限不足 forbidden", "message": str(err)}, 403)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, err: NotFound) -> Response:
        return page(request, "error.html", {"title": "未找到 not found", "message": str(err)}, 404)

    # ---- dependencies ---------------------------------------------------------------------------------------

    def _session(request: Request) -> Session:
        session = signer.loads(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise LoginRequired()
        with reg.reader(config.register) as con:
            signer.check(con, session)
        request.state.session = session
        return session

    def _roles(*roles: str) -> Callable[..., Session]:
        def dependency(request: Request, session: Annotated[Session, Depends(_session)]) -> Session:
            member = session.member
            assert member is not None
            if member.role not in roles:
                path, ref = request.url.path, session.ref
                record(request, member.staff_id, "refused", path, "refused", f"role {member.role}", ref)
                allowed = "、".join(f"{staff_register.ROLE_ZH[r]} {r}" for r in roles)
                raise Forbidden(f"{member.label}: 此页面仅限 only for {allowed}")
            return session

        return dependency

    async def _csrf(request: Request, session: Annotated[Session, Depends(_session)]) -> dict[str, str]:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if not same_token(session.csrf, form.get("csrf")):
            why = "CSRF token missing or wrong"
            record(request, session.staff_id, "csrf", request.url.path, "refused", why, session.ref)
            raise Forbidden("表单已失效，请刷新页面后重试 the form's token is missing or wrong: reload the page")
        return form

    SessionDep = Annotated[Session, Depends(_session)]
    FormDep = Annotated[dict, Depends(_csrf)]
    CaseReader = Annotated[Session, Depends(_roles(*CASE_ROLES))]
    CaseWorker = Annotated[Session, Depends(_roles(*WORK_ROLES))]
    Overseer = Annotated[Session, Depends(_roles("chief", "auditor"))]
    Admin = Annotated[Session, Depends(_roles("admin"))]
    Chief = Annotated[Session, Depends(_roles("chief"))]

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        session: Session | None = getattr(request.state, "session", None)
        base = {
            "me": session.member if session else None,
            "csrf": session.csrf if session else None,
            "flash": session.pop_flash() if session else None,
            "role_zh": staff_register.ROLE_ZH,
            "today": config.today().isoformat(),
        }
        return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)

    # ---- login and logout ---------------------------------------------------------------------------------

    def login_page(request: Request, message: str | None, status: int) -> Response:
        token, cookie = signer.login_token()
        response = page(request, "login.html", {"login_csrf": token, "message": message}, status)
        response.set_cookie(LOGIN_COOKIE, cookie, httponly=True, samesite="strict", secure=config.secure_cookies)
        return response

    @app.get("/login")
    def login_form(request: Request) -> Response:
        return login_page(request, None, 200)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        staff_id, password = (form.get("staff_id") or "").strip(), form.get("password") or ""
        if not same_token(signer.login_token_of(request.cookies.get(LOGIN_COOKIE)), form.get("csrf")):
            record(request, "-", "login", staff_id, "refused", "CSRF token missing or wrong")
            return login_page(request, "表单已失效，请重试 the form expired: try again", 403)
        now = config.now()
        with reg.reader(config.register) as con:
            known = staff_register.find(con, staff_id) if staff_id else None
            until = accounts.locked_until(con, staff_id, now, config.lockout_failures, config.lockout_minutes)
            checked = None if until else accounts.verify(con, staff_id, password)
        actor = known.staff_id if known else "-"
        if until is not None:
            record(request, actor, "login", staff_id, "locked", f"locked until {until.isoformat(timespec='seconds')}")
            shown = until.strftime("%H:%M")
            message = f"连续登录失败，账号锁定至 {shown} too many failed logins: locked until {shown}"
            return login_page(request, message, 429)
        if checked is None:
            record(request, actor, "login", staff_id, "failed", "wrong staff id or password")
            return login_page(request, "工号或密码错误 wrong staff id or password", 401)
        member, stored = checked
        session = signer.new_session(member.staff_id, stored.password_id)
        session.member = member
        request.state.session = session
        record(request, member.staff_id, "login", member.staff_id, "ok", None, session.ref)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request, session: SessionDep, form: FormDep) -> Response:
        record(request, session.staff_id, "logout", session.staff_id, "ok", None, session.ref)
        request.state.session = None
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/")
    def home(session: SessionDep) -> Response:
        assert session.member is not None
        return RedirectResponse("/staff" if session.member.role == "admin" else "/queue", status_code=303)

    # ---- the queue ------------------------------------------------------------------------------------------

    def queue_page(request: Request, session: Session, params: dict[str, str], person: str | None) -> Response:
        assert session.member is not None
        errors = []

        def money(name: str) -> Decimal | None:
            text = (params.get(name) or "").strip()
            if not text:
                return None
            try:
                return casework.parse_money(text)
            except ValueError as err:
                errors.append(str(err))
                return None

        rule = params.get("rule") or None
        status = params.get("status") or None
        region = (params.get("region") or "").strip() or None
        due_before = (params.get("due_before") or "").strip() or None
        wanted = casework.CaseFilter(
            rule=rule if rule in BY_CODE else None,
            region=region,
            person=(person or "").strip() or None,
            status=status if status in casepages.CASE_STATUS_ZH else None,
            min_amount=money("min"),
            max_amount=money("max"),
            due_before=due_before,
        )
        sort = params.get("sort") if params.get("sort") in casepages.SORTS else "amount"
        descending = params.get("dir", "desc") != "asc"
        try:
            number = int(params.get("page") or 1)
        except ValueError:
            number = 1
        with reg.reader(config.register) as con:
            result = casepages.queue(con, session.member, wanted, config.today(), sort, descending, number)
        kept = {k: v for k, v in params.items() if k in ("rule", "status", "region", "min", "max", "due_before") and v}
        context = {
            "result": result,
            "filters": {**kept, "sort": sort, "dir": "desc" if descending else "asc"},
            "person_filter": bool(wanted.person),
            "person": wanted.person or "",
            "rules": [(code, rule.name_zh) for code, rule in BY_CODE.items()],
            "statuses": casepages.status_choices(),
            "sorts": casepages.SORTS,
            "errors": errors,
        }
        return page(request, "queue.html", context)

    @app.get("/queue")
    def queue_get(request: Request, session: CaseReader) -> Response:
        # A person's ID never travels in a URL: the person filter is a POST (below).
        return queue_page(request, session, dict(request.query_params), None)

    @app.post("/queue")
    def queue_post(request: Request, session: CaseReader, form: FormDep) -> Response:
        return queue_page(request, session, form, form.get("person"))

    # ---- a case ---------------------------------------------------------------------------------------------

    def case_page(
        request: Request, session: Session, suspect_id: str, reveal: bool = False, message=None, status=200
    ) -> Response:
        member = session.member
        assert member is not None
        today = config.today()
        with reg.reader(config.register) as con:
            case = casepages.visible_case(con, member, suspect_id, today)
            if not case:
                raise NotFound(f"没有这个案件，或不在您的统筹区 no such case in your regions: {mask_text(suspect_id)}")
            actions = casepages.allowed_actions(con, member, case)
            context = {
                "case": case,
                "facts": casepages.facts(case, reveal),
                "money": casework.money_lines(case),
                "events": casepages.timeline(con, suspect_id, reveal, config.timezone),
                "actions": actions,
                "action_zh": casepages.ACTION_FORM_ZH,
                "assignees": casepages.assignees(con, case) if "assign" in actions else [],
                "latest_step": reg.latest_step(con, suspect_id) if "correct" in actions else None,
                "closing": closingpages.block(con, case, member),  # 结案报告 of a 要情 (issue 16)
            }
            audited = casepages.audit_evidence(con, suspect_id)  # a case an internal audit opened
        found = audited or casepages.evidence_of(config.db, config.memory_limit, suspect_id, reveal)
        offers, offers_unavailable = [], None
        if member.role == "chief" and blacklistpages.confirmed(case):
            candidates, offers_unavailable = blacklistpages.candidates(config.db, config.memory_limit, case)
            with reg.reader(config.register) as con:
                offers = blacklistpages.offers(con, candidates, case)
        context.update(
            blacklist_offers=offers,
            blacklist_unavailable=offers_unavailable,
            evidence=found.view,
            evidence_unavailable=found.unavailable,
            header_parts=casepages.header_parts,
            reveal=reveal,
            message=message,
            may_reveal=member.role in CASE_ROLES,
        )
        return page(request, "case.html", context, status)

    @app.get("/case/{suspect_id}")
    def case_get(request: Request, suspect_id: str, session: CaseReader) -> Response:
        return case_page(request, session, suspect_id)

    @app.post("/case/{suspect_id}/reveal")
    def case_reveal(
        request: Request,
        suspect_id: str,
        session: CaseReader,
        form: FormDep,
    ) -> Response:
        member = session.member
        assert member is not None
        reason = (form.get("reason") or "").strip()
        with reg.reader(config.register) as con:
            if not casepages.visible_case(con, member, suspect_id, config.today()):
                raise NotFound(f"没有这个案件，或不在您的统筹区 no such case in your regions: {mask_text(suspect_id)}")
        refused = reveal(request, session, "web_show_unmasked", suspect_id, suspect_id, reason)
        if refused:
            return case_page(request, session, suspect_id, message=refused, status=400)
        return case_page(request, session, suspect_id, reveal=True)

    @app.post("/case/{suspect_id}/act/{action}")
    def case_act(
        request: Request,
        suspect_id: str,
        action: str,
        session: CaseWorker,
        form: FormDep,
    ) -> Response:
        member = session.member
        assert member is not None
        if action not in casepages.ACTIONS:
            raise NotFound(f"未知操作 unknown action: {mask_text(action)}")
        with reg.reader(config.register) as con:
            if not casepages.visible_case(con, member, suspect_id, config.today()):
                record(request, member.staff_id, action, suspect_id, "refused", "not visible", session.ref)
                raise NotFound(f"没有这个案件，或不在您的统筹区 no such case in your regions: {mask_text(suspect_id)}")
        try:
            with reg.writer(config.register, create=False) as con:
                message = casepages.act(con, action, suspect_id, member.staff_id, form, config.today())
        except staff_register.NotAllowed as err:
            record(request, member.staff_id, action, suspect_id, "refused", str(err), session.ref)
            return case_page(request, session, suspect_id, message=f"拒绝 refused: {err}", status=403)
        except (reg.CaseError, staff_register.StaffError, casepages.FormError) as err:
            record(request, member.staff_id, action, suspect_id, "error", str(err), session.ref)
            return case_page(request, session, suspect_id, message=f"未能办理 not done: {err}", status=400)
        record(request, member.staff_id, action, suspect_id, "ok", form.get("reason") or None, session.ref)
        session.flash = message
        return RedirectResponse(f"/case/{suspect_id}", status_code=303)

    # ---- a person's picture (POST only: the citizen ID never travels in a URL) ---------------------------

    @app.get("/person")
    def person_form(request: Request, session: CaseReader) -> Response:
        return page(request, "person.html", {"found": None})

    @app.post("/person")
    def person_page(request: Request, session: CaseReader, form: FormDep) -> Response:
        member = session.member
        assert member is not None
        today = config.today()
        via_case = (form.get("case") or "").strip()
        with reg.reader(config.register) as con:
            if via_case:
                person_id, target = personpages.person_of_case(con, member, via_case, today), via_case
            else:
                person_id = personpages.normalised_id(form.get("person"))
                target = trail.person_ref(con, person_id) if person_id else "-"
            found = personpages.findings_of(con, member, person_id, today) if person_id else None
        read = personpages.read_picture(config.db, config.memory_limit, person_id, today) if person_id else None
        known = found is not None and (found.any_at_all or bool(read and read.picture and not read.picture.empty))
        if found is None or not known or (member.role == "verifier" and not found.rows):
            outcome = "refused" if known else "not_found"
            record(request, member.staff_id, "person", target, outcome, None, session.ref)
            raise NotFound("没有此人，或其案件不在您的统筹区 no such person, or none of their cases is in your regions")
        reason = (form.get("reason") or "").strip()
        message = None
        if form.get("reveal") == "1":
            # Shown unmasked only with a reason, recorded in the access log under the person's reference.
            with reg.reader(config.register) as con:
                ref = trail.person_ref(con, person_id)
            message = reveal(request, session, "web_show_unmasked_person", ref, target, reason)
        else:
            record(request, member.staff_id, "person", target, "ok", None, session.ref)
        shown = form.get("reveal") == "1" and message is None
        context = {
            "found": found,
            "picture": read.picture if read else None,
            "unavailable": read.unavailable if read else None,
            "masked_id": person_id if shown else personpages.shown_id(person_id),
            "reveal": shown,
            "via_case": via_case,
            "message": message,
        }
        return page(request, "person.html", context, 400 if message else 200)

    # ---- data quality ----------------------------------------------------------------------------------------

    @app.get("/quality")
    def quality_page(request: Request, session: Overseer) -> Response:
        read = qualitypages.read_quality(config.db, config.memory_limit, ZoneInfo(config.timezone))
        return page(request, "quality.html", {"q": read.quality, "unavailable": read.unavailable})

    # ---- reports ---------------------------------------------------------------------------------------------

    def reports_page(request: Request, values: dict[str, str], message: str | None, status: int) -> Response:
        context = {
            "reports": reportpages.REPORTS.values(),
            "formats": reportpages.FORMATS,
            "values": values,
            "message": message,
        }
        return page(request, "reports.html", context, status)

    @app.get("/reports")
    def reports_form(request: Request, session: Overseer) -> Response:
        return reports_page(request, reportpages.defaults(config.today()), None, 200)

    @app.post("/reports/{kind}")
    def report_made(request: Request, kind: str, session: Overseer, form: FormDep) -> Response:
        member = session.member
        assert member is not None
        fmt = form.get("format") or ""
        if kind not in reportpages.REPORTS or fmt not in reportpages.FORMATS:
            raise NotFound(f"没有这种报告 no such report: {mask_text(kind)[:40]} {mask_text(fmt)[:10]}")
        try:
            doc, stem = reportpages.build(
                kind,
                form,
                register=config.register,
                db=config.db,
                today=config.today(),
                memory_limit=config.memory_limit,
                zone=ZoneInfo(config.timezone),
            )
        except reportpages.ReportFormError as err:
            record(request, member.staff_id, "report", kind, "error", str(err), session.ref)
            values = {**reportpages.defaults(config.today()), **{k: v[:20] for k, v in form.items() if k != "csrf"}}
            return reports_page(request, values, f"未能生成 not made: {err}", 400)
        except WarehouseBusy:
            record(request, member.staff_id, "report", kind, "error", "database busy", session.ref)
            busy = "数据库正被占用，请稍后重试 the database is busy: try again shortly"
            return reports_page(request, reportpages.defaults(config.today()), busy, 503)
        record(request, member.staff_id, "report", f"{kind}:{stem}", "ok", fmt, session.ref)
        if fmt == "print":
            context = {"doc": doc, "sections": reportpages.print_blocks(doc), "printed": config.today().isoformat()}
            return page(request, "report_print.html", context)
        body, media, name = reportpages.rendered(doc, stem, fmt)
        return Response(body, media_type=media, headers={"Content-Disposition": reportpages.attachment(name)})

    # ---- overview, audit, staff -----------------------------------------------------------------------------

    @app.get("/overview")
    def overview(request: Request, session: CaseReader) -> Response:
        assert session.member is not None
        zone = ZoneInfo(config.timezone)
        data = overviewpages.overview(
            config.register, config.db, config.memory_limit, zone, session.member, config.today()
        )
        return page(request, "overview.html", data)

    @app.get("/audit")
    def audit_trail(request: Request, session: Overseer) -> Response:
        with reg.reader(config.register) as con:
            check = trail.verify_trail(con)
            rows = con.execute(
                "SELECT audit_id, at, actor, remote, action, target, outcome, detail FROM web_audit"
                " ORDER BY audit_id DESC LIMIT 200"
            ).fetchall()
            access = con.execute(
                "SELECT access_id, at, actor, os_user, action, target, reason FROM access_log"
                " ORDER BY access_id DESC LIMIT 200"
            ).fetchall()
            targets = sorted({r["target"] for r in [*rows, *access] if r["target"]})
            marks = ", ".join("?" * len(targets)) or "NULL"
            listed = con.execute(f"SELECT suspect_id FROM cases WHERE suspect_id IN ({marks})", targets).fetchall()
            cases = {r[0] for r in listed}
        context = {"check": check, "rows": rows, "access": access, "cases": cases, "mask": mask_text}
        return page(request, "audit.html", context)

    @app.get("/audit/case/{suspect_id}")
    def audit_of_case(request: Request, suspect_id: str, session: Overseer) -> Response:
        with reg.reader(config.register) as con:
            if con.execute("SELECT 1 FROM cases WHERE suspect_id = ?", [suspect_id]).fetchone() is None:
                raise NotFound(f"没有这个案件 no such case: {mask_text(suspect_id)}")
            found = trail.trail_of(con, [suspect_id])
            events = casepages.timeline(con, suspect_id, False, config.timezone)
        context = {"what": f"案件 case {suspect_id}", "trail": found, "events": events, "suspect_id": suspect_id}
        return page(request, "audit_of.html", context)

    @app.post("/audit/person")
    def audit_of_person(request: Request, session: Overseer, form: FormDep) -> Response:
        member = session.member
        assert member is not None
        person_id = personpages.normalised_id(form.get("person"))
        if not person_id:
            raise NotFound("请填写公民身份号码 give a citizen ID")
        with reg.reader(config.register) as con:
            ref = trail.person_ref(con, person_id)
            cases = trail.cases_of_person(con, person_id)
            found = trail.trail_of(con, [ref, *cases])
        record(request, member.staff_id, "audit_person", ref, "ok", None, session.ref)
        context = {"what": f"人员 person {personpages.shown_id(person_id)}", "trail": found, "cases": cases}
        return page(request, "audit_of.html", context)

    @app.get("/staff")
    def staff_list(request: Request, session: Admin) -> Response:
        with reg.reader(config.register) as con:
            members = staff_register.everyone(con)
            passwords = {m.staff_id: accounts.current(con, m.staff_id) for m in members}
        return page(request, "staff.html", {"members": members, "passwords": passwords})

    # ---- screening (事前筛查): the list, one screening's held rows, adjudication --------------------------------

    @app.get("/screenings")
    def screenings_page(request: Request, session: CaseReader) -> Response:
        assert session.member is not None
        with reg.reader(config.register) as con:
            rows = screenpages.screening_list(con, session.member, ZoneInfo(config.timezone))
        return page(request, "screenings.html", {"screenings": rows})

    def screening_view(
        request: Request, session: Session, screening_id: int, params: dict[str, str], message=None, status=200
    ) -> Response:
        member = session.member
        assert member is not None
        reason = screenpages.wanted_reason(params.get("reason"))
        decision = screenpages.wanted_decision(params.get("decision"))
        try:
            number = int(params.get("page") or 1)
        except ValueError:
            number = 1
        with reg.reader(config.register) as con:
            found = screenpages.screening_page(
                con, member, screening_id, reason, decision, number, ZoneInfo(config.timezone)
            )
        if found is None:
            raise NotFound(f"没有这次筛查 no such screening: {screening_id}")
        context = {
            "s": found,
            "reason": reason or "",
            "decision": decision or "",
            "reasons": screenpages.reason_choices(),
            "decisions": screenpages.decision_choices(),
            "reason_label": screenpages.reason_label,
            "decision_label": adjudication.decision_label,
            "message": message,
        }
        return page(request, "screening.html", context, status)

    def number_in_path(text: str, what: str) -> int:
        """A screening's or an entry's number from the path; anything else is a page that does not exist."""
        if not (text.isascii() and text.isdigit()) or len(text) > 12:
            raise NotFound(f"没有这个{what} no such {what}: {mask_text(text)[:40]}")
        return int(text)

    @app.get("/screening/{screening}")
    def screening_get(request: Request, screening: str, session: CaseReader) -> Response:
        screening_id = number_in_path(screening, "筛查 screening")
        return screening_view(request, session, screening_id, dict(request.query_params))

    @app.post("/screening/{screening}/adjudicate")
    def screening_adjudicate(request: Request, screening: str, session: CaseWorker, form: FormDep) -> Response:
        member = session.member
        assert member is not None
        screening_id = number_in_path(screening, "筛查 screening")
        back = {k[5:]: v for k, v in form.items() if k.startswith("back_")}
        try:
            line = screenpages.line_of(form)
        except screenpages.FormError as err:
            record(request, member.staff_id, "adjudicate", f"screening:{screening_id}", "error", str(err), session.ref)
            return screening_view(request, session, screening_id, back, f"未能认定 not done: {err}", 400)
        target = f"screening:{screening_id}:{line}"
        decision, reason = (form.get("decision") or "").strip(), (form.get("reason") or "").strip()
        try:
            with reg.writer(config.register, create=False) as con:
                adjudication.adjudicate(con, member.staff_id, screening_id, line, decision, reason)
        except staff_register.NotAllowed as err:
            record(request, member.staff_id, "adjudicate", target, "refused", str(err), session.ref)
            return screening_view(request, session, screening_id, back, f"拒绝 refused: {err}", 403)
        except (reg.CaseError, staff_register.StaffError) as err:
            record(request, member.staff_id, "adjudicate", target, "error", str(err), session.ref)
            return screening_view(request, session, screening_id, back, f"未能认定 not done: {err}", 400)
        record(request, member.staff_id, "adjudicate", target, "ok", f"{decision}: {reason}", session.ref)
        session.flash = f"已认定 decided: 第{line}行 line {line} → {adjudication.decision_label(decision)}"
        return RedirectResponse(f"/screening/{screening_id}{screenpages.back_query(form)}", status_code=303)

    # ---- the blacklist (黑名单) -----------------------------------------------------------------------------------

    def blacklist_page(request: Request, message: str | None = None, status: int = 200, kept=None) -> Response:
        with reg.reader(config.register) as con:
            entries = blacklistpages.listing(con, ZoneInfo(config.timezone))
        context = {
            "entries": entries,
            "kinds": blacklistpages.kind_choices(),
            "message": message,
            "kept": kept or {},
            "in_force": sum(1 for e in entries if e["in_force"]),
        }
        return page(request, "blacklist.html", context, status)

    @app.get("/blacklist")
    def blacklist_get(request: Request, session: CaseReader) -> Response:
        return blacklist_page(request)

    def blacklist_target(con, kind: str, key: str, entry_id: int | None) -> str:
        """Who an entry names, in the trail: a person's reference (the audit lists everything about them), else the
        entry."""
        if kind == "person":
            try:
                return trail.person_ref(con, blacklist.canonical_person_id(key))
            except blacklist.BlacklistError:
                pass
        return f"blacklist:{entry_id}" if entry_id is not None else "blacklist"

    @app.post("/blacklist/add")
    def blacklist_add(request: Request, session: Chief, form: FormDep) -> Response:
        member = session.member
        assert member is not None
        kind, key, reason = ((form.get(n) or "").strip() for n in ("kind", "key", "reason"))
        kept = {"kind": kind, "reason": reason[:200]}  # the key is not sent back: it may be a citizen ID
        try:
            with reg.writer(config.register, create=False) as con:
                entry_id = blacklist.add(con, member.staff_id, kind, key, reason)
                target = blacklist_target(con, kind, key, entry_id)
        except staff_register.NotAllowed as err:
            record(request, member.staff_id, "blacklist_add", "blacklist", "refused", str(err), session.ref)
            return blacklist_page(request, f"拒绝 refused: {err}", 403, kept)
        except (reg.CaseError, staff_register.StaffError) as err:
            record(request, member.staff_id, "blacklist_add", "blacklist", "error", str(err), session.ref)
            return blacklist_page(request, f"未能列入 not added: {err}", 400, kept)
        detail = f"entry {entry_id} {kind}: {reason}"
        record(request, member.staff_id, "blacklist_add", target, "ok", detail, session.ref)
        session.flash = f"已列入黑名单 added: entry {entry_id}"
        return RedirectResponse("/blacklist", status_code=303)

    @app.post("/blacklist/{entry}/remove")
    def blacklist_remove(request: Request, entry: str, session: Chief, form: FormDep) -> Response:
        member = session.member
        assert member is not None
        entry_id = number_in_path(entry, "黑名单记录 entry")
        reason = (form.get("reason") or "").strip()
        this = f"blacklist:{entry_id}"
        try:
            with reg.writer(config.register, create=False) as con:
                blacklist.remove(con, member.staff_id, entry_id, reason)
                entry = next((e for e in blacklist.entries(con) if e["entry_id"] == entry_id), None)
                target = blacklist_target(con, str(entry["kind"]), str(entry["key"]), entry_id) if entry else None
        except staff_register.NotAllowed as err:
            record(request, member.staff_id, "blacklist_remove", this, "refused", str(err), session.ref)
            return blacklist_page(request, f"拒绝 refused: {err}", 403)
        except (reg.CaseError, staff_register.StaffError) as err:
            record(request, member.staff_id, "blacklist_remove", this, "error", str(err), session.ref)
            return blacklist_page(request, f"未能移出 not removed: {err}", 400)
        record(request, member.staff_id, "blacklist_remove", target, "ok", f"entry {entry_id}: {reason}", session.ref)
        session.flash = f"已移出黑名单 removed: entry {entry_id}（记录保留 kept on record）"
        return RedirectResponse("/blacklist", status_code=303)

    @app.post("/case/{suspect_id}/blacklist")
    def case_blacklist(request: Request, suspect_id: str, session: Chief, form: FormDep) -> Response:
        """A confirmed case's candidate put on the blacklist, the case as its source; the form names the candidate
        by its index in what the case offers (`blacklistpages.candidate_at`)."""
        member = session.member
        assert member is not None
        with reg.reader(config.register) as con:
            case = casepages.visible_case(con, member, suspect_id, config.today())
        if not case:
            record(request, member.staff_id, "blacklist_add", suspect_id, "refused", "not visible", session.ref)
            raise NotFound(f"没有这个案件 no such case: {mask_text(suspect_id)}")
        reason = (form.get("reason") or "").strip()
        try:
            if not blacklistpages.confirmed(case):
                raise blacklistpages.FormError("案件尚未确认违规 the case is not confirmed as a violation")
            found, _ = blacklistpages.candidates(config.db, config.memory_limit, case)
            chosen = blacklistpages.candidate_at(found, form)
            with reg.writer(config.register, create=False) as con:
                entry_id = blacklist.add(con, member.staff_id, chosen.kind, chosen.key, reason, suspect_id)
        except staff_register.NotAllowed as err:
            record(request, member.staff_id, "blacklist_add", suspect_id, "refused", str(err), session.ref)
            return case_page(request, session, suspect_id, message=f"拒绝 refused: {err}", status=403)
        except (reg.CaseError, staff_register.StaffError, blacklistpages.FormError) as err:
            record(request, member.staff_id, "blacklist_add", suspect_id, "error", str(err), session.ref)
            return case_page(request, session, suspect_id, message=f"未能列入 not added: {err}", status=400)
        detail = f"entry {entry_id} {chosen.label}: {reason}"
        record(request, member.staff_id, "blacklist_add", suspect_id, "ok", detail, session.ref)
        session.flash = f"已列入黑名单 added to the blacklist: {chosen.label}（entry {entry_id}）"
        return RedirectResponse(f"/case/{suspect_id}", status_code=303)

    # ---- 要情结案报告: a chief makes the closing report of a closed 要情 (issue 16, closingpages) ------------------

    @app.post("/case/{suspect_id}/closing-report")
    def case_closing_report(request: Request, suspect_id: str, session: Chief, form: FormDep) -> Response:
        member = session.member
        assert member is not None
        with reg.reader(config.register) as con:
            visible = casepages.visible_case(con, member, suspect_id, config.today())
        if not visible:
            record(request, member.staff_id, "closing_report", suspect_id, "refused", "not visible", session.ref)
            raise NotFound(f"没有这个案件 no such case: {mask_text(suspect_id)}")
        try:
            made = closingpages.make(config, member.staff_id, suspect_id, form)
        except staff_register.NotAllowed as err:
            record(request, member.staff_id, "closing_report", suspect_id, "refused", str(err), session.ref)
            return case_page(request, session, suspect_id, message=f"拒绝 refused: {err}", status=403)
        except (reg.CaseError, staff_register.StaffError) as err:
            record(request, member.staff_id, "closing_report", suspect_id, "error", str(err), session.ref)
            return case_page(request, session, suspect_id, message=f"未能出具 not made: {err}", status=400)
        detail = f"v{made.version} {made.paths[1].name}"
        record(request, member.staff_id, "closing_report", suspect_id, "ok", detail, session.ref)
        session.flash = f"已出具结案报告 closing report made: v{made.version}（{made.paths[1].name}）"
        return RedirectResponse(f"/case/{suspect_id}", status_code=303)

    # ---- the internal audit (稽核抽样, issue 16): the draws, a draw's sample, a chief records a result ---------------
    from pipelines.cases import internal_audit
    from pipelines.web import internalauditpages

    def internal_audit_page(request: Request, message: str | None = None, status: int = 200) -> Response:
        with reg.reader(config.register) as con:
            draws = internalauditpages.draw_list(con, ZoneInfo(config.timezone))
        last = config.today().replace(day=1) - dt.timedelta(days=1)  # the month before: what is audited now
        context = {"draws": draws, "message": message, "last_month": f"{last.year:04d}{last.month:02d}"}
        return page(request, "internal_audit.html", context, status)

    @app.get("/internal-audit")
    def internal_audit_list(request: Request, session: Overseer) -> Response:
        return internal_audit_page(request)

    @app.post("/internal-audit/draw")
    def internal_audit_new(request: Request, session: Chief, form: FormDep) -> Response:
        """A chief draws a month's sample on the page, as `fundwatch audit draw` does (a seed drawn and recorded)."""
        member = session.member
        assert member is not None
        month = (form.get("month") or "").strip()
        try:
            with (
                reg.writer(config.register, create=False) as con,
                published_reader(config.db, memory_limit=config.memory_limit) as duck,
            ):
                drawn = internal_audit.draw(con, duck, month, member.staff_id, today=config.today())
        except staff_register.NotAllowed as err:
            record(request, member.staff_id, "audit_draw", f"audit_month:{month[:6]}", "refused", str(err), session.ref)
            return internal_audit_page(request, f"拒绝 refused: {err}", 403)
        except (reg.CaseError, staff_register.StaffError, ValueError) as err:
            record(request, member.staff_id, "audit_draw", f"audit_month:{month[:6]}", "error", str(err), session.ref)
            return internal_audit_page(request, f"未能抽样 not drawn: {err}", 400)
        except (WarehouseBusy, FileNotFoundError, duckdb.Error) as err:
            said = mask_text(" ".join(str(err).split()))[:200]
            return internal_audit_page(request, f"数据库暂不可读 the published database cannot be read: {said}", 503)
        detail = f"{drawn.month}: {drawn.sampled} of {drawn.population}, seed {drawn.seed}"
        record(request, member.staff_id, "audit_draw", f"audit_draw:{drawn.draw_id}", "ok", detail, session.ref)
        session.flash = f"已抽样 drawn: {drawn.month} 抽取 {drawn.sampled}/{drawn.population}（draw {drawn.draw_id}）"
        return RedirectResponse(f"/internal-audit/{drawn.draw_id}", status_code=303)

    def internal_audit_view(request: Request, draw_id: int, message: str | None = None, status: int = 200) -> Response:
        with reg.reader(config.register) as con:
            view = internalauditpages.draw_page(con, draw_id, ZoneInfo(config.timezone))
        if view is None:
            raise NotFound(f"没有这次稽核抽样 no such draw: {draw_id}")
        return page(request, "internal_audit_draw.html", {"v": view, "message": message}, status)

    @app.get("/internal-audit/{draw}")
    def internal_audit_draw(request: Request, draw: str, session: Overseer) -> Response:
        return internal_audit_view(request, number_in_path(draw, "稽核抽样 draw"))

    @app.post("/internal-audit/{draw}/result")
    def internal_audit_result(request: Request, draw: str, session: Chief, form: FormDep) -> Response:
        member = session.member
        assert member is not None
        draw_id = number_in_path(draw, "稽核抽样 draw")
        target = f"audit_draw:{draw_id}"
        try:
            business_id, result, finding, open_case = internalauditpages.result_of(form)
            target = f"audit_draw:{draw_id}:{mask_text(business_id)[:64]}"
            with reg.writer(config.register, create=False) as con:
                _, suspect_id = internal_audit.record_result(
                    con, member.staff_id, draw_id, business_id, result, finding, open_case, today=config.today()
                )
        except staff_register.NotAllowed as err:
            record(request, member.staff_id, "audit_result", target, "refused", str(err), session.ref)
            return internal_audit_view(request, draw_id, f"拒绝 refused: {err}", 403)
        except (reg.CaseError, staff_register.StaffError, internalauditpages.FormError) as err:
            record(request, member.staff_id, "audit_result", target, "error", str(err), session.ref)
            return internal_audit_view(request, draw_id, f"未能登记 not recorded: {err}", 400)
        detail = f"{result}: {mask_text(finding or '')}" + (f" case {suspect_id}" if suspect_id else "")
        record(request, member.staff_id, "audit_result", target, "ok", detail, session.ref)
        opened = f"，已立案 case {suspect_id}" if suspect_id else ""
        session.flash = f"已登记 recorded: {business_id} → {internal_audit.RESULT_ZH[result]} {result}{opened}"
        return RedirectResponse(f"/internal-audit/{draw_id}", status_code=303)

    # ---- the screening service (a machine's route: an API token, no session, no CSRF) ----------------------------

    def api_error(request: Request, status: int, message: str, name: str | None) -> Response:
        """Refuse a call (401) or say why it cannot be screened (400, 413, 503): logged in `api_calls` and in the
        log line, the JSON body naming what is wrong."""
        outcome = "refused" if status == 401 else "error"
        with reg.writer(config.register, create=False) as con:
            tokens.record_call(con, token_name=name, remote=remote(request), outcome=outcome, detail=message)
        request.state.api_log = f"token={name or tokens.NO_TOKEN} {outcome}"
        headers = {"WWW-Authenticate": 'Bearer realm="fundwatch"'} if status == 401 else None
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    def api_screened(request: Request, name: str, body: bytes) -> Response:
        try:
            batch = apiscreen.batch_of(body, config.today())
        except apiscreen.BadRequest as err:
            return api_error(request, 400, str(err), name)
        try:
            with reg.reader(config.register) as con:
                listed = service.blacklist_in_force(con)
            with published.screening() as (duck, known):
                screening = service.screen(batch, duck, listed, config.today(), known)
        except WarehouseBusy:
            return api_error(request, 503, "数据库正被占用，请稍后重试 the database is busy: try again shortly", name)
        except FileNotFoundError:
            return api_error(request, 503, "没有已发布的数据库 no published database to screen against", name)
        except duckdb.Error as err:
            said = mask_text(" ".join(str(err).split()))[:200]
            return api_error(request, 503, f"数据库暂不可读 the published database cannot be read: {said}", name)
        with reg.writer(config.register, create=False) as con, reg.write_transaction(con):  # one commit
            screening_id = service.record(
                con,
                screening,
                batch_file="api",
                by=f"token:{name}",
                channel="api",
                at=config.now().isoformat(timespec="seconds"),
            )
            rows, held = screening.results.height, screening.held
            tokens.record_call(
                con,
                token_name=name,
                remote=remote(request),
                outcome="ok",
                rows=rows,
                held=held,
                screening_id=screening_id,
            )
        request.state.api_log = f"token={name} rows={rows} held={held}"
        return Response(apiscreen.result_lines(screening.results), media_type=apiscreen.MEDIA_TYPE)

    # ---- special inspections (专项检查, policy §五): the list, a plan, one inspection, its steps, its report ---------

    def inspections_page(request: Request, session: Session, message=None, status=200, kept=None) -> Response:
        member = session.member
        assert member is not None
        text = request.query_params.get("year") or ""
        year = int(text) if text.isascii() and text.isdigit() and len(text) == 4 else config.today().year
        with reg.reader(config.register) as con:
            data = inspectionpages.listing(con, member, year)
        context = {**data, "schemes": inspectionpages.scheme_choices(), "message": message, "kept": kept or {}}
        return page(request, "inspections.html", context, status)

    @app.get("/inspections")
    def inspections_get(request: Request, session: CaseReader) -> Response:
        return inspections_page(request, session)

    @app.post("/inspections/plan")
    def inspections_plan(request: Request, session: Chief, form: FormDep) -> Response:
        member = session.member
        assert member is not None
        kept = {k: mask_text(v)[:200] for k, v in form.items() if k != "csrf"}
        try:
            plan = inspectionpages.plan_of(form)
            with reg.writer(config.register, create=False) as con:
                inspection_id = inspections.plan(con, member.staff_id, plan)
        except staff_register.NotAllowed as err:
            record(request, member.staff_id, "inspection_plan", "inspections", "refused", str(err), session.ref)
            return inspections_page(request, session, f"拒绝 refused: {err}", 403, kept)
        except (reg.CaseError, staff_register.StaffError, inspectionpages.FormError) as err:
            record(request, member.staff_id, "inspection_plan", "inspections", "error", str(err), session.ref)
            return inspections_page(request, session, f"未能制定计划 not planned: {err}", 400, kept)
        target = f"inspection:{inspection_id}"
        record(request, member.staff_id, "inspection_plan", target, "ok", mask_text(plan.title), session.ref)
        session.flash = f"已制定检查计划 planned: 专项检查 {inspection_id}"
        return RedirectResponse(f"/inspection/{inspection_id}", status_code=303)

    def inspection_view(request: Request, session: Session, inspection_id: int, message=None, status=200):
        member = session.member
        assert member is not None
        with reg.reader(config.register) as con:
            data = inspectionpages.detail(con, member, inspection_id, ZoneInfo(config.timezone))
        if data is None:
            raise NotFound(f"没有这次专项检查 no such inspection: {inspection_id}")
        return page(request, "inspection.html", {**data, "message": message}, status)

    @app.get("/inspection/{inspection}")
    def inspection_get(request: Request, inspection: str, session: CaseReader) -> Response:
        return inspection_view(request, session, number_in_path(inspection, "专项检查 inspection"))

    @app.get("/inspection/{inspection}/report")
    def inspection_report(request: Request, inspection: str, session: CaseReader) -> Response:
        """The latest report of the inspection (the signed copy once signed), from the register's folder, checked
        against the hash recorded."""
        member = session.member
        assert member is not None
        inspection_id = number_in_path(inspection, "专项检查 inspection")
        target = f"inspection:{inspection_id}"
        with reg.reader(config.register) as con:
            data = inspectionpages.detail(con, member, inspection_id, ZoneInfo(config.timezone))
            if data is None:
                raise NotFound(f"没有这次专项检查 no such inspection: {inspection_id}")
            try:
                path, body = inspections.report_file(con, data["i"])
            except inspections.InspectionError as err:
                record(request, member.staff_id, "inspection_download", target, "error", str(err), session.ref)
                return inspection_view(request, session, inspection_id, f"无法下载 cannot download: {err}", 404)
        record(request, member.staff_id, "inspection_download", target, "ok", path.name, session.ref)
        headers = {"Content-Disposition": reportpages.attachment(path.name)}
        return Response(body, media_type=inspectionpages.MEDIA_TYPE, headers=headers)

    @app.post("/inspection/{inspection}/{action}")
    def inspection_act(request: Request, inspection: str, action: str, session: CaseWorker, form: FormDep):
        member = session.member
        assert member is not None
        inspection_id = number_in_path(inspection, "专项检查 inspection")
        if action not in inspectionpages.ACTIONS:
            raise NotFound(f"没有这个操作 no such action: {mask_text(action)[:40]}")
        target, what = f"inspection:{inspection_id}", f"inspection_{action}"
        with reg.reader(config.register) as con:
            visible = inspectionpages.detail(con, member, inspection_id, ZoneInfo(config.timezone)) is not None
        if not visible:
            record(request, member.staff_id, what, target, "refused", "not visible", session.ref)
            raise NotFound(f"没有这次专项检查 no such inspection: {inspection_id}")
        try:
            with reg.writer(config.register, create=False) as con:
                done = inspectionpages.act(con, member, inspection_id, action, form, config.today())
        except staff_register.NotAllowed as err:
            record(request, member.staff_id, what, target, "refused", str(err), session.ref)
            return inspection_view(request, session, inspection_id, f"拒绝 refused: {err}", 403)
        except (reg.CaseError, staff_register.StaffError, inspectionpages.FormError) as err:
            record(request, member.staff_id, what, target, "error", str(err), session.ref)
            return inspection_view(request, session, inspection_id, f"未能完成 not done: {err}", 400)
        record(request, member.staff_id, what, target, "ok", done, session.ref)
        session.flash = done
        return RedirectResponse(f"/inspection/{inspection_id}", status_code=303)

    @app.post("/api/screen")
    async def api_screen(request: Request) -> Response:
        token = apiscreen.bearer_token(request.headers.get("authorization"))

        def verified() -> str | None:
            with reg.reader(config.register) as con:
                return tokens.verify(con, token)

        name = await run_in_threadpool(verified) if token else None
        if name is None:
            why = "令牌无效或已吊销 unknown or revoked token" if token else "缺少令牌 no token: Authorization: Bearer …"
            return await run_in_threadpool(api_error, request, 401, why, None)
        declared = request.headers.get("content-length") or ""
        if declared.isdigit() and int(declared) > apiscreen.MAX_BODY_BYTES:
            too_big = f"请求体过大 the body is over {apiscreen.MAX_BODY_BYTES} bytes: split the batch"
            return await run_in_threadpool(api_error, request, 413, too_big, name)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > apiscreen.MAX_BODY_BYTES:
                too_big = f"请求体过大 the body is over {apiscreen.MAX_BODY_BYTES} bytes: split the batch"
                return await run_in_threadpool(api_error, request, 413, too_big, name)
        return await run_in_threadpool(api_screened, request, name, bytes(body))

    return app
