"""Server-sent event streams fed by a channel hub (`app.live.hub`): a snapshot first, then
the hub's shared update per burst of events, heartbeats (`: ping` comments, every
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

import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from litestar.channels import ChannelsPlugin
from litestar.response import ServerSentEventMessage

from app.infra.logging import get_logger
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
    return "\n".join(line.strip() for line in html.splitlines() if line.strip())


def encoded(event: str, data: str) -> EncodedMessage:
    """A message encoded now, for many streams; `data` is kept to compare updates."""
    plain = message(event, data)
    return EncodedMessage(data=data, event=event, id=plain.id, encoded=plain.encode())


async def channel_stream(channels: ChannelsPlugin, channel: str, snapshot: Snapshot,
                         compose: hubs.Compose, *, heartbeat_s: float | None = None,
                         label: str = "") -> AsyncIterator[ServerSentEventMessage]:
    heartbeat_s = heartbeat_s or get_settings().sse_heartbeat_seconds
    hub, inbox = await hubs.join(channels, channel, compose, heartbeat_s)
    log.info("sse stream opened", channel=channel, order_id=label or None)
    last_data: str | None = None  # an update showing nothing new is not sent again
    try:
        fresh, first = await snapshot(tick())  # after the hub's subscription went live
        if first is not None:
            last_data = first.data if isinstance(first.data, str) else None
            yield EncodedMessage(encoded=first.encode(), retry=RETRY_MS)
        while True:
            await inbox.wait()
            if inbox.resync_after:
                after, inbox.resync_after = inbox.resync_after, 0
                started, full = await snapshot(after)
                fresh = max(fresh, started)
                if full is not None:
                    last_data = full.data if isinstance(full.data, str) else None
                    yield full
            wire: list[bytes] = []
            for update in inbox.take():
                if update.message is None or (update.started and update.started < fresh):
                    continue  # the snapshot sent already holds it
                data = update.message.data
                if update.started and isinstance(data, str):
                    if data == last_data:
                        continue
                    last_data = data
                wire.append(update.message.encode())
            if len(wire) == 1:
                yield EncodedMessage(encoded=wire[0])
            elif wire:  # one write for whatever piled up while this stream was busy
                yield EncodedMessage(encoded=b"".join(wire))
    finally:
        await hubs.leave(hub, inbox)
        log.info("sse stream closed", channel=channel, order_id=label or None)
