"""Two checks on every state-changing request of the HTML pages, on top of Litestar's CSRF
double-submit check (`CSRFConfig`):

- `Origin`: a browser names the page a form was posted from; one from another site is
  refused (absent, as from old browsers and non-browser clients, it is allowed: the token
  check still applies). The JSON API and the webhooks have their own rules.
- The CSRF cookie must be the one the login session was opened with: the double-submit
  check alone accepts any well-formed pair, so a token pair from another session (an
  attacker's own, planted as a cookie) passed with a victim's session. A page load of a
  logged-in browser sets the session's token again if its cookie is missing or another.
"""

from __future__ import annotations

import hmac
import re
from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, Headers, MutableScopeHeaders
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from app.infra.logging import get_logger
from app.settings import get_settings

log = get_logger("orderpass.accounts")
CSRF_COOKIE = "csrftoken"
# CSRF exemptions (DESIGN.md §3): no ambient authority, rate-limited instead.
CSRF_EXEMPT = ["^/webhooks/", "^/api/orders$"]
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
SESSION_CSRF_KEY = "csrf"  # the CSRF cookie the session was opened with (app/accounts/session)
_EXEMPT = [re.compile(rule) for rule in CSRF_EXEMPT]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _same_site(origin: str, scope: Scope, headers: Headers) -> bool:
    own = {_origin(get_settings().public_base_url)}
    host = headers.get("host")
    if host:
        own.add(f"{scope.get('scheme', 'http')}://{host}".lower())
    return origin.lower() in own


def bind_csrf_to_session(connection: ASGIConnection[Any, Any, Any, Any],
                         session: dict[str, Any]) -> dict[str, Any]:
    """`session` (being opened at login) remembering this browser's CSRF cookie."""
    return {**session, SESSION_CSRF_KEY: connection.cookies.get(CSRF_COOKIE, "")}


def _bound_token(scope: Scope) -> str:
    session = scope.get("session")
    bound = session.get(SESSION_CSRF_KEY) if isinstance(session, dict) else None
    return bound if isinstance(bound, str) else ""


def _restore_token(scope: Scope, send: Send, connection: ASGIConnection[Any, Any, Any, Any],
                   bound: str) -> Send:
    """A page asked for by a logged-in browser whose CSRF cookie is not its session's (the
    browser restarted and dropped it; or someone planted another): the session's token is
    used for this request and set again as the cookie, so its forms keep working and a
    planted token never does."""
    ScopeState.from_scope(scope).cookies = {**connection.cookies, CSRF_COOKIE: bound}
    cookie = Cookie(key=CSRF_COOKIE, value=bound, path="/", samesite="lax", httponly=False,
                    secure=get_settings().is_production).to_header(header="")

    async def send_with_cookie(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableScopeHeaders.from_message(message).add("set-cookie", cookie)
        await send(message)

    return send_with_cookie


def form_guard_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(rule.search(scope.get("path", ""))
                                           for rule in _EXEMPT):
            await app(scope, receive, send)
            return
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        if scope.get("method") in SAFE_METHODS:
            bound = _bound_token(scope)
            if bound and connection.cookies.get(CSRF_COOKIE) != bound:
                send = _restore_token(scope, send, connection, bound)
            await app(scope, receive, send)
            return
        origin = connection.headers.get("origin")
        if origin is not None and not _same_site(origin, scope, connection.headers):
            log.warning("cross-site form post refused", origin=origin[:200],
                        path=scope.get("path"))
            raise PermissionDeniedException(
                "CSRF check failed: this form was posted from another site")
        bound = _bound_token(scope)
        cookie = connection.cookies.get(CSRF_COOKIE, "")
        if bound and not hmac.compare_digest(bound.encode(), cookie.encode()):
            log.warning("csrf token of another session refused", path=scope.get("path"))
            raise PermissionDeniedException(
                "CSRF token verification failed: the token belongs to another session")
        await app(scope, receive, send)

    return middleware
