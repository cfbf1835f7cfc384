"""Errors a person reads in a browser are a page, not JSON: a diner with an old link (404),
a cook on the owner's settings (403), anyone ordering while Postgres or Redis is away
(503, with Retry-After). An outside try saw `{"status_code":503,...}` as text on a phone.

Only a plain browser navigation gets the page (it asks for text/html and is not htmx, an
SSE stream or one of the machine-facing paths); the API, webhooks, health checks, htmx
fragments and everything else keep the JSON they had, with the same status and headers."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.exceptions.responses import create_exception_response
from litestar.response import Template
from litestar.types import ExceptionHandlersMap

from app.infra import i18n
from app.infra.html import is_htmx
from app.infra.i18n import N_, gettext

MACHINE_PATHS = ("/api/", "/webhooks/", "/schema", "/metrics", "/healthz", "/readyz",
                 "/static/", "/_")
TITLES = {
    400: N_("That request was not understood"),
    403: N_("Not allowed here"),
    404: N_("We could not find that page"),
    405: N_("That request was not understood"),
    409: N_("That changed meanwhile"),
    413: N_("That was too large"),
    429: N_("Too many tries"),
    503: N_("Back in a moment"),
}
OTHER_TITLE = N_("Something went wrong")
# What a person can do next, by status (the detail says what happened, where we know it)
ADVICE = {
    503: N_("We cannot reach part of our system right now. Nothing you sent was lost or "
            "charged twice: try again in a few seconds."),
    429: N_("Please wait a minute and try again."),
    500: N_("The problem was logged for us to fix. Please try again."),
}


def wants_page(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    headers = request.headers
    return ("text/html" in headers.get("accept", "") and not is_htmx(request)
            and not path.startswith(MACHINE_PATHS) and not path.endswith("/events"))


def error_page(request: Request[Any, Any, Any], status: int, detail: str,
               headers: dict[str, str] | None = None) -> Response[Any]:
    if i18n.current() == i18n.DEFAULT:  # not settled by the route (it failed first)
        i18n.settle()
    title = TITLES.get(status, OTHER_TITLE)
    advice = ADVICE.get(status, "")
    return Template("error.html", status_code=status, headers=headers or {}, context={
        "status": status, "title": gettext(title), "detail": detail,
        "advice": gettext(advice) if advice else "", "again": _again(request)})


def _again(request: Request[Any, Any, Any]) -> str:
    """Where "Try again" goes: the same page for a GET; for a form post, the page it was
    posted from (same site only), else home."""
    if request.method == "GET":
        return str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    referer = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}/"
    return referer[len(origin) - 1:] if referer.startswith(origin) else "/"


def _too_large(request: Request[Any, Any, Any], error: Exception) -> Exception:
    """A 413 that says the route's limit: Litestar's says only "Request Entity Too Large",
    which leaves an API client (or a diner) guessing how much smaller to send."""
    if not (isinstance(error, HTTPException) and error.status_code == 413):
        return error
    try:
        limit = request.route_handler.resolve_request_max_body_size()
    except Exception:  # refused before routing: no handler to ask
        limit = None
    return HTTPException(status_code=413, detail=too_large_detail(limit)) if limit else error


def too_large_detail(limit: int) -> str:
    size = f"{limit // 1024} KB" if limit < 1024 * 1024 else f"{limit // (1024 * 1024)} MB"
    return gettext("The request is larger than this address accepts ({size} at most)."
                   ).format(size=size)


def http_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """Litestar's own JSON answer, or the page for a browser."""
    error = _too_large(request, error)
    response = create_exception_response(request, error)
    if not wants_page(request):
        return response
    detail = error.detail if isinstance(error, HTTPException) and error.status_code < 500 \
        else ""  # a 500's message is not for the public
    return error_page(request, response.status_code or 500, str(detail or ""),
                      {key: value for key, value in response.headers.items()
                       if key.lower() == "retry-after"} if response.headers else None)


def exception_handlers() -> ExceptionHandlersMap:
    """Every HTTP error, and any other exception (a 500)."""
    return {HTTPException: http_error, 500: http_error}
