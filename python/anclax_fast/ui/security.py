"""What keeps the dashboard safe to expose: an access token, CSRF protection for actions, and
response headers that make an injected script inert even if escaping ever failed.

- **Token.** With a token configured, every request must carry it: the ``Authorization: Bearer``
  header, or a session cookie that a first visit with ``?token=...`` sets (the address is then
  redirected without it, so the token does not stay in the history). The cookie holds a digest
  of the token, not the token. Without a valid one: 401 and a page asking for the token.
- **CSRF.** Actions are POSTs carrying a per-browser random value that must equal the one in a
  ``SameSite=Strict`` cookie (double submit), from a page of the same origin.
- **Headers.** A Content-Security-Policy that allows only the dashboard's own script and styles
  (no inline script runs), no framing, no referrer, no caching of pages.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anclax_fast.errors import ConfigurationError

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "SecurityHeaders",
    "TokenGate",
    "csrf_matches",
    "is_loopback",
    "new_csrf_value",
]

SESSION_COOKIE = "anclax_ui_session"
CSRF_COOKIE = "anclax_ui_csrf"
CSRF_FIELD = "csrf"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the dashboard on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


MIN_TOKEN_LENGTH = 16


def check_token(token: str) -> None:
    """Refuse a token short enough to guess (``ConfigurationError``, a ``ValueError``)."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigurationError(
            f"the dashboard token must be at least {MIN_TOKEN_LENGTH} characters (e.g. `openssl rand -hex 16`)"
        )


def _cookie_path(scope: Scope) -> str:
    root = str(scope.get("root_path", "")).rstrip("/")
    return root + "/"


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return {}
    return {key: morsel.value for key, morsel in jar.items()}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class TokenGate:
    """ASGI middleware: requests without the token get a 401 page (see the module docstring)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        check_token(token)
        self.app = app
        self._token = token.encode()
        self._session = hashlib.sha256(b"anclax-ui-session:" + self._token).hexdigest()

    def _valid(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self._token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorization = _header(scope, b"authorization") or ""
        if authorization.startswith("Bearer ") and self._valid(authorization.removeprefix("Bearer ")):
            await self.app(scope, receive, send)
            return
        session = _cookies(scope).get(SESSION_COOKIE)
        if session is not None and hmac.compare_digest(session.encode(), self._session.encode()):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = next((value for key, value in query if key == "token"), None)
        if given is not None and self._valid(given) and scope["method"] in ("GET", "HEAD"):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            target = str(scope.get("root_path", "")) + scope["path"] + (f"?{rest}" if rest else "")
            cookie = f"{SESSION_COOKIE}={self._session}; Path={_cookie_path(scope)}; HttpOnly; SameSite=Strict" + (
                "; Secure" if scope.get("scheme") == "https" else ""
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [
                        (b"location", target.encode("latin-1")),
                        (b"set-cookie", cookie.encode("latin-1")),
                        (b"cache-control", b"no-store"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        wrong = given is not None
        body = _LOGIN_PAGE.replace(
            "{message}", "That token is not right." if wrong else "This dashboard needs its token."
        )
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"www-authenticate", b'Bearer realm="anclax-fast ui"'),
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})


# No inline script or style (the CSP allows none); the form submits ?token=... to the same page.
_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>anclax-fast: token required</title></head>
<body><h1>anclax-fast</h1><p>{message}</p>
<p>Give the token the dashboard was started with (<code>--token</code> or <code>ANCLAX_UI_TOKEN</code>).</p>
<form method="get"><label>Token <input type="password" name="token" autocomplete="off" autofocus></label>
<button type="submit">Open</button></form></body></html>
"""


class SecurityHeaders:
    """ASGI middleware adding the headers of the module docstring to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("referrer-policy", "no-referrer")
                if not scope["path"].startswith("/static/"):
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


def new_csrf_value() -> str:
    return secrets.token_urlsafe(24)


def csrf_cookie(request: Request) -> str | None:
    return request.cookies.get(CSRF_COOKIE)


def csrf_matches(request: Request, submitted: str | None) -> bool:
    """The double-submit check, plus the Origin header when the browser sends one."""
    expected = csrf_cookie(request)
    if not expected or not submitted or not hmac.compare_digest(expected.encode(), submitted.encode()):
        return False
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            return False
    return True
