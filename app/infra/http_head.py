"""HEAD answered as GET without its body (RFC 9110 §9.3.2): the same status and headers.

Litestar routes a HEAD only to a handler that declares it, so every page answered 405 to a
HEAD, and uptime monitors that probe with HEAD (many do by default) reported a restaurant's
menu or `/healthz` down while it served. Live streams (`…/events`) keep refusing HEAD:
their GET never ends, and a HEAD has no body to end it with."""

from __future__ import annotations

from typing import Any, cast

from litestar.types import ASGIApp, Message, Receive, Scope, Send

STREAMS = "/events"


def head_as_get(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope.get("method") != "HEAD"
                or scope["path"].rstrip("/").endswith(STREAMS)):
            await app(scope, receive, send)
            return
        body_ended = False

        async def send_headers_only(message: Message) -> None:
            nonlocal body_ended
            if message["type"] != "http.response.body":
                await send(message)
            elif not body_ended:  # one empty body ends the answer; the GET's is dropped
                body_ended = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        # A copy: the server reads the method from its own scope to know no body follows,
        # and the request line and metrics name what was asked.
        as_get: dict[str, Any] = {**scope, "method": "GET"}
        try:
            await app(cast(Scope, as_get), receive, send_headers_only)
        finally:  # what the router learnt (the route's template, for the metrics' label)
            learnt = cast(dict[str, Any], scope)
            learnt.update({key: value for key, value in as_get.items() if key not in learnt})

    return middleware
