"""What a route served ahead of Litestar's router (plain ASGI) needs: its body read under a
limit, and a JSON answer. The webhooks arrive there (app/payments/webhook_route.py,
app/notifications/webhook_route.py): at the platform's rate the framework around their
handlers cost more CPU than the handlers' own Python."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import msgspec
from litestar.types import Receive, Send

INTERNAL_ERROR = {"status_code": 500, "detail": "Internal Server Error"}  # Litestar's words


class Disconnected(Exception):
    """The client left before its body came: nobody to answer; nothing was read or written."""


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
