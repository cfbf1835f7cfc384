"""ASGI middleware at the edge: a request whose path or query string carries a NUL character
is refused with a plain 400 before any route runs. Postgres text cannot hold NUL, so no route
could use such a value; refused here, no handler has to remember it (a slug, an order
reference, a search box, a filter)."""

from __future__ import annotations

import json

from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from app.infra.logging import get_logger

log = get_logger("orderpass.http")
REFUSAL = json.dumps({"status_code": 400,
                      "detail": "NUL characters are not allowed in a URL"}).encode()


def _has_nul(scope: Scope) -> bool:
    query = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


def input_guard_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_nul(scope):
            await app(scope, receive, send)
            return
        log.info("request refused", reason="NUL in the URL", status=400)
        start: HTTPResponseStartEvent = {
            "type": "http.response.start", "status": 400,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(REFUSAL)).encode())]}
        body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": REFUSAL,
                                       "more_body": False}
        await send(start)
        await send(body)

    return middleware
