"""uvicorn's HTTP protocol (httptools) with a deadline for request headers.

uvicorn bounds idle keep-alive connections (`timeout_keep_alive`) and, with
`limit_concurrency`, the connections it serves, but a client that opens a connection and
sends its headers a byte at a time is held for as long as it keeps going (slowloris: 1,000
such connections were all still held after 60 s). Here a request's headers must be complete
within WEB_HEADER_TIMEOUT_SECONDS of its first byte (or of the connection, if nothing
came), and at most WEB_MAX_PENDING_HEADERS connections may wait for headers at once: past
that the longest-waiting one is closed, so a real client (whose headers come at once) is
always served. Behind a reverse proxy (README: Running in production) the proxy absorbs
this first; these bounds hold when it is bypassed or misconfigured.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.infra.logging import get_logger
from app.settings import get_settings

log = get_logger("orderpass.http")
# Connections of this process waiting for request headers, oldest first.
_pending: OrderedDict[HeaderDeadlineProtocol, None] = OrderedDict()


class HeaderDeadlineProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._header_timeout_s = settings.web_header_timeout_seconds
        self._max_pending = settings.web_max_pending_headers
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._await_headers()  # a keep-alive connection's next request

    def on_headers_complete(self) -> None:
        self._headers_done()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_done()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self._header_timeout_s, self._too_slow)
        _pending[self] = None
        while len(_pending) > self._max_pending:
            oldest, _ = _pending.popitem(last=False)
            oldest._close("too many connections waiting for headers")

    def _headers_done(self) -> None:
        _pending.pop(self, None)
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        self._close(f"no complete request headers within {self._header_timeout_s:g} s")

    def _close(self, reason: str) -> None:
        self._headers_done()
        log.info("connection closed", reason=reason,
                 client=f"{self.client[0]}:{self.client[1]}" if self.client else None)
        if not self.transport.is_closing():
            self.transport.close()
