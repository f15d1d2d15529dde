"""``create_app``: the dashboard as an ASGI application (Starlette), to serve with ``anclax-fast ui``
or to mount inside an application: ``app.mount("/queue", create_app(client))``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from anclax_fast import bulk
from anclax_fast.client import Client
from anclax_fast.errors import AnclaxError, DatabaseError
from anclax_fast.filters import TaskFilter
from anclax_fast.ui import formatting
from anclax_fast.ui.db import Capabilities, Database
from anclax_fast.ui.forms import Form, FormError, group_filter, read_form, safe_back, task_query
from anclax_fast.ui.live import LiveHub
from anclax_fast.ui.pages import PAGES, Page, PageNotFound
from anclax_fast.ui.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SecurityHeaders,
    TokenGate,
    check_token,
    csrf_matches,
    new_csrf_value,
)

__all__ = ["Dashboard", "create_app"]

CAPABILITIES_TTL = 30.0
CONFIRM_COUNT_CAP = 1_000_000
SSE_PING_INTERVAL = 15.0
FLASH_COOKIE = "anclax_ui_flash"
OPERATIONS = {
    "retry": bulk.RETRY,
    "cancel": bulk.CANCEL,
    "delete": bulk.DELETE,
    "pause": bulk.PAUSE,
    "resume": bulk.RESUME,
}


class Dashboard:
    """What the routes share: the client, its database access, live updates, templates, settings."""

    def __init__(self, client: Client, *, allow_actions: bool, title: str) -> None:
        self.client = client
        self.allow_actions = allow_actions
        self.title = title
        self.db = Database(client)
        self.hub = LiveHub(client)
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("anclax_fast.ui", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters.update(formatting.FILTERS)
        self._capabilities: tuple[float, Capabilities] | None = None

    async def capabilities(self) -> Capabilities:
        """What the dashboard may do (re-checked every CAPABILITIES_TTL s: grants change)."""
        cached = self._capabilities
        if cached is None or time.monotonic() - cached[0] > CAPABILITIES_TTL:
            cached = (time.monotonic(), await self.db.capabilities(self.allow_actions))
            self._capabilities = cached
        return cached[1]

    def render(self, request: Request, page: Page, *, fragment: bool = False, **extra: Any) -> str:
        template = self.templates.get_template(page.template)

        def path(name: str, **params: Any) -> str:
            return _path(request, name, **params)

        def qs(**params: object) -> str:
            return urlencode({k: v for k, v in params.items() if v not in (None, "")})

        context: dict[str, Any] = {
            "request": request,
            "page": page,
            "title": self.title,
            "path": path,
            "qs": qs,
            **page.context,
            **extra,
        }
        if fragment:
            return "".join(template.blocks["live"](template.new_context(context)))
        return template.render(context)

    def close(self) -> None:
        self.hub.close()


def _path(request: Request, name: str, **params: Any) -> str:
    return str(request.url_for(name, **params).path)


def _dashboard(request: Request) -> Dashboard:
    ui: Dashboard = request.app.state.anclax_ui
    return ui


def _csrf(request: Request) -> tuple[str, bool]:
    """The browser's CSRF value, and whether it is new (to be set as a cookie)."""
    existing = request.cookies.get(CSRF_COOKIE)
    return (existing, False) if existing else (new_csrf_value(), True)


def _with_cookies(request: Request, response: Response, csrf: str, new: bool) -> Response:
    path = (request.scope.get("root_path", "") or "").rstrip("/") + "/"
    secure = request.url.scheme == "https"
    if new:
        response.set_cookie(CSRF_COOKIE, csrf, path=path, httponly=True, samesite="strict", secure=secure)
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path=path)
    return response


async def _full_page(request: Request, view: str, params: QueryParams) -> Response:
    ui = _dashboard(request)
    csrf, new = _csrf(request)
    try:
        caps = await ui.capabilities()
        page = await PAGES[view](ui, params)
    except (FormError, AnclaxError, PageNotFound) as err:
        return await _problem(request, err)
    flash = request.cookies.get(FLASH_COOKIE)
    html = ui.render(request, page, caps=caps, csrf=csrf, csrf_field=CSRF_FIELD, flash=flash, view=view)
    return _with_cookies(request, HTMLResponse(html), csrf, new)


async def _problem(request: Request, err: Exception) -> Response:
    """A page explaining what went wrong: 400 for bad input, 404 for what does not exist, 503 for
    the database. Database errors never carry the DSN (the client redacts it)."""
    ui = _dashboard(request)
    if isinstance(err, PageNotFound):
        status, heading = 404, "Not found"
    elif isinstance(err, (FormError, ValueError)) and not isinstance(err, DatabaseError):
        status, heading = 400, "That request cannot be answered"
    else:
        status, heading = 503, "The database could not answer"
    page = Page("problem.html.jinja", heading, {"message": str(err), "heading": heading})
    html = ui.render(request, page, caps=None, csrf="", csrf_field=CSRF_FIELD, flash=None, view="")
    return HTMLResponse(html, status_code=status)


def _page_route(view: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        params = request.query_params
        wanted = params.get("id", "").strip().lstrip("#")
        if view == "tasks" and wanted.isdigit():
            # The filter's id field names one task: open it.
            return RedirectResponse(_path(request, "task", task_id=int(wanted)), status_code=303)
        if view == "task":
            params = QueryParams([*params.multi_items(), ("id", str(request.path_params["task_id"]))])
        return await _full_page(request, view, params)

    endpoint.__name__ = view
    return endpoint


async def live(request: Request) -> Response:
    """Server-sent events: the page's live part, re-rendered when the database says something changed."""
    ui = _dashboard(request)
    view = request.query_params.get("view", "")
    if view not in PAGES:
        return Response(f"unknown view {view!r}", status_code=400, media_type="text/plain")
    params = QueryParams([(k, v) for k, v in request.query_params.multi_items() if k != "view"])

    async def stream() -> AsyncIterator[str]:
        with ui.hub.subscription():
            seen = ui.hub.version
            sent = ""
            last_ping = time.monotonic()
            yield "retry: 3000\n\n"
            while not ui.hub.closing:
                version = await ui.hub.wait(seen, SSE_PING_INTERVAL)
                if version == seen:
                    if time.monotonic() - last_ping >= SSE_PING_INTERVAL:
                        last_ping = time.monotonic()
                        yield ": ping\n\n"
                    continue
                seen = version
                html = await _live_fragment(request, ui, view, params)
                if html is not None and html != sent:
                    sent = html
                    yield "event: update\n" + "".join(f"data: {line}\n" for line in html.split("\n")) + "\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"x-accel-buffering": "no"})


async def _live_fragment(request: Request, ui: Dashboard, view: str, params: QueryParams) -> str | None:
    """The page's live part now; None when it cannot be rendered (the next change tries again)."""
    try:
        caps = await ui.capabilities()
        page = await PAGES[view](ui, params)
    except (FormError, AnclaxError, PageNotFound):
        return None
    csrf = request.cookies.get(CSRF_COOKIE, "")
    return ui.render(request, page, fragment=True, caps=caps, csrf=csrf, csrf_field=CSRF_FIELD, flash=None, view=view)


async def _accepted_form(request: Request, ui: Dashboard) -> tuple[Form, Capabilities]:
    """The submitted form, once it passed the CSRF check and actions are allowed."""
    form = await read_form(request)
    if not csrf_matches(request, form.get(CSRF_FIELD)):
        raise FormError("this form is out of date or came from another site; reload the page and try again")
    caps = await ui.capabilities()
    if not caps.actions:
        raise FormError(f"actions are disabled: {caps.reason}")
    return form, caps


async def action(request: Request) -> Response:
    """Retry, cancel or delete: the selected tasks, a failure group, or everything matching the
    Tasks page's filter. The first POST shows how many tasks it would change; the second, with
    ``confirm=yes``, changes them and goes back to the page it came from."""
    ui = _dashboard(request)
    verb = request.path_params["verb"]
    operation = OPERATIONS.get(verb)
    if operation is None:
        return Response(f"unknown action {verb!r}", status_code=404, media_type="text/plain")
    try:
        form, caps = await _accepted_form(request, ui)
        back = safe_back(form.get("back"), _path(request, "overview"))
        target, described = _target(form, verb)
        if form.get("confirm") != "yes":
            n = await ui.db.run(lambda: bulk.count(ui.client, operation, target, limit=CONFIRM_COUNT_CAP))
            context = {
                "verb": verb,
                "count": n,
                "count_cap": CONFIRM_COUNT_CAP,
                "described": described,
                "statuses": bulk.statuses_of(operation, target)
                if isinstance(target, TaskFilter)
                else operation.statuses,
                "fields": [(k, v) for k, v in form.fields if k not in (CSRF_FIELD, "confirm")],
                "back": back,
            }
            csrf, new = _csrf(request)
            page = Page("confirm.html.jinja", f"Confirm: {verb}", context)
            html = ui.render(request, page, caps=caps, csrf=csrf, csrf_field=CSRF_FIELD, flash=None, view="")
            return _with_cookies(request, HTMLResponse(html), csrf, new)
        who = f"anclax-fast ui ({request.client.host if request.client else 'unknown address'})"
        done = await ui.db.run(lambda: bulk.run(ui.client, operation, target, actor=who))
    except (FormError, AnclaxError) as err:
        return await _problem(request, err)
    past = {"retry": "retried", "cancel": "cancelled", "delete": "deleted", "pause": "paused", "resume": "resumed"}[
        verb
    ]
    return _flash(request, RedirectResponse(back, status_code=303), f"{past.capitalize()} {done:,} task(s).")


def _target(form: Form, verb: str) -> tuple[TaskFilter | list[int], list[tuple[str, str]]]:
    """What an action applies to, and that in words for the confirmation page."""
    scope = form.get("scope") or "ids"
    now = datetime.now(timezone.utc)
    if scope == "ids":
        ids = form.all("ids")
        if not ids:
            raise FormError("select at least one task")
        if not all(i.isdigit() for i in ids):
            raise FormError("task ids are whole numbers")
        return [int(i) for i in ids], [
            ("tasks", ", ".join(f"#{i}" for i in ids[:20]) + (" …" if len(ids) > 20 else ""))
        ]
    if scope == "group":
        task_filter = group_filter(form, verb, now)
        described = [("task name", form.get("name") or ""), ("error", form.get("fingerprint") or "")]
        described.append(
            (
                "which",
                "waiting for a retry" if verb == "cancel" else f"failed in the last {form.get('window') or '24h'}",
            )
        )
        return task_filter, described
    if scope == "filter":
        query = task_query(form, now)
        described = [(k.replace("_", " "), v) for k, v in query.values.items() if v and k != "id"] or [
            ("filter", "every task")
        ]
        return query.filter, described
    raise FormError(f"unknown scope {scope!r}")


def _flash(request: Request, response: Response, message: str) -> Response:
    path = (request.scope.get("root_path", "") or "").rstrip("/") + "/"
    response.set_cookie(FLASH_COOKIE, message, path=path, httponly=True, samesite="strict", max_age=60)
    return response


async def trigger(request: Request) -> Response:
    """Run a schedule's task once, now."""
    ui = _dashboard(request)
    schedule_id = int(request.path_params["schedule_id"])

    def fire() -> int | None:
        with ui.client.transaction() as tx:
            value = tx.fetchval("SELECT anclax.trigger_schedule($1)", schedule_id)
        return None if value is None else int(value)

    try:
        await _accepted_form(request, ui)
        task_id = await ui.db.run(fire)
    except (FormError, AnclaxError) as err:
        return await _problem(request, err)
    if task_id is None:
        return await _problem(request, PageNotFound(f"there is no schedule {schedule_id}"))
    back = _path(request, "schedules")
    return _flash(request, RedirectResponse(back, status_code=303), f"Triggered: task #{task_id}.")


async def schedule_control(request: Request) -> Response:
    """Pause or resume a schedule (Client.pause_schedule / resume_schedule)."""
    ui = _dashboard(request)
    schedule_id = int(request.path_params["schedule_id"])
    verb = request.path_params["verb"]
    if verb not in ("pause", "resume"):
        return Response(f"unknown action {verb!r}", status_code=404, media_type="text/plain")

    def apply() -> tuple[str, bool] | None:
        with ui.client.transaction() as tx:
            row = tx.fetchrow("SELECT task_name, unique_tag FROM anclax.schedules WHERE id = $1", schedule_id)
        if row is None:
            return None
        name, tag = str(row["task_name"]), str(row["unique_tag"]) or None
        change = ui.client.pause_schedule if verb == "pause" else ui.client.resume_schedule
        return name + (f" ({tag})" if tag else ""), change(name, tag)

    try:
        await _accepted_form(request, ui)
        outcome = await ui.db.run(apply)
    except (FormError, AnclaxError) as err:
        return await _problem(request, err)
    if outcome is None:
        return await _problem(request, PageNotFound(f"there is no schedule {schedule_id}"))
    which, changed = outcome
    past = "Paused" if verb == "pause" else "Resumed"
    message = (
        f"{past}: {which}." if changed else f"{which} was {'paused' if verb == 'pause' else 'not paused'} already."
    )
    return _flash(request, RedirectResponse(_path(request, "schedules"), status_code=303), message)


def create_app(
    client: Client,
    *,
    allow_actions: bool = False,
    token: str | None = None,
    title: str = "anclax-fast",
) -> Starlette:
    """The dashboard for ``client``'s database, as an ASGI application.

    - ``allow_actions``: retry, cancel, pause, resume, delete and trigger from the pages (POST forms with CSRF
      protection); off by default, and off whatever this says when the database role cannot
      write (the pages then say why).
    - ``token``: required from every request when given (at least 16 characters); ``anclax-fast
      ui`` insists on one when it listens beyond the loopback interface. When you mount the
      dashboard in your own application, your application's authentication can guard it instead.

    Uses ``client``'s connection pool (at most 4 connections at a time) plus one LISTEN connection
    while a page is open. Mounted under a prefix, every link follows it.
    """
    if token is not None:
        check_token(token)
    ui = Dashboard(client, allow_actions=allow_actions, title=title)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncGenerator[None]:
        try:
            yield
        finally:
            ui.close()

    routes = [
        Route("/", _page_route("overview"), name="overview"),
        Route("/tasks", _page_route("tasks"), name="tasks"),
        Route("/tasks/{task_id:int}", _page_route("task"), name="task"),
        Route("/failures", _page_route("failures"), name="failures"),
        Route("/schedules", _page_route("schedules"), name="schedules"),
        Route("/schedules/{schedule_id:int}/trigger", trigger, methods=["POST"], name="trigger"),
        Route("/schedules/{schedule_id:int}/{verb:str}", schedule_control, methods=["POST"], name="schedule_control"),
        Route("/workers", _page_route("workers"), name="workers"),
        Route("/live", live, name="live"),
        Route("/actions/{verb:str}", action, methods=["POST"], name="action"),
        Mount("/static", StaticFiles(packages=[("anclax_fast.ui", "static")]), name="static"),
    ]
    middleware = [Middleware(SecurityHeaders)]
    if token is not None:
        middleware.append(Middleware(TokenGate, token=token))
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.anclax_ui = ui
    return app
