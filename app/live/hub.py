"""Per-process fan-out of one Redis channel to every SSE stream of this process that follows it.

One channels-plugin subscription per channel (not per stream) and one render per burst of
events (not per stream): the hub drains whatever events have arrived, asks the channel's
`compose` for ONE message describing them, and hands the same encoded bytes to every stream's
inbox. An idle stream's inbox writes them to its connection there and then (one socket
write per stream and burst, no wake-up of the stream's task); a busy one queues them for
the stream's own loop. That is what keeps 200 kitchen screens of one process current at 50
paid orders a second.

Freshness: every update carries the moment (`tick`) its render started, after the events it
answers arrived (events are published after commit, so the render sees their changes). A
stream drops updates that started before its own snapshot did: the snapshot already holds
them, and sending them after it would show an older state.

Heartbeats and the periodic resync come from one ticker per hub rather than a timer per
stream. An inbox that falls too far behind (a stalled client) is cleared and marked for a
fresh snapshot, so memory per stream stays bounded and the screen still converges.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from litestar.channels import ChannelsPlugin
from litestar.channels.subscriber import Subscriber
from litestar.response import ServerSentEventMessage

from app.infra.logging import get_logger
from app.live.shared_render import tick
from app.platform.metrics import SSE_CLIENTS, SSE_FANOUT_CPU, SSE_FANOUT_FRAMES

log = get_logger("orderpass.kitchen.hub")

# Events a hub subscription may hold while a render runs; more means "re-read everything".
BACKLOG = 1000
INBOX_LIMIT = 32  # updates queued for one stream before it is told to resync instead
RESYNC_S = 60.0  # a full snapshot at least this often even without events (see sse.py)

# `compose(events)` → one message for all streams, or None for "send everyone a snapshot".
Compose = Callable[[list[bytes]], Awaitable[ServerSentEventMessage | None]]


@dataclass(frozen=True)
class Update:
    started: int  # moment the render began; 0 for heartbeats, which carry no state
    message: ServerSentEventMessage | None  # None: render a fresh snapshot
    # The message data's fingerprint, taken once here rather than twice per stream it
    # reaches (`Inbox.shown`, `Inbox.sending`): at 200 screens, 400 tuples an update.
    mark: tuple[int, int] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mark", fingerprint(self.message.data)
                           if self.started and self.message is not None else None)


# A heartbeat is an event, not a comment: pages cannot see comments, and a kitchen screen
# tells a silent stall from a quiet kitchen by hearing one at least every heartbeat.
PING = ServerSentEventMessage(event="ping", data="ping")


class Inbox:
    """One stream's queue of updates: ordered, bounded, woken without a timer.

    With a `writer` (the client's connection, see `app.live.sse`), an update reaching an
    idle stream is written at once from the hub's own loop: no wake-up of the stream's
    task, no pass through its generators. Anything else (a stream busy sending, a client
    not reading, a snapshot due) is queued for the stream's loop, so frames keep their
    order either way."""

    def __init__(self) -> None:
        # A list, not a deque: an empty deque is 600 bytes per idle stream, a list 56.
        self._items: list[Update] = []
        self._waiter: asyncio.Future[None] | None = None
        self.resync_after = 0  # > 0: a snapshot newer than this moment is due
        # What the stream has shown: the moment its last snapshot's render started, and a
        # fingerprint of the last data sent (the data itself would keep a board's HTML
        # alive per idle stream).
        self.fresh = 0
        self.last_sent: tuple[int, int] | None = None
        self.writer: Callable[[bytes], bool] | None = None  # False: not written, queue it

    def push(self, update: Update) -> bool:
        """True when the update was written to the client here and now."""
        if update.message is None:
            self.resync(update.started)
            return False
        # Only frames with state are written here: heartbeats still pass through the
        # stream's loop, where what wraps a stream acts as messages pass (a kitchen screen
        # ends there once its session is revoked: `session_versions.until_revoked`).
        if update.started and self.writer is not None and self._idle():
            if self.shown(update):
                return False
            if self.writer(update.message.encode()):
                self.sending(update)
                return True
        if len(self._items) >= INBOX_LIMIT:
            self._items.clear()  # a stalled client: one snapshot replaces the backlog
            self.resync(tick())
        else:
            self._items.append(update)
            self._wake()
        return False

    def _idle(self) -> bool:
        """The stream's loop waits with nothing pending: everything before was written."""
        return (self._waiter is not None and not self._waiter.done() and not self._items
                and not self.resync_after)

    def shown(self, update: Update) -> bool:
        """The stream shows this update already: its snapshot was rendered after it, or the
        last frame sent carried the same data (a str's hash is computed once per string, so
        200 screens sharing it pay it once; two different strings of one length with the
        same 64-bit hash would skip one update, which the next resync repairs)."""
        if not update.started:
            return False  # a heartbeat: no state
        if update.started < self.fresh:
            return True
        return update.mark is not None and update.mark == self.last_sent

    def sending(self, update: Update) -> None:
        self.last_sent = update.mark or self.last_sent

    def resync(self, after: int) -> None:
        self.resync_after = max(self.resync_after, after)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def wait(self) -> None:
        """Return once there is something to send (updates or a resync)."""
        while not self._items and not self.resync_after:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def take(self) -> list[Update]:
        items, self._items = self._items, []
        return items


def fingerprint(data: object) -> tuple[int, int] | None:
    return (len(data), hash(data)) if isinstance(data, str) else None


class Hub:
    """The streams of one channel in this process and the task that feeds them."""

    def __init__(self, channels: ChannelsPlugin, channel: str, compose: Compose,
                 heartbeat_s: float) -> None:
        self.channels = channels
        self.channel = channel
        self.compose = compose
        self.heartbeat_s = heartbeat_s
        self.inboxes: set[Inbox] = set()
        self.renders = 0
        self._subscriber: Subscriber | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # Set once the Redis subscription is live: a stream takes its snapshot only after
        # that, so nothing committed between the snapshot and the subscription is missed.
        self.live: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def start(self) -> None:
        try:
            async with _membership_lock():
                self._subscriber = await self.channels.subscribe(self.channel)
        except BaseException as error:
            self.live.set_exception(error)
            self.live.exception()  # retrieved: later joiners re-raise it themselves
            raise
        self._tasks = [asyncio.create_task(self._read(self._subscriber)),
                       asyncio.create_task(self._tick())]
        self.live.set_result(None)
        # debug: each stream logs its opening and its request line (four lines a stream
        # in the dev console was noise)
        log.debug("channel followed", channel=self.channel)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        # Shielded: it runs while a cancelled stream unwinds, and a leaked subscription
        # would keep this process receiving the channel forever.
        with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._subscriber is not None:
                async with _membership_lock():
                    await self.channels.unsubscribe(self._subscriber)
        log.debug("channel released", channel=self.channel)

    def broadcast(self, update: Update) -> None:
        if not update.started or update.message is None:  # pings and resyncs: queued only
            for inbox in self.inboxes:
                inbox.push(update)
            return
        # Two clock reads per update, not per stream: the fan-out's cost on /metrics.
        started = time.thread_time()
        written = sum(inbox.push(update) for inbox in self.inboxes)
        SSE_FANOUT_CPU.inc(time.thread_time() - started)
        SSE_FANOUT_FRAMES.inc(written)

    async def _read(self, subscriber: Subscriber) -> None:
        events = subscriber.iter_events()
        while True:
            batch = [await anext(events)]
            while subscriber.qsize:  # everything already here joins this burst
                batch.append(await anext(events))
            started = tick()
            if len(batch) >= BACKLOG - 1:  # events may have been dropped: re-read it all
                self.broadcast(Update(started, None))
                continue
            try:
                message = await self.compose(batch)
            except Exception as error:  # Postgres blip: snapshots retry on their own
                log.warning("channel update not rendered", channel=self.channel,
                            error=str(error))
                message = None
            self.renders += 1
            self.broadcast(Update(started, message))

    async def _tick(self) -> None:
        # Each hub's ticker starts at a random phase of its period. Hubs started together (a
        # restarted web process: every screen and status page reconnects within seconds)
        # otherwise pinged all their streams in the same instant every period, and sent them
        # all a fresh snapshot in the same instant every minute: at 1,000 restaurants and
        # 2,000 status pages, 3,000 snapshot renders in one burst. The first ping comes no
        # later than before, and a snapshot still at least every RESYNC_S.
        since_resync = 0.0
        await asyncio.sleep(random.uniform(0, self.heartbeat_s))
        while True:
            since_resync += self.heartbeat_s
            if since_resync >= RESYNC_S:
                since_resync = 0.0
                self.broadcast(Update(tick(), None))
            else:
                self.broadcast(Update(0, PING))
            await asyncio.sleep(self.heartbeat_s)


_hubs: dict[tuple[int, str], Hub] = {}
_membership_locks: dict[int, asyncio.Lock] = {}


def _membership_lock() -> asyncio.Lock:
    """Serialises this process's channel (un)subscriptions. ChannelsPlugin.unsubscribe drops
    the last subscriber, awaits, then UNSUBSCRIBEs from Redis; a hub started in that gap
    SUBSCRIBEs first and is then silently cut off by the late UNSUBSCRIBE. One at a time, the
    gap cannot be entered."""
    key = id(asyncio.get_running_loop())
    lock = _membership_locks.get(key)
    if lock is None:
        lock = _membership_locks[key] = asyncio.Lock()
    return lock


async def join(channels: ChannelsPlugin, channel: str, compose: Compose,
               heartbeat_s: float) -> tuple[Hub, Inbox]:
    """An inbox on the channel's hub, starting the hub if this is its first stream."""
    key = (id(channels), channel)
    while True:
        hub = _hubs.get(key)
        if hub is None:
            hub = _hubs[key] = Hub(channels, channel, compose, heartbeat_s)
            try:
                await hub.start()
            except BaseException:
                _hubs.pop(key, None)
                raise
        else:
            await asyncio.shield(hub.live)
        if _hubs.get(key) is hub:  # not stopped by its last stream while we waited
            break
    inbox = Inbox()
    hub.inboxes.add(inbox)
    SSE_CLIENTS.inc()
    return hub, inbox


async def leave(hub: Hub, inbox: Inbox) -> None:
    """Drop the inbox; the last stream of a channel stops its hub."""
    SSE_CLIENTS.dec()
    hub.inboxes.discard(inbox)
    key = (id(hub.channels), hub.channel)
    if not hub.inboxes and _hubs.get(key) is hub:
        del _hubs[key]
        await hub.stop()


def resync_all(channels: ChannelsPlugin) -> None:
    """Every stream of every hub on `channels` gets a fresh snapshot (the live feed came
    back after Redis was gone: events published meanwhile never arrived)."""
    moment = tick()
    for (plugin_id, _), hub in list(_hubs.items()):
        if plugin_id == id(channels):
            hub.broadcast(Update(moment, None))


def hub_of(channels: ChannelsPlugin, channel: str) -> Hub | None:
    """The running hub of a channel in this process (tests, metrics)."""
    return _hubs.get((id(channels), channel))
