"""Live order events over Redis pub/sub: channel names, publishing from any process, and the
Litestar `ChannelsPlugin` that brings them into every web process (where `app.live.hub`
fans them out to SSE clients).

Channels (plain Redis pub/sub channel names; the Litestar Redis *Pub/Sub* backend subscribes
to channel names verbatim, without its `key_prefix`, which only the streams backend uses):

- `orderpass:kitchen:<restaurant id>`: every change to any order of that restaurant
- `orderpass:order:<order ref>`: every change to one order (the customer status page)

Message body (UTF-8 JSON): `{"event": "order.paid" | "order.updated" | ..., "order_ref":
"TEMP-…", "restaurant_id": 1, "at": "<ISO 8601 UTC>"}`. Events carry no order data: a
subscriber re-reads Postgres, so a lost or duplicated message can never show stale state.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis

from app.infra.logging import get_logger
from app.live.hub import BACKLOG
from app.platform import outbox

log = get_logger("orderpass.kitchen.feed")

PUBLISH_TIMEOUT_S = 2.0


def kitchen_channel(restaurant_id: int) -> str:
    return f"orderpass:kitchen:{restaurant_id}"


def order_channel(order_ref: str) -> str:
    return f"orderpass:order:{order_ref}"


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
    payload = encode_event(restaurant_id, order_ref, event)
    try:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.publish(kitchen_channel(restaurant_id), payload)
            pipe.publish(order_channel(order_ref), payload)
            await asyncio.wait_for(pipe.execute(), PUBLISH_TIMEOUT_S)
    except Exception as error:
        log.warning("order event not published", order_id=order_ref, event_name=event,
                    restaurant_id=restaurant_id, error=str(error))
        return False  # the outbox relay tries again
    log.info("order event published", order_id=order_ref, event_name=event,
             restaurant_id=restaurant_id)
    return True


def channels_plugin(redis: Redis) -> ChannelsPlugin:
    """One Redis pub/sub connection per web process; channels are created on demand."""
    return ChannelsPlugin(
        backend=RedisChannelsPubSubBackend(redis=redis),
        arbitrary_channels_allowed=True,
        # One subscriber per channel and process (app.live.hub), drained after every
        # render. If it ever fills, the oldest events go and the hub sends every screen a
        # fresh snapshot, since each event only means "re-read Postgres".
        subscriber_max_backlog=BACKLOG,
        subscriber_backlog_strategy="dropleft",
    )


@outbox.consumer("kitchen.publish")
async def deliver_outbox_row(redis: Redis, payload: dict[str, Any]) -> None:
    """The outbox's `kitchen.publish` rows (`outbox.kitchen_event`): publish the event."""
    delivered = await publish_order_event(redis, int(payload["restaurant_id"]),
                                          str(payload["order_ref"]), str(payload["event"]))
    if not delivered:
        raise RuntimeError("kitchen publish failed")
