"""`deskpulse serve`: the web app. Server-rendered pages and a JSON API over the same library calls.

Security, in the order a request meets it:
- every response carries a Content-Security-Policy that allows scripts and styles from the app only (the chart
  script is served by the app, no CDN), no framing, no sniffing;
- pages need a session (a random id in an HttpOnly, SameSite=Strict cookie, Secure unless the app is reached over
  plain HTTP on loopback); the API takes a bearer token (`deskpulse token add`) or the session;
- every POST must carry the session's CSRF token (the login form: a double-submit cookie) and, when the browser
  sends one, an Origin header naming this host;
- failed logins are counted per username and per client address, and refused past `[web] login_attempts`;
- all text is escaped by Jinja's autoescape: a subject or body is customer input, hostile until proven otherwise.
"""

import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from deskpulse import charts
from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.metrics.catalog import METRICS
from deskpulse.metrics.engine import PERIODS
from deskpulse.render import records_json
from deskpulse.state import SharedState, connect_state
from deskpulse.web import accounts, pages
from deskpulse.web.accounts import Viewer
from deskpulse.web.data import FILTER_DIMENSIONS, Dashboard, Filters, StoreBusy
from deskpulse.web.views import Page

logger = logging.getLogger("deskpulse.serve")
SESSION_COOKIE = "deskpulse_session"
LOGIN_CSRF_COOKIE = "deskpulse_login_csrf"
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)  # Vega compiles its chart expressions with Function (unsafe-eval) and sets inline styles on its tooltips.
NAV = (
    ("/scorecard", "Scorecard"),
    ("/trends", "Trends"),
    ("/agents", "Agents"),
    ("/categories", "Categories"),
    ("/flags", "Review queue"),
    ("/bottlenecks", "Bottlenecks"),
    ("/sla", "SLA"),
    ("/reports", "Reports"),
)


class NeedLogin(Exception):
    """A page was asked for without a valid session."""


# A loop's first run waits this long after start-up, so the server answers its first pages first.
LOOP_START_DELAY_SECONDS = 2.0


class Loop:
    """A job of the server's own, on a thread with its own state connection: once shortly after start-up, then
    every ``minutes``. ``work(state)`` opens the store itself (through the dashboard, which serialises it with
    the pages). A failed run is logged and the loop goes on: the next may find the store readable."""

    def __init__(self, name: str, minutes: int, state_file: Path, work: Callable[[sqlite3.Connection], None]) -> None:
        self.name, self.minutes, self.state_file, self.work = name, minutes, state_file, work
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"deskpulse-{name}", daemon=True)

    def _run(self) -> None:
        state = connect_state(self.state_file)
        try:
            delay = LOOP_START_DELAY_SECONDS
            while not self.stop.wait(delay):
                try:
                    self.work(state)
                except Exception as exc:
                    logger.warning("%s failed: %s: %s", self.name, type(exc).__name__, exc)
                delay = self.minutes * 60.0
        finally:
            state.close()


def server_loops(dashboard: Dashboard, config: Config, state_file: Path) -> list[Loop]:
    """The alert loop (`deskpulse alerts run`) when alerts have a channel, and the survey loop (`deskpulse surveys
    send`) when surveys are mailed; each only with a non-zero interval."""
    from deskpulse.alerts.settings import alerts_config
    from deskpulse.surveys.settings import surveys_config

    def alerts(state: sqlite3.Connection) -> None:
        from deskpulse.alerts.run import run_alerts

        with dashboard.reading() as store:
            outcome = run_alerts(store, config, state)
        if outcome.failed:
            raise RuntimeError("; ".join(str(d.error) for d in outcome.failed))

    def surveys(state: sqlite3.Connection) -> None:
        from deskpulse.surveys.send import send_due_surveys

        with dashboard.writing() as store:
            send_due_surveys(store, config, state)

    loops = []
    if config.web.alerts_every_minutes > 0 and alerts_config(config).channels:
        loops.append(Loop("alert run", config.web.alerts_every_minutes, state_file, alerts))
    survey_settings = surveys_config(config)
    if survey_settings.send_every_minutes > 0 and survey_settings.sends_mail:
        loops.append(Loop("survey send", survey_settings.send_every_minutes, state_file, surveys))
    return loops


def create_app(db: Path, config: Config, state_file: Path) -> FastAPI:
    from deskpulse.web.surveys import survey_router

    dashboard = Dashboard(db, config)
    loops = server_loops(dashboard, config, state_file)

    warm = threading.Event()

    def prewarm() -> None:
        """Compute the default scorecard page once at start-up, so that its first visitor finds it warm."""
        try:
            viewer = Viewer("(start-up)", "manager", None)
            pages.scorecard_page(dashboard, viewer, Filters(period=config.scorecard.period), None)
            pages.filter_options(dashboard, viewer)
        except Exception as exc:  # a page asked for later reports the same problem to its visitor
            logger.warning("could not compute the scorecard at start-up: %s", exc)
        finally:
            warm.set()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=prewarm, name="deskpulse-prewarm", daemon=True).start()
        for loop in loops:
            loop.thread.start()
        yield
        for loop in loops:
            loop.stop.set()

    app = FastAPI(
        lifespan=lifespan,
        title="deskpulse",
        description="Help desk KPIs, tickets, review flags and reports. Authenticate with `Authorization: Bearer "
        "<token>` (`deskpulse token add USER`).",
        docs_url=None,  # the interactive docs load their script from a CDN; the schema is at /api/openapi.json
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    state = SharedState(accounts.prepare(connect_state(state_file)))
    templates = Environment(loader=PackageLoader("deskpulse.web"), autoescape=select_autoescape(default=True))
    templates.globals.update(nav=NAV, periods=PERIODS, dimensions=FILTER_DIMENSIONS, metrics=METRICS)
    app.state.warm = warm  # set once the start-up computation is done
    # The survey pages: no sign-in, the signed link is the credential (docs/surveys.md).
    app.include_router(survey_router(dashboard, config, state_file))

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def secure_cookie(request: Request) -> bool:
        loopback_http = request.url.scheme == "http" and (request.url.hostname or "") in (
            "127.0.0.1",
            "localhost",
            "::1",
        )
        return config.web.secure_cookies and not loopback_http

    def session_of(request: Request) -> accounts.Session | None:
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id:
            return None
        found: accounts.Session | None = state.run(lambda c: accounts.find_session(c, session_id))
        return found

    def page_session(request: Request) -> accounts.Session:
        session = session_of(request)
        if session is None:
            raise NeedLogin()
        return session

    def api_viewer(request: Request) -> Viewer:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
            viewer: Viewer | None = state.run(lambda c: accounts.token_viewer(c, token))
            if viewer is None:
                raise HTTPException(401, "unknown API token", headers={"WWW-Authenticate": "Bearer"})
            return viewer
        session = session_of(request)
        if session is None:
            raise HTTPException(401, "send Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"})
        return session.viewer

    def check_origin(request: Request) -> None:
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            raise HTTPException(403, "cross-site form refused")

    def render_page(
        request: Request,
        session: accounts.Session,
        page: Page,
        filters: Filters | None,
        template: str = "page.html",
        **extra: Any,
    ) -> Response:
        export = request.query_params.get("export")
        if export is not None:
            table = page.table(export)
            if table is None:
                raise HTTPException(404, f"no table {export!r} on this page")
            return PlainTextResponse(
                table.csv(),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{export}.csv"'},
            )
        pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "export"]
        if filters is not None:
            extra["options"] = pages.filter_options(dashboard, session.viewer)
        html = templates.get_template(template).render(
            page=page,
            viewer=session.viewer,
            csrf=session.csrf,
            filters=filters,
            path=request.url.path,
            query=urlencode(pairs),
            show_filters=filters is not None,
            **extra,
        )
        return HTMLResponse(html)

    @app.exception_handler(NeedLogin)
    async def to_login(request: Request, exc: NeedLogin) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(pages.Forbidden)
    async def forbidden(request: Request, exc: pages.Forbidden) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return HTMLResponse(
            templates.get_template("error.html").render(title="Not yours to see", message=str(exc), viewer=None),
            status_code=403,
        )

    @app.exception_handler(StoreBusy)
    async def busy(request: Request, exc: StoreBusy) -> Response:
        return PlainTextResponse(str(exc), status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=400)
        return HTMLResponse(
            templates.get_template("error.html").render(title="Cannot show this", message=str(exc), viewer=None),
            status_code=400,
        )

    # --- sign in and out ---------------------------------------------------------------------------------------

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/scorecard", error: str | None = None) -> Response:
        token = secrets.token_urlsafe(24)
        html = templates.get_template("login.html").render(csrf=token, next=_safe_next(next), error=error, viewer=None)
        response = HTMLResponse(html)
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookie(request), path="/login"
        )
        return response

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf: Annotated[str, Form()],
        next: Annotated[str, Form()] = "/scorecard",
    ) -> Response:
        check_origin(request)
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
        if not expected or not secrets.compare_digest(expected, csrf):
            raise HTTPException(403, "the login form expired; reload the page")
        address = request.client.host if request.client else "unknown"
        keys = accounts.login_keys(username, address)
        window = timedelta(minutes=config.web.login_window_minutes)

        def attempt(c: sqlite3.Connection) -> Viewer | str | None:
            if accounts.login_refused(c, keys, config.web.login_attempts, window):
                return "refused"
            return accounts.authenticate(c, username, password, keys)

        outcome = state.run(attempt)
        if outcome == "refused":
            return HTMLResponse(
                templates.get_template("login.html").render(
                    csrf=expected,
                    next=_safe_next(next),
                    viewer=None,
                    error=f"Too many failed attempts; try again in {config.web.login_window_minutes} minutes.",
                ),
                status_code=429,
            )
        if not isinstance(outcome, Viewer):
            return HTMLResponse(
                templates.get_template("login.html").render(
                    csrf=expected, next=_safe_next(next), viewer=None, error="Wrong username or password."
                ),
                status_code=401,
            )
        session = state.run(lambda c: accounts.start_session(c, outcome, config.web.session_hours))
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session.id,
            httponly=True,
            samesite="strict",
            secure=secure_cookie(request),
            max_age=config.web.session_hours * 3600,
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(
        request: Request, csrf: Annotated[str, Form()], session: Annotated[accounts.Session, Depends(page_session)]
    ) -> Response:
        check_origin(request)
        if not secrets.compare_digest(session.csrf, csrf):
            raise HTTPException(403, "invalid form token")
        state.run(lambda c: accounts.end_session(c, session.id))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # --- pages ------------------------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/scorecard", status_code=303)

    @app.get("/static/vega.js", include_in_schema=False)
    def vega_js() -> Response:
        return Response(
            charts.vega_script(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
        )

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        files = {"app.js": "text/javascript", "style.css": "text/css"}
        if name not in files:
            raise HTTPException(404)
        text = (Path(__file__).parent / "static" / name).read_text(encoding="utf-8")
        return Response(text, media_type=files[name], headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/scorecard", include_in_schema=False)
    def scorecard(
        request: Request, session: Annotated[accounts.Session, Depends(page_session)], at: str | None = None
    ) -> Response:
        filters = filters_of(request, config)
        page = pages.scorecard_page(dashboard, session.viewer, filters, at or None)
        return render_page(request, session, page, filters)

    @app.get("/trends", include_in_schema=False)
    def trends(
        request: Request,
        session: Annotated[accounts.Session, Depends(page_session)],
        metric: str = "first_response_time",
    ) -> Response:
        filters = filters_of(request, config)
        page = pages.trends_page(dashboard, session.viewer, filters, metric)
        return render_page(request, session, page, filters, metric_choice=metric)

    @app.get("/agents", include_in_schema=False)
    def agents(request: Request, session: Annotated[accounts.Session, Depends(page_session)]) -> Response:
        if not session.viewer.sees_everyone:
            return RedirectResponse(f"/agents/{session.viewer.agent}", status_code=303)
        filters = filters_of(request, config)
        return render_page(request, session, pages.agents_page(dashboard, session.viewer, filters), filters)

    @app.get("/agents/{agent}", include_in_schema=False)
    def agent(request: Request, agent: str, session: Annotated[accounts.Session, Depends(page_session)]) -> Response:
        filters = filters_of(request, config)
        return render_page(request, session, pages.agent_page(dashboard, session.viewer, filters, agent), filters)

    @app.get("/categories", include_in_schema=False)
    def categories(
        request: Request, session: Annotated[accounts.Session, Depends(page_session)], level: str = "category"
    ) -> Response:
        filters = filters_of(request, config)
        page = pages.categories_page(dashboard, session.viewer, filters, level)
        return render_page(request, session, page, filters)

    @app.get("/flags", include_in_schema=False)
    def flags(
        request: Request, session: Annotated[accounts.Session, Depends(page_session)], all: bool = False
    ) -> Response:
        filters = filters_of(request, config)
        return render_page(request, session, pages.flags_page(dashboard, session.viewer, filters, all), filters)

    @app.get("/bottlenecks", include_in_schema=False)
    def bottlenecks(request: Request, session: Annotated[accounts.Session, Depends(page_session)]) -> Response:
        filters = filters_of(request, config)
        return render_page(request, session, pages.bottlenecks_page(dashboard, session.viewer, filters), filters)

    @app.get("/sla", include_in_schema=False)
    def sla(request: Request, session: Annotated[accounts.Session, Depends(page_session)]) -> Response:
        filters = filters_of(request, config)
        return render_page(request, session, pages.sla_page(dashboard, session.viewer, filters), filters)

    @app.get("/drill", include_in_schema=False)
    def drill(
        request: Request,
        session: Annotated[accounts.Session, Depends(page_session)],
        metric: str,
        at: str | None = None,
    ) -> Response:
        filters = filters_of(request, config)
        page = pages.drill_page(dashboard, session.viewer, filters, metric, at or None, group_of(request))
        return render_page(request, session, page, filters)

    @app.get("/tickets/{ticket_id}", include_in_schema=False)
    def ticket(
        request: Request, ticket_id: str, session: Annotated[accounts.Session, Depends(page_session)]
    ) -> Response:
        return render_page(request, session, pages.ticket_page(dashboard, session.viewer, ticket_id), None)

    @app.get("/reports", include_in_schema=False)
    def reports(
        request: Request,
        session: Annotated[accounts.Session, Depends(page_session)],
        department: str = "all",
        period: str | None = None,
    ) -> Response:
        from deskpulse.reports.routing import departments_config

        period = period or pages.latest_month(dashboard)
        page = pages.reports_page(dashboard, session.viewer, department, period)
        names = departments_config(config).names
        download = urlencode({"department": department, "period": period or ""})
        return render_page(
            request,
            session,
            page,
            None,
            "report.html",
            departments=names,
            department=department,
            period=period,
            download=download,
        )

    @app.get("/reports/tickets", include_in_schema=False)
    def report_tickets(
        request: Request,
        session: Annotated[accounts.Session, Depends(page_session)],
        department: str,
        period: str,
        pain_point: str,
    ) -> Response:
        page = pages.pain_point_page(dashboard, session.viewer, department, period, pain_point)
        return render_page(request, session, page, None)

    @app.get("/reports/download", include_in_schema=False)
    def report_download(
        request: Request,
        session: Annotated[accounts.Session, Depends(page_session)],
        department: str,
        period: str,
        format: str = "pdf",
    ) -> Response:
        return report_file(pages.department_report(dashboard, session.viewer, department, period), format)

    # --- JSON API ---------------------------------------------------------------------------------------------

    @app.get("/api/kpis", tags=["kpis"])
    def api_kpis(
        request: Request,
        viewer: Annotated[Viewer, Depends(api_viewer)],
        metrics: Annotated[str | None, Query(description="Comma-separated metric ids, or 'all'.")] = None,
        by: Annotated[list[str] | None, Query(description="Group by these dimensions.")] = None,
    ) -> Any:
        """The KPIs as `deskpulse kpis --format json` gives them (spec §4), with the pages' filters."""
        from deskpulse.metrics.catalog import resolve_metric_ids

        filters = pages.allowed_filters(viewer, filters_of(request, config))
        if "agent" in (by or []) and not viewer.sees_everyone and not filters.agent:
            filters = filters.with_agent(str(viewer.agent))  # an agent's rows by agent: their own only
        wanted = resolve_metric_ids(metrics) if metrics else list(config.scorecard.metrics)
        query = pages.kpi_query(filters, wanted, by=list(by or []))
        return _jsonable(pages.kpis(dashboard, query).as_json())

    @app.get("/api/scorecard", tags=["kpis"])
    def api_scorecard(request: Request, viewer: Annotated[Viewer, Depends(api_viewer)], at: str | None = None) -> Any:
        """The headline KPIs of one period with targets, deltas and guardrails (`deskpulse scorecard --format json`)."""
        card = pages.scorecard_of(dashboard, viewer, filters_of(request, config), at)
        return _jsonable(card.as_json())

    @app.get("/api/drill", tags=["tickets"])
    def api_drill(
        request: Request, viewer: Annotated[Viewer, Depends(api_viewer)], metric: str, at: str | None = None
    ) -> Any:
        """The fact rows behind one number: `by_<dimension>=VALUE` names the cell's group."""
        page = pages.drill_page(dashboard, viewer, filters_of(request, config), metric, at, group_of(request))
        table = page.tables[0]
        return {
            "notes": page.notes,
            "columns": table.columns,
            "rows": [[_jsonable(cell.value) for cell in row] for row in table.rows],
        }

    @app.get("/api/tickets", tags=["tickets"])
    def api_tickets(
        request: Request,
        viewer: Annotated[Viewer, Depends(api_viewer)],
        limit: Annotated[int, Query(ge=1, le=10_000, description="At most this many, newest first.")] = 500,
    ) -> Any:
        """The tickets created in the date range that the filters keep (`n` counts them all), newest first."""
        listing = pages.ticket_list(dashboard, viewer, filters_of(request, config), limit)
        return _jsonable(listing)

    @app.get("/api/tickets/{ticket_id}", tags=["tickets"])
    def api_ticket(ticket_id: str, viewer: Annotated[Viewer, Depends(api_viewer)]) -> Any:
        """A ticket and its whole thread."""
        page = pages.ticket_page(dashboard, viewer, ticket_id)
        facts, thread = page.tables
        return {
            "ticket": {row[0].value: _jsonable(row[1].value) for row in facts.rows},
            "messages": [
                dict(zip(thread.columns, (_jsonable(c.value) for c in row), strict=True)) for row in thread.rows
            ],
        }

    @app.get("/api/flags", tags=["tickets"])
    def api_flags(request: Request, viewer: Annotated[Viewer, Depends(api_viewer)], all: bool = False) -> Any:
        """The review queue: flagged tickets, angriest first."""
        table = pages.flags_page(dashboard, viewer, filters_of(request, config), all).tables[0]
        return [dict(zip(table.columns, (_jsonable(c.value) for c in row), strict=True)) for row in table.rows]

    @app.get("/api/reports/{department}", tags=["reports"])
    def api_report(
        department: str,
        viewer: Annotated[Viewer, Depends(api_viewer)],
        period: Annotated[
            str | None, Query(description="2026-03, 2026-W09, 2026-Q1 (default: the latest month).")
        ] = None,
        format: Annotated[str, Query(description="json, md, html or pdf.")] = "json",
    ) -> Any:
        """A department's report (`all`: the team's monthly report with the scorecard), as `deskpulse report`."""
        period = period or pages.latest_month(dashboard)
        if period is None:
            raise UserError("no tickets in the store yet")
        report = pages.department_report(dashboard, viewer, department, period)
        return _jsonable(report.as_json()) if format == "json" else report_file(report, format)

    return app


def report_file(report: Any, format: str) -> Response:
    """A report as a download: PDF, Markdown or a standalone HTML document."""
    from deskpulse.reports.render import render_html, render_markdown, render_pdf

    name = f"deskpulse-{report.scope}-{report.period.label}".replace("/", "-")
    if format == "pdf":
        return Response(
            render_pdf(report),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    if format == "md":
        return PlainTextResponse(
            render_markdown(report),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.md"'},
        )
    if format == "html":
        return HTMLResponse(render_html(report), headers={"Content-Disposition": f'attachment; filename="{name}.html"'})
    raise UserError(f"unknown report format {format!r}; use json, md, html or pdf")


def _safe_next(target: str) -> str:
    """Only a path on this site: an open redirect would lend the login page to phishing."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/scorecard"
    return target


def filters_of(request: Request, config: Config) -> Filters:
    """The filters of the query string; the period defaults to the scorecard's (`[scorecard] period`)."""
    params = request.query_params

    def day(name: str) -> date | None:
        text = params.get(name) or None
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise UserError(f"{name} must be a date such as 2026-03-01, got {text!r}") from exc

    period = params.get("period") or config.scorecard.period
    if period not in PERIODS:
        raise UserError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    values = {dim: tuple(v for v in params.getlist(dim) if v) for dim in FILTER_DIMENSIONS}
    return Filters(since=day("since"), until=day("until"), period=period, **values)


def group_of(request: Request) -> dict[str, str]:
    return {key[3:]: value for key, value in request.query_params.items() if key.startswith("by_") and value}


def _jsonable(value: Any) -> Any:
    """Dates and times as ISO text, as `deskpulse kpis --format json` writes them."""
    return json.loads(records_json([value]))[0]
