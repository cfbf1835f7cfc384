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

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

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


class SecurityHeaders:
    """Adds the headers to `http.response.start`; a handler's own value wins.

    Registered as an app-level `before_send` hook (see `create_app`): Litestar runs those
    for every message it sends, so routing errors (404, 405) and the error handler's
    answers get the headers too, which route middleware never sees."""

    def __init__(self, *, production: bool | None = None) -> None:
        self.production = get_settings().is_production if production is None else production

    async def __call__(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in headers_for(scope.get("path", ""),
                                       production=self.production).items():
            if name not in headers:
                headers[name] = value
