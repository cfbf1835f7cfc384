"""Server-sent event streams fed by a channel: snapshot first, then one fresh snapshot per
burst of events, heartbeats (`: ping` comments, every SSE_HEARTBEAT_SECONDS) in between.

Every message is rendered from Postgres at send time, so a message never carries stale or
partial state, duplicates are harmless, and a reconnect (`Last-Event-ID` or not) starts with
a full snapshot and misses nothing. Each message has an `id` (ms timestamp + sequence) and
the first one tells the browser to retry after `RETRY_MS`.

`snapshot(after)` is told the moment (`app.kitchen.shared_render.tick`) its render must have
started after: the subscription for the first message, the newest event this stream has seen
for the others. That lets streams of one channel share a render (`SharedRender`) without ever
being served one that started before the event it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import anyio
from litestar.channels import ChannelsPlugin
from litestar.channels.subscriber import Subscriber
from litestar.response import ServerSentEventMessage

from app.infra.logging import get_logger
from app.kitchen.shared_render import EventClock, tick
from app.ops.metrics import SSE_CLIENTS
from app.settings import get_settings

log = get_logger("orderpass.kitchen.sse")

RETRY_MS = 2000
# A fresh snapshot at least this often even without events: if this process's pub/sub link
# ever broke silently, screens would still converge on Postgres within a minute.
RESYNC_S = 60.0
_sequence = itertools.count(1)
EVENTS = EventClock()  # when this process first saw each event, across all its streams

Snapshot = Callable[[int], Awaitable[ServerSentEventMessage | None]]


@dataclass
class EncodedMessage(ServerSentEventMessage):
    """A message encoded once and sent to many streams as is: Litestar's per-line encoding
    of a large board, repeated for every screen, was the web process's biggest cost."""

    encoded: bytes = b""

    def encode(self) -> bytes:
        if self.retry is None:
            return self.encoded
        return f"retry: {self.retry}{self.sep}".encode() + self.encoded


def message(event: str, data: str) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=data, event=event,
                                  id=f"{int(time.time() * 1000)}-{next(_sequence)}")


class _Seen:
    newest = 0  # moment of the newest event this stream has been woken by


async def _pump(subscriber: Subscriber, channel: str, wake: asyncio.Event,
                seen: _Seen) -> None:
    async for event in subscriber.iter_events():
        seen.newest = max(seen.newest, EVENTS.moment_of(channel, event))
        wake.set()  # bursts coalesce: one re-render covers every event since the last one


_membership_locks: dict[int, asyncio.Lock] = {}


def _membership_lock() -> asyncio.Lock:
    """Serialises this process's channel (un)subscriptions. ChannelsPlugin.unsubscribe drops
    the last subscriber, awaits, then UNSUBSCRIBEs from Redis; a screen reconnecting in that
    gap SUBSCRIBEs first and is then silently cut off by the late UNSUBSCRIBE (seen as
    `pubsub_numsub == 0` with a stream open). One at a time, the gap cannot be entered."""
    key = id(asyncio.get_running_loop())
    lock = _membership_locks.get(key)
    if lock is None:
        lock = _membership_locks[key] = asyncio.Lock()
    return lock


async def channel_stream(channels: ChannelsPlugin, channel: str, snapshot: Snapshot, *,
                         heartbeat_s: float | None = None,
                         label: str = "") -> AsyncIterator[ServerSentEventMessage]:
    heartbeat_s = heartbeat_s or get_settings().sse_heartbeat_seconds
    # Subscribe before the first snapshot so nothing committed in between is missed.
    async with _membership_lock():
        subscriber = await channels.subscribe(channel)
    subscribed = tick()
    wake, seen = asyncio.Event(), _Seen()
    pump = asyncio.create_task(_pump(subscriber, channel, wake, seen))
    log.info("sse stream opened", channel=channel, order_id=label or None)
    SSE_CLIENTS.inc()
    try:
        first = await snapshot(subscribed)
        if first is not None:
            first.retry = RETRY_MS
            yield first
        synced = time.monotonic()
        while True:
            try:
                await asyncio.wait_for(wake.wait(), heartbeat_s)
            except TimeoutError:
                if time.monotonic() - synced < RESYNC_S:
                    yield ServerSentEventMessage(comment="ping")
                    continue
                seen.newest = tick()  # the periodic resync wants a render from now on
            wake.clear()
            synced = time.monotonic()
            update = await snapshot(seen.newest)
            yield update if update is not None else ServerSentEventMessage(comment="ping")
    finally:
        SSE_CLIENTS.dec()
        pump.cancel()
        # The client is gone and our scope is cancelled: shield the clean-up so the
        # channel subscription is released rather than leaked.
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            async with _membership_lock():
                await channels.unsubscribe(subscriber)
        log.info("sse stream closed", channel=channel, order_id=label or None)
