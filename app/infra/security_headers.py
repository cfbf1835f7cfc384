"""Security headers on every response of the web app (pages, fragments, SSE, JSON, static
files, and the 404/405/500 answers Litestar produces before any route is matched).

Content-Security-Policy: the pages load only their own files: scripts from /static (htmx,
its SSE extension, kitchen.js, countdown.js), stylesheets from /static/css, no inline
<script>, no style= attributes, no on*= handlers (tests/security checks the templates).
htmx's own inline indicator <style> is switched off in templates/base.html
(`includeIndicatorStyles: false`). Payment links are plain <a href> navigations to
Stripe's (or the sandbox's) checkout page, which CSP does not restrict, so every form posts
to 'self' only. `connect-src 'self'` covers htmx requests and the SSE streams.

The OpenAPI documentation pages under /schema (not the JSON/YAML documents) are rendered by
Litestar with inline scripts and CDN assets; they get a looser policy of their own.

HSTS only in production: dev and tests run on plain http://127.0.0.1.
"""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import get_settings

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])
# Litestar's OpenAPI UIs (Scalar, Swagger, ReDoc…): inline bootstrap script, CDN assets.
DOCS_CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com",
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com "
    "https://fonts.googleapis.com",
    "img-src 'self' data: https:",
    "font-src 'self' data: https://fonts.gstatic.com https://cdn.jsdelivr.net",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=63072000; includeSubDomains"

BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Order status URLs carry the order's reference: never send any of our URLs off-site.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _is_docs_page(path: str) -> bool:
    return path.startswith("/schema") and not path.endswith((".json", ".yaml", ".yml"))


def headers_for(path: str, *, production: bool) -> dict[str, str]:
    """The security headers of a response to `path`."""
    headers = dict(BASE_HEADERS)
    headers["Content-Security-Policy"] = (
        DOCS_CONTENT_SECURITY_POLICY if _is_docs_page(path) else CONTENT_SECURITY_POLICY)
    if production:
        headers["Strict-Transport-Security"] = HSTS
    return headers


# Where `security_headers_middleware` leaves the server's own `send` in the scope: a live
# stream (app.live.sse) sends its response start through every middleware, as any response
# does, and its body writes straight to the server. Every middleware here acts on
# `http.response.start` alone (headers, cookies, the status for metrics and the log line),
# and the eight send wrappers a frame passed (CSRF, session, two exception captures, language,
# metrics, request id, before_send) were, with Litestar's SSE iterators, about three quarters
# of a socket write again per screen and frame (py-spy); about a quarter now.
SERVER_SEND = "orderpass.server_send"


def _encoded(docs: bool, production: bool) -> tuple[tuple[bytes, bytes], ...]:
    path = "/schema" if docs else "/"
    return tuple((name.lower().encode("latin-1"), value.encode("latin-1"))
                 for name, value in headers_for(path, production=production).items())


# Every response's headers, encoded once: through Litestar's MutableScopeHeaders (two scans
# of the list per header) they cost 16 µs a response, more than the webhook's HMAC.
_ENCODED = {(docs, production): _encoded(docs, production)
            for docs in (False, True) for production in (False, True)}


def add_headers(message: Message, path: str, *, production: bool) -> None:
    """Adds the headers to an `http.response.start` message; a handler's own value wins."""
    raw: Any = message.get("headers")
    if raw is None:
        raise ValueError(f"Invalid message type: {message['type']!r}")
    headers: list[tuple[bytes, bytes]] = raw if isinstance(raw, list) else list(raw)
    message["headers"] = headers  # type: ignore[typeddict-unknown-key]
    present = {name.lower() for name, _ in headers}
    headers.extend(pair for pair in _ENCODED[_is_docs_page(path), production]
                   if pair[0] not in present)


def security_headers_middleware(app: ASGIApp, *, production: bool | None = None) -> ASGIApp:
    """The outermost ASGI middleware of the web app (see `create_app`): everything Litestar
    sends goes through it, so routing errors (404, 405) and the error handler's answers get
    the headers too, which route middleware never sees. It also leaves the server's `send`
    under SERVER_SEND for the streams' body writes."""
    production = get_settings().is_production if production is None else production

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        scope[SERVER_SEND] = send  # type: ignore[literal-required]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(message, scope.get("path", ""), production=production)
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
