"""Live order events over Redis pub/sub: channel names, publishing from any process, and the
Litestar `ChannelsPlugin` that brings them into every web process (where `app.live.hub`
fans them out to SSE clients).

Channels (plain Redis pub/sub channel names; the Litestar Redis *Pub/Sub* backend subscribes
to channel names verbatim, without its `key_prefix`, which only the streams backend uses):

- `orderpass:kitchen:<restaurant id>`: every change to any order of that restaurant
- `orderpass:order:<order ref>`: every change to one order (the customer status page),
  an unpaid one's too (`publish_unpaid_order_event`: the worker's late link, its expiry)

(`orderpass` is REDIS_CHANNEL_PREFIX: pub/sub ignores the Redis database number, so
deployments sharing one Redis server set prefixes of their own.)

Message body (UTF-8 JSON): `{"event": "order.paid" | "order.updated" | ..., "order_ref":
"TEMP-…", "restaurant_id": 1, "at": "<ISO 8601 UTC>"}`. Events carry no order data: a
subscriber re-reads Postgres, so a lost or duplicated message can never show stale state.

The subscription is supervised (`SupervisedPubSubBackend`): Litestar's Redis backend reads
on one pub/sub connection and its reader task dies with that connection (a Redis restart,
a failover), after which no screen of the process heard of a new order until the minute's
resync. Here a lost connection is noticed by the reader, which opens a new one and
subscribes every followed channel again, with backoff, for as long as it takes; once it is
back every open stream is sent a fresh snapshot (whatever was published meanwhile is lost
to pub/sub, but each event only means "re-read Postgres"). `/readyz` reports the feed down
while it is.

A subscription can also vanish while its connection stays up (a proxy or a failover that
moves the connection to a server that never heard the SUBSCRIBE; an outside try saw screens
stay "Live" and hear nothing after a Valkey restart): no read ever fails, so the reader
checks the feed end to end. While it follows channels it publishes a token on a channel of
its own every CHECK_EVERY_S; a token not heard back within CHECK_TIMEOUT_S counts as a lost
connection (resubscribe everything, snapshots to every stream), and `/readyz` says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline, PubSub

from app.infra.logging import get_logger
from app.live.hub import BACKLOG, resync_all
from app.platform import outbox
from app.settings import get_settings

log = get_logger("orderpass.kitchen.feed")

PUBLISH_TIMEOUT_S = 2.0


def channel_name(kind: str, key: object) -> str:
    """`<REDIS_CHANNEL_PREFIX>:<kind>:<key>`; the prefix is `orderpass` unless configured."""
    return f"{get_settings().redis_channel_prefix}:{kind}:{key}"


def kitchen_channel(restaurant_id: int) -> str:
    return channel_name("kitchen", restaurant_id)


def order_channel(order_ref: str) -> str:
    return channel_name("order", order_ref)


def encode_event(restaurant_id: int, order_ref: str, event: str) -> bytes:
    return json.dumps({
        "event": event, "order_ref": order_ref, "restaurant_id": restaurant_id,
        "at": datetime.now(UTC).isoformat(),
    }, separators=(",", ":")).encode()


def decode_event(data: bytes | str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def publish_order_event(redis: Redis, restaurant_id: int, order_ref: str,
                              event: str) -> bool:
    """Tell every kitchen screen of the restaurant and the order's status page that it changed.

    Works from any process (web, arq worker, CLI): it is a plain PUBLISH, which is exactly
    what `RedisChannelsPubSubBackend.publish` does. Best effort: the record is Postgres and
    every screen re-reads it on (re)connect, so a failure here is logged, never raised.
    """
    try:
        async with redis.pipeline(transaction=False) as pipe:
            queue_order_event(pipe, restaurant_id, order_ref, event)
            await asyncio.wait_for(pipe.execute(), PUBLISH_TIMEOUT_S)
    except Exception as error:
        log.warning("order event not published", order_id=order_ref, event_name=event,
                    restaurant_id=restaurant_id, error=str(error))
        return False  # the outbox relay tries again
    # debug: the webhook's and the action's own lines already say the order changed
    log.debug("order event published", order_id=order_ref, event_name=event,
             restaurant_id=restaurant_id)
    return True


async def publish_unpaid_order_event(redis: Redis, restaurant_id: int, order_ref: str,
                                     event: str) -> bool:
    """Tell an unpaid order's status page that it changed without the page asking: the
    worker made its deferred payment link, gave up on it, or expired it. Only the order's
    channel: kitchens never see unpaid orders. The same body as `publish_order_event`'s (no
    order data: the page's stream re-reads the temp order). Best effort: a page that misses
    it catches up at its stream's next snapshot (a minute at most) or on reload."""
    try:
        await asyncio.wait_for(redis.publish(order_channel(order_ref), encode_event(
            restaurant_id, order_ref, event)), PUBLISH_TIMEOUT_S)
    except Exception as error:
        log.warning("order event not published", order_id=order_ref, event_name=event,
                    restaurant_id=restaurant_id, error=str(error))
        return False
    log.debug("order event published", order_id=order_ref, event_name=event,
              restaurant_id=restaurant_id)
    return True


def queue_order_event(pipe: Pipeline, restaurant_id: int, order_ref: str, event: str) -> None:
    """`publish_order_event`'s commands (two PUBLISHes) on the caller's pipeline, so that they
    share its round trip (a new paid order's: the publish, its email job, its temp order's
    removal); its first two results are the PUBLISHes'."""
    payload = encode_event(restaurant_id, order_ref, event)
    pipe.publish(kitchen_channel(restaurant_id), payload)
    pipe.publish(order_channel(order_ref), payload)


# The reader waits this long for a message before it looks again (a message ends the wait at
# once; Litestar's backend polled every millisecond).
POLL_S = 1.0
SUBSCRIBE_TIMEOUT_S = 2.0
RETRY_MIN_S, RETRY_MAX_S = 0.1, 2.0  # resubscription backoff, doubled per failed attempt
# The end-to-end check (module docstring): a token every CHECK_EVERY_S on the process's own
# channel, lost if not back within CHECK_TIMEOUT_S, so a screen is silent at most about their
# sum plus the resubscription. One PUBLISH per process every few seconds. The timeout is
# generous: a false alarm (an event loop that lags that long) resubscribes and sends every
# stream a snapshot, which a process that far behind can least afford.
CHECK_EVERY_S = 5.0
CHECK_TIMEOUT_S = 5.0


class SupervisedPubSubBackend(ChannelsBackend):
    """Redis pub/sub for Litestar's ChannelsPlugin (channel names verbatim, as
    `RedisChannelsPubSubBackend`, whose publish and subscribe it mirrors) that survives the
    loss of its connection: see the module docstring."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self.on_resubscribed: Callable[[], None] = lambda: None
        self._pubsub: PubSub | None = None
        self._channels: set[str] = set()  # what this process follows: subscribed when up
        self._wanted: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self.down_since: float | None = None  # monotonic moment the connection was lost
        self.last_error = ""
        # The end-to-end check: this process's own channel, whether the current connection
        # follows it, the token in flight (and when it left), when one last came back.
        self._check_channel = channel_name("feed-check", uuid.uuid4().hex)
        self._check_followed = False
        self._check_token = b""
        self._check_sent = 0.0
        self.checked_at: float | None = None

    # -- state ----------------------------------------------------------------------------
    def _event(self) -> asyncio.Event:
        if self._wanted is None:  # created in the serving loop, not at import
            self._wanted = asyncio.Event()
        return self._wanted

    def _membership(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def _connection(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
        return self._pubsub

    def _lost(self, error: BaseException) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("live feed subscription lost; resubscribing",
                        channels=len(self._channels), error=repr(error)[:200])
        self.last_error = repr(error)[:200]

    def state(self) -> dict[str, Any]:
        """For /readyz: is the subscription live, what does it follow, since when is it down,
        and how long ago a check token came back through it (None: none checked yet)."""
        if self.down_since is None:
            checked = (round(time.monotonic() - self.checked_at, 1)
                       if self.checked_at is not None else None)
            state: dict[str, Any] = {"ok": True, "channels": len(self._channels),
                                     "checked_s_ago": checked}
            if not self._channels:  # nothing subscribed, so nothing to check end to end
                state["note"] = ("no live stream open in this process: the feed is checked "
                                 f"every {CHECK_EVERY_S:g} s while one is")
            return state
        return {"ok": False, "channels": len(self._channels),
                "down_s": round(time.monotonic() - self.down_since, 1),
                "error": self.last_error}

    # -- ChannelsBackend ------------------------------------------------------------------
    async def on_startup(self) -> None:
        pass

    async def on_shutdown(self) -> None:
        await self._close()

    async def subscribe(self, channels: Iterable[str]) -> None:
        new = set(channels) - self._channels
        self._channels |= new
        async with self._membership():
            if new and self.down_since is None:
                try:
                    await asyncio.wait_for(
                        self._connection().subscribe(*new, *self._unchecked()),
                        SUBSCRIBE_TIMEOUT_S)
                except Exception as error:  # the reader resubscribes everything once back
                    self._lost(error)
        if self._channels:
            self._event().set()  # after SUBSCRIBE: the reader needs the connection it made

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        gone = set(channels) & self._channels
        self._channels -= gone
        if not self._channels:
            self._event().clear()
        async with self._membership():
            if gone and self.down_since is None:
                try:
                    await asyncio.wait_for(self._connection().unsubscribe(*gone),
                                           SUBSCRIBE_TIMEOUT_S)
                except Exception as error:
                    self._lost(error)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel in set(channels):
                pipe.publish(channel, data)
            await pipe.execute()

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        while True:
            await self._event().wait()
            if self.down_since is not None:
                await self._resubscribe()
                continue
            await self._check()
            if self.down_since is not None:
                continue
            try:
                message = await self._connection().get_message(
                    ignore_subscribe_messages=True, timeout=POLL_S)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # connection dropped: Redis restarted, failed over…
                self._lost(error)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else str(channel)
            if channel == self._check_channel:
                self._checked(message["data"])
            elif channel in self._channels:  # not one being unsubscribed right now
                yield channel, message["data"]

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        raise NotImplementedError("pub/sub keeps no history")

    # -- the end-to-end check ---------------------------------------------------------------
    def _unchecked(self) -> tuple[str, ...]:
        """The check channel, to subscribe with the next SUBSCRIBE on a connection that does
        not follow it yet (then marked followed)."""
        if self._check_followed:
            return ()
        self._check_followed = True
        return (self._check_channel,)

    async def _check(self) -> None:
        """Send a token when one is due; count the connection lost when the last one sent is
        overdue (see the module docstring)."""
        now = time.monotonic()
        if self._check_token:
            if now - self._check_sent > CHECK_TIMEOUT_S:
                self._check_token = b""
                self._lost(TimeoutError(f"a check published on the live feed was not heard "
                                        f"back within {CHECK_TIMEOUT_S:g} s"))
            return
        if now - self._check_sent < CHECK_EVERY_S:
            return
        self._check_token, self._check_sent = uuid.uuid4().hex.encode(), now
        try:
            await asyncio.wait_for(self._redis.publish(self._check_channel, self._check_token),
                                   SUBSCRIBE_TIMEOUT_S)
        except Exception as error:  # Redis unreachable: the subscription with it
            self._check_token = b""
            self._lost(error)

    def _checked(self, token: bytes | str) -> None:
        token = token.encode() if isinstance(token, str) else token
        if token and token == self._check_token:
            self._check_token = b""
            self.checked_at = time.monotonic()

    # -- recovery -------------------------------------------------------------------------
    async def _close(self) -> None:
        self._check_followed, self._check_token = False, b""
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), SUBSCRIBE_TIMEOUT_S)

    async def _resubscribe(self) -> None:
        """A new connection subscribed to every followed channel, retried with backoff
        until Redis answers; then every open stream gets a fresh snapshot."""
        delay = RETRY_MIN_S
        while True:
            await self._close()
            async with self._membership():
                try:
                    connection = self._connection()
                    if self._channels:
                        await asyncio.wait_for(
                            connection.subscribe(*self._channels, *self._unchecked()),
                            SUBSCRIBE_TIMEOUT_S)
                except Exception as error:
                    self.last_error = repr(error)[:200]
                else:
                    down_s = time.monotonic() - (self.down_since or time.monotonic())
                    self.down_since = None
                    log.warning("live feed resubscribed", channels=len(self._channels),
                                down_s=round(down_s, 1))
                    self.on_resubscribed()
                    return
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(RETRY_MAX_S, delay * 2)


def feed_state(channels: ChannelsPlugin) -> dict[str, Any]:
    """For /readyz: is this process's live feed subscribed (see the module docstring)."""
    reader = channels._sub_task  # the plugin's reader task: private, but nothing else says
    if reader is not None and reader.done():  # a bug, not Redis: it must not hide
        return {"ok": False, "error": "the live feed reader stopped"}
    backend = channels._backend
    if isinstance(backend, SupervisedPubSubBackend):
        return backend.state()
    return {"ok": True}


def channels_plugin(redis: Redis) -> ChannelsPlugin:
    """One Redis pub/sub connection per web process; channels are created on demand."""
    backend = SupervisedPubSubBackend(redis)
    plugin = ChannelsPlugin(
        backend=backend,
        arbitrary_channels_allowed=True,
        # One subscriber per channel and process (app.live.hub), drained after every
        # render. If it ever fills, the oldest events go and the hub sends every screen a
        # fresh snapshot, since each event only means "re-read Postgres".
        subscriber_max_backlog=BACKLOG,
        subscriber_backlog_strategy="dropleft",
    )
    backend.on_resubscribed = lambda: resync_all(plugin)
    return plugin


@outbox.consumer("kitchen.publish")
async def deliver_outbox_row(redis: Redis, payload: dict[str, Any]) -> None:
    """The outbox's `kitchen.publish` rows (`outbox.kitchen_event`): publish the event."""
    delivered = await publish_order_event(redis, int(payload["restaurant_id"]),
                                          str(payload["order_ref"]), str(payload["event"]))
    if not delivered:
        raise RuntimeError("kitchen publish failed")
