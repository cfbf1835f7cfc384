"""Temporary (unpaid) orders in Redis, keyed by their `TEMP-` id, with a TTL past Stripe's
3-day webhook retry window. Redis is not the record: a paid order whose temp copy is gone
is rebuilt from the Checkout Session."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import msgspec
from redis.asyncio import Redis

from app.orders.models import TempOrder

KEY_PREFIX = "orderpass:temp:"
EXPIRY_INDEX = "orderpass:temp:link-expiry"  # sorted set: temp id → link expiry (unix time)
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(TempOrder)


def new_temp_id() -> str:
    """`TEMP-` plus 128 random bits: unguessable, URL-safe, short enough to read out."""
    return "TEMP-" + secrets.token_urlsafe(16).replace("_", "x").replace("-", "y")


def is_temp_id(value: str) -> bool:
    return value.startswith("TEMP-") and 10 <= len(value) <= 64 and value[5:].isalnum()


class TempOrderStore:
    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds

    async def get(self, temp_id: str) -> TempOrder | None:
        if not is_temp_id(temp_id):
            return None
        raw = await self.redis.get(KEY_PREFIX + temp_id)
        return _decoder.decode(raw) if raw else None

    async def put(self, order: TempOrder, ttl_seconds: int | None = None) -> None:
        """Store the order for the store's TTL (or `ttl_seconds`)."""
        order.updated_at = datetime.now(UTC)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(KEY_PREFIX + order.id, _encoder.encode(order),
                     ex=ttl_seconds or self.ttl_seconds)
            if order.expires_at is not None and order.status == "awaiting_payment":
                pipe.zadd(EXPIRY_INDEX, {order.id: order.expires_at.timestamp()})
            else:
                pipe.zrem(EXPIRY_INDEX, order.id)
            await pipe.execute()

    async def delete(self, temp_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(KEY_PREFIX + temp_id)
            pipe.zrem(EXPIRY_INDEX, temp_id)
            await pipe.execute()

    async def links_expired_before(self, moment: datetime, limit: int = 500) -> list[str]:
        """Temp ids whose payment link expired before `moment` (for the expiry sweep)."""
        ids = await self.redis.zrangebyscore(EXPIRY_INDEX, "-inf", moment.timestamp(),
                                             start=0, num=limit)
        return [value.decode() if isinstance(value, bytes) else value for value in ids]
