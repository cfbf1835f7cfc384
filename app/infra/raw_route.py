"""What a route served ahead of Litestar's router (plain ASGI) needs: its body read under a
limit, and a JSON answer. The webhooks arrive there (app/payments/webhook_route.py,
app/notifications/webhook_route.py): at the platform's rate the framework around their
handlers cost more CPU than the handlers' own Python."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, cast

import msgspec
from litestar import Litestar
from litestar.types import Receive, Scope, Send

from app.infra.error_pages import too_large_detail
from app.infra.logging import get_logger

log = get_logger("orderpass.raw_route")
INTERNAL_ERROR = {"status_code": 500, "detail": "Internal Server Error"}  # Litestar's words


class Disconnected(Exception):
    """The client left before its body came: nobody to answer; nothing was read or written."""


def posted_to(scope: Scope, paths: Collection[str]) -> bool:
    """A POST to one of `paths` (Litestar answers a path and the path with a slash)."""
    return (scope["type"] == "http" and scope["path"] in paths
            and scope.get("method") == "POST")


async def read_request(scope: Scope, receive: Receive, send: Send, *, litestar: Litestar,
                       path: str, limit: int) -> tuple[dict[bytes, bytes], bytes] | None:
    """The request's headers and body, with what Litestar's router would have set on the
    scope (request metrics label the route and find the app's Redis through it); None when
    it is answered already (413 past `limit`, said as Litestar says it) or the client left."""
    scope["app"] = litestar
    scope["path_template"] = path
    headers = dict(scope["headers"])
    try:
        body = await read_body(headers, receive, limit)
    except Disconnected:
        return None  # nobody to answer; nothing was read or written
    if body is None:
        log.info("request refused", status=413, path=path, detail="body too large")
        await send_json(send, 413, {"status_code": 413, "detail": too_large_detail(limit)})
        return None
    return headers, body


async def read_body(headers: dict[bytes, bytes], receive: Receive, limit: int) -> bytes | None:
    """The request body, or None past `limit` bytes (by its declared length, or as it
    streams in). Raises Disconnected if the client left first."""
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = cast(bytes, message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_json(send: Send, status: int, body: Any,
                    headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    encoded = msgspec.json.encode(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(encoded)).encode()), *headers]})
    await send({"type": "http.response.body", "body": encoded, "more_body": False})
