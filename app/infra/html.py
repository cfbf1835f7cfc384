"""Answering browsers: whether a request comes from htmx or is the browser's own navigation,
the request's CSRF token for forms, and a component rendered on its own as an HTML response
(an htmx swap)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Response
from litestar.utils.scope.state import ScopeState


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    """htmx sends `HX-Request` with every request it makes (a swap, not a navigation)."""
    return "hx-request" in request.headers


def is_navigation(request: Request[Any, Any, Any]) -> bool:
    """The browser's own page load or form post (it asks for text/html; htmx, scripts and
    API callers do not, or say they are htmx): the request a reload would repeat."""
    return "text/html" in request.headers.get("accept", "") and not is_htmx(request)


def csrf_of(request: Request[Any, Any, Any]) -> str:
    """The CSRF token Litestar set for this request ("" when the route has none)."""
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


def render_fragment(request: Request[Any, Any, Any], name: str, status_code: int = 200,
                    **context: Any) -> Response[str]:
    """Component `name` alone, with the request's CSRF token as `csrf` unless given."""
    engine = request.app.template_engine
    assert engine is not None
    html = engine.get_template(name).render(**{"csrf": csrf_of(request), **context})
    return Response(html, media_type="text/html", status_code=status_code)
