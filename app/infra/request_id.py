"""ASGI middleware: a request id per request, bound into every log line and echoed back."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.infra.logging import get_logger

HEADER = "x-request-id"
_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = get_logger("orderpass.http")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _SAFE.match(incoming) else uuid.uuid4().hex
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await app(scope, receive, send_with_id)
            finally:
                path = scope.get("path", "")
                if not path.startswith(("/static", "/healthz", "/metrics")):
                    log.info("request", method=scope.get("method"), path=path[:300], status=status,
                             ms=round((time.perf_counter() - started) * 1000, 1))

    return middleware
