"""Server-sent event streams fed by a channel hub (`app.live.hub`): a snapshot first, then
the hub's shared update per burst of events, heartbeats (`ping` events, every
SSE_HEARTBEAT_SECONDS) in between, and a fresh snapshot at least once a minute.

Everything sent is rendered from Postgres after the events it answers, so a message never
carries stale state and duplicates are harmless. A reconnect (`Last-Event-ID` or not) starts
with a full snapshot and misses nothing. Each message has an `id` (ms timestamp + sequence),
and the first one tells the browser to retry after `RETRY_MS`.

`snapshot(after)` must return `(started, message)` from a render that started after moment
`after` (`app.live.shared_render.tick`), which lets streams of one channel share one render
(`SharedRender`); `started` tells the stream which hub updates the snapshot already holds.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from litestar.channels import ChannelsPlugin
from litestar.response import ServerSentEventMessage, Stream
from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import HTTPResponseBodyEvent, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from app.infra.logging import get_logger
from app.infra.security_headers import SERVER_SEND
from app.live import hub as hubs
from app.live.shared_render import tick
from app.settings import get_settings

log = get_logger("orderpass.kitchen.sse")

RETRY_MS = 2000
_sequence = itertools.count(1)

Snapshot = Callable[[int], Awaitable[tuple[int, ServerSentEventMessage | None]]]


@dataclass
class EncodedMessage(ServerSentEventMessage):
    """A message encoded once and sent to many streams as is: Litestar's per-line encoding
    of the same HTML, repeated for every screen, was the web process's biggest cost."""

    encoded: bytes = b""

    def encode(self) -> bytes:
        if self.retry is None:
            return self.encoded
        return f"retry: {self.retry}{self.sep}".encode() + self.encoded


def message(event: str, data: str) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=data, event=event,
                                  id=f"{int(time.time() * 1000)}-{next(_sequence)}")


def compact(html: str) -> str:
    """Template indentation and blank lines dropped: every line of an SSE message costs a
    `data: ` prefix and goes to every screen. Line breaks stay (as the spaces HTML makes of
    them); nothing we stream keeps whitespace literally (no <pre>, no <textarea>)."""
    return "\n".join(filter(None, map(str.strip, html.splitlines())))


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # where Litestar's encoding splits a message's data


def encoded(event: str, data: str) -> EncodedMessage:
    """A message encoded now, for many streams; `data` is kept to compare updates.

    The bytes are `ServerSentEventMessage(data, event, id).encode()`'s (a unit test holds
    them equal), written out for the one shape sent here: Litestar's general encoder wrote
    each line of a kitchen frame to a StringIO on its own, once per paid order and hub."""
    if "\r" in event or "\n" in event:
        raise ValueError(f"an SSE event name has no line breaks: {event!r}")
    ident = f"{int(time.time() * 1000)}-{next(_sequence)}"
    # `compact` leaves only "\n" between lines: one replace (the regex split took 20 times as long)
    lines = (data.replace("\n", "\r\ndata: ") if "\r" not in data
             else "\r\ndata: ".join(_LINE_BREAK.split(data)))
    text = f"id: {ident}\r\nevent: {event}\r\ndata: {lines}\r\n\r\n"
    return EncodedMessage(data=data, event=event, id=ident, encoded=text.encode())


class LiveEvents(Stream):
    """The response of a live SSE stream (kitchen screen, status page, menu page): the same
    as Litestar's `ServerSentEvent` of the same messages, but each message is written to the
    server as one body chunk straight from this loop, without Litestar's per-message
    wrapping and without passing the body through the middlewares (see
    `app.infra.security_headers.SERVER_SEND`). The response start still goes through every
    one of them: status, security headers, cookies, request id, metrics are as before."""

    def __init__(self, messages: AsyncIterator[ServerSentEventMessage], *,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__((), media_type="text/event-stream", headers={
            "Cache-Control": "no-cache", **(headers or {}),
            "Connection": "keep-alive", "X-Accel-Buffering": "no"})
        self.messages = messages

    def to_asgi_response(self, app: Any, request: Any, *, background: Any = None,
                         cookies: Any = None, encoded_headers: Any = None,
                         headers: dict[str, str] | None = None, is_head_response: bool = False,
                         media_type: Any = None, status_code: int | None = None,
                         type_encoders: Any = None) -> ASGIStreamingResponse:
        # As `Stream.to_asgi_response`, with our ASGI response.
        cookies = [*self.cookies, *(cookies or [])]
        return _LiveASGIResponse(
            background=self.background or background, content_length=0, cookies=cookies,
            encoded_headers=encoded_headers, encoding=self.encoding,
            headers={**(headers or {}), **self.headers}, is_head_response=is_head_response,
            iterator=self.messages, media_type="text/event-stream",
            status_code=self.status_code or status_code)


class _LiveASGIResponse(ASGIStreamingResponse):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.start_response(send=send)
        if self.is_head_response:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await self.send_body(cast(Send, scope.get(SERVER_SEND, send)), receive)
        await self.after_response()

    async def send_body(self, send: Send, receive: Receive) -> None:
        """The stream runs in the request's own task, and one small task waits for the
        client to leave and cancels it then. (Litestar's version runs an anyio task group
        with a second task for the stream: more objects held per open stream.) The server
        shutting down ends it too (`end_streams`)."""
        stream_task = asyncio.current_task()
        assert stream_task is not None
        if _ending is stream_task.get_loop():  # opened as the server began shutting down
            await _end_response(send)
            return
        client_left = False
        ended = False

        async def cancel_on_disconnect() -> None:
            nonlocal client_left
            while (await receive())["type"] != "http.disconnect":
                pass
            client_left = True
            stream_task.cancel()

        listener = asyncio.get_running_loop().create_task(cancel_on_disconnect())
        _connection_writer.set(connection_writer(send))  # read by channel_stream's inbox
        _open_streams.add(stream_task)
        try:
            await self._stream(send)
        except asyncio.CancelledError:
            if client_left:
                stream_task.uncancel()
            elif _ending is stream_task.get_loop():  # by `end_streams`
                stream_task.uncancel()
                ended = True
            else:  # the server gave up waiting, or our caller was cancelled
                raise
        finally:
            # Before any await: a disconnect noticed now cannot cancel what follows.
            listener.cancel()
            _open_streams.discard(stream_task)
        if ended:
            # The messages' own cleanup (the hub's membership) if the stream was stopped
            # between two of them; a no-op when it was stopped inside one.
            await cast(Any, self.iterator).aclose()
            await _end_response(send)

    async def _stream(self, send: Send) -> None:
        # Nothing of a message is kept in a local between frames: an idle stream would hold
        # its last frame (its first is the whole board) for as long as it stays open.
        messages = cast(AsyncIterator[ServerSentEventMessage], self.iterator)
        while True:
            try:
                await send(HTTPResponseBodyEvent(type="http.response.body", more_body=True,
                                                 body=(await anext(messages)).encode()))
            except StopAsyncIteration:
                break
        await send({"type": "http.response.body", "body": b"", "more_body": False})


# This process's streams now open (their tasks), and the loop whose server is shutting down.
_open_streams: set[asyncio.Task[Any]] = set()
_ending: asyncio.AbstractEventLoop | None = None


def end_streams() -> int:
    """End every live stream of this process's server (`app.live.web_server`, as it begins
    a graceful shutdown), and any that opens from now on; how many were open. Each gets the
    end of its response, so its browser's EventSource reconnects (to another process: this
    one accepts no more). Nothing is added per frame: the streams are stopped as a client's
    leaving stops them, by cancelling their tasks."""
    global _ending
    _ending = loop = asyncio.get_running_loop()
    streams = [task for task in _open_streams if task.get_loop() is loop]
    for task in streams:
        task.cancel()
    return len(streams)


async def _end_response(send: Send) -> None:
    """The last (empty) chunk of a stream's response, unless the client is gone. A client
    not reading (its connection's buffer full) would hold this write until the server gives
    up on it: its connection is dropped instead, nothing more would have reached it."""
    cycle = getattr(send, "__self__", None)
    if isinstance(cycle, RequestResponseCycle):
        if cycle.response_complete or cycle.disconnected:
            return
        if cycle.flow.write_paused:
            cycle.transport.abort()  # `send` returns once the server has seen it go
    await send({"type": "http.response.body", "body": b"", "more_body": False})


Writer = Callable[[bytes], bool]
# The stream's direct writer, set in its task before its messages are iterated.
_connection_writer: contextvars.ContextVar[Writer | None] = contextvars.ContextVar(
    "orderpass_sse_writer", default=None)


def connection_writer(send: Send) -> Writer | None:
    """A function writing one message to the client's connection at once, as uvicorn's
    `send` of a body chunk does (chunked encoding), for the hub to call for a stream that
    is idle (`app.live.hub.Inbox`). It answers False, writing nothing, where `send` would
    have to wait or drop the chunk: the client is not reading (the transport paused us),
    has left, or the response ended; the stream's own loop then sends it.

    Per screen and frame this saves waking the stream's task and passing its generators:
    about two thirds of the web's CPU per screen-frame outside the kernel (py-spy, bench
    kitchen). None where the server is not uvicorn's httptools protocol or the response is
    not chunked (HTTP/1.0): the stream's loop sends everything, as before."""
    cycle = getattr(send, "__self__", None)
    if not isinstance(cycle, RequestResponseCycle) or not cycle.chunked_encoding:
        return None
    transport, flow = cycle.transport, cycle.flow

    def write(body: bytes) -> bool:
        if (flow.write_paused or cycle.disconnected or cycle.response_complete
                or transport.is_closing()):
            return False
        try:  # never raise into the hub: its other streams would stop with it
            transport.write(_chunk(body))
        except (RuntimeError, OSError):  # uvloop: a handle closed before connection_lost
            return False
        return True

    return write


# The last body framed as an HTTP/1.1 chunk. The hub hands every screen of a restaurant the
# same bytes object (`EncodedMessage.encoded`), so the chunk is built once per update, not
# once per screen (a copy of the whole frame each). Keyed by identity: holding the body
# here keeps its id from being reused while it is the key.
_framed: tuple[bytes, bytes] = (b"", b"0\r\n\r\n")


def _chunk(body: bytes) -> bytes:
    global _framed
    last_body, chunk = _framed
    if body is not last_body:
        chunk = b"%x\r\n%b\r\n" % (len(body), body)
        _framed = (body, chunk)
    return chunk


async def channel_stream(channels: ChannelsPlugin, channel: str, snapshot: Snapshot,
                         compose: hubs.Compose, *, heartbeat_s: float | None = None,
                         about: dict[str, str] | None = None
                         ) -> AsyncIterator[ServerSentEventMessage]:
    """`about`: what the stream follows, for its log lines (`order_id=…` for a customer's
    page, `restaurant=…` for a screen; a slug logged as an order id misled an outside try)."""
    heartbeat_s = heartbeat_s or get_settings().sse_heartbeat_seconds
    hub, inbox = await hubs.join(channels, channel, compose, heartbeat_s)
    about = about or {}
    log.info("sse stream opened", channel=channel, **about)
    # An update showing nothing new is not sent again (`Inbox.shown`). Once the snapshot is
    # out, the hub writes updates to this stream itself while it idles (`Inbox.writer`).
    try:
        started, first = await snapshot(tick())  # after the hub's subscription went live
        inbox.fresh = started
        if first is not None:
            inbox.last_sent = hubs.fingerprint(first.data)
            yield EncodedMessage(encoded=first.encode(), retry=RETRY_MS)
        del first  # as all below: nothing of a frame stays referenced while the stream idles
        inbox.writer = _connection_writer.get()
        while True:
            await inbox.wait()
            if inbox.resync_after:
                after, inbox.resync_after = inbox.resync_after, 0
                started, full = await snapshot(after)
                inbox.fresh = max(inbox.fresh, started)
                if full is not None:
                    inbox.last_sent = hubs.fingerprint(full.data)
                    yield full
                del full
            due: list[ServerSentEventMessage] = []
            for update in inbox.take():
                if update.message is None or inbox.shown(update):
                    continue  # the snapshot sent already holds it, or the last frame did
                inbox.sending(update)
                due.append(update.message)
            if len(due) == 1:
                yield due.pop()  # the hub's message, encoded once for every stream
            elif due:  # one write for whatever piled up while this stream was busy
                yield EncodedMessage(encoded=b"".join(message.encode() for message in due))
            del due
    finally:
        inbox.writer = None
        await hubs.leave(hub, inbox)
        # debug: the request's own line follows, with how long the stream was open
        log.debug("sse stream closed", channel=channel, **about)
