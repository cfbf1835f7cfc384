"""Two checks on every state-changing request of the HTML pages, on top of Litestar's CSRF
double-submit check (`CSRFConfig`):

- `Origin`: a browser names the page a form was posted from; one from another site is
  refused (absent, as from old browsers and non-browser clients, it is allowed: the token
  check still applies). The JSON API and the webhooks have their own rules.
- The CSRF cookie must be the one the login session was opened with: the double-submit
  check alone accepts any well-formed pair, so a token pair from another session (an
  attacker's own, planted as a cookie) passed with a victim's session.
"""

from __future__ import annotations

import hmac
import re
from typing import Any
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.datastructures import Headers
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Receive, Scope, Send

from app.accounts.security import CSRF_COOKIE, CSRF_EXEMPT
from app.infra.logging import get_logger
from app.settings import get_settings

log = get_logger("orderpass.accounts")
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


def form_guard_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope.get("method") in SAFE_METHODS
                or any(rule.search(scope.get("path", "")) for rule in _EXEMPT)):
            await app(scope, receive, send)
            return
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        origin = connection.headers.get("origin")
        if origin is not None and not _same_site(origin, scope, connection.headers):
            log.warning("cross-site form post refused", origin=origin[:200],
                        path=scope.get("path"))
            raise PermissionDeniedException(
                "CSRF check failed: this form was posted from another site")
        session = scope.get("session")
        bound = session.get(SESSION_CSRF_KEY) if isinstance(session, dict) else None
        cookie = connection.cookies.get(CSRF_COOKIE, "")
        if bound and not hmac.compare_digest(bound.encode(), cookie.encode()):
            log.warning("csrf token of another session refused", path=scope.get("path"))
            raise PermissionDeniedException(
                "CSRF token verification failed: the token belongs to another session")
        await app(scope, receive, send)

    return middleware
