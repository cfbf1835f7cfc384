"""Temporary (unpaid) orders in Redis, keyed by their `TEMP-` id, with a TTL past Stripe's
3-day webhook retry window. Redis is not the record: a paid order whose temp copy is gone
is rebuilt from the Checkout Session."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import cast

import msgspec
from arq.connections import ArqRedis
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from app.infra.jobs import JobSpec, enqueue_jobs_in
from app.orders.models import TempOrder

KEY_PREFIX = "orderpass:temp:"
# A new order's copy lives this long until its payment link is saved (or its first attempt
# fails and is deferred): one left by a process that died, or by Redis going away mid-flight,
# leaves by itself.
UNFINISHED_TTL_S = 15 * 60
EXPIRY_INDEX = "orderpass:temp:link-expiry"  # sorted set: temp id → link expiry (unix time)
# A stored order ends with `link_email`, its struct's last field. Intake's one write of a new
# order (a script, with its caps: app/orders/unpaid_caps.py) swaps the first tail for the
# second when the address is past its cap, so the stored copy, which the worker's deferred
# link and a renewal read, carries that decision from its first write.
LINK_EMAIL_TAIL = b',"link_email":true}'
NO_LINK_EMAIL_TAIL = b',"link_email":false}'
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

    async def get_many(self, temp_ids: list[str]) -> list[TempOrder | None]:
        """`get` for many ids in one round trip (an email batch), in the same order."""
        valid = [temp_id for temp_id in temp_ids if is_temp_id(temp_id)]
        found = dict(zip(valid, await self.redis.mget([KEY_PREFIX + t for t in valid]),
                         strict=True)) if valid else {}
        return [_decoder.decode(raw) if (raw := found.get(temp_id)) else None
                for temp_id in temp_ids]

    def stored_form(self, order: TempOrder) -> tuple[str, bytes]:
        """A new order's key and value as `put` would write them (for a caller that writes
        it within a script of its own: intake, with its caps)."""
        order.updated_at = datetime.now(UTC)
        return KEY_PREFIX + order.id, _encoder.encode(order)

    async def put(self, order: TempOrder, ttl_seconds: int | None = None, *,
                  jobs: list[JobSpec] | None = None) -> None:
        """Store the order for the store's TTL (or `ttl_seconds`); with `jobs` (the store's
        client must be arq's), enqueue them in the same transaction and round trip."""
        async with self.redis.pipeline(transaction=True) as pipe:
            self._queue_put(pipe, order, ttl_seconds or self.ttl_seconds)
            if jobs:
                enqueue_jobs_in(pipe, cast(ArqRedis, self.redis), jobs)
            await pipe.execute()

    def _queue_put(self, pipe: Pipeline, order: TempOrder, ttl_seconds: int) -> None:
        """`put`'s writes as commands of `pipe`: the order, and its place in the expiry
        index while its link is open."""
        key, value = self.stored_form(order)
        pipe.set(key, value, ex=ttl_seconds)
        if order.expires_at is not None and order.status == "awaiting_payment":
            pipe.zadd(EXPIRY_INDEX, {order.id: order.expires_at.timestamp()})
        else:
            pipe.zrem(EXPIRY_INDEX, order.id)

    async def delete(self, temp_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            self.queue_delete(pipe, temp_id)
            await pipe.execute()

    @staticmethod
    def queue_delete(pipe: Pipeline, temp_id: str) -> None:
        """`delete` as commands of the caller's pipeline (one round trip with its others)."""
        pipe.delete(KEY_PREFIX + temp_id)
        pipe.zrem(EXPIRY_INDEX, temp_id)

    async def links_expired_before(self, moment: datetime, limit: int = 500) -> list[str]:
        """Temp ids whose payment link expired before `moment` (for the expiry sweep)."""
        ids = await self.redis.zrangebyscore(EXPIRY_INDEX, "-inf", moment.timestamp(),
                                             start=0, num=limit)
        return [value.decode() if isinstance(value, bytes) else value for value in ids]

    async def ids(self, batch: int = 500) -> AsyncIterator[str]:
        """Every temp order id in Redis (a SCAN: never blocks the server; may repeat an id)."""
        async for raw_key in self.redis.scan_iter(match=KEY_PREFIX + "TEMP-*", count=batch):
            key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
            yield key.removeprefix(KEY_PREFIX)

    async def delete_if(self, temp_id: str, condition: Callable[[TempOrder], bool]
                        ) -> TempOrder | None:
        """Delete the temp order if `condition(order)` holds, atomically with the check (a
        write in between, e.g. a renewal, cancels it); the order deleted, or None. Raises
        ValueError for a value that is not a temp order."""
        key = KEY_PREFIX + temp_id
        async with self.redis.pipeline(transaction=True) as pipe:
            try:
                order = await _watched(pipe, key)
                if order is None or not condition(order):
                    return None
                pipe.multi()
                pipe.delete(key)
                pipe.zrem(EXPIRY_INDEX, temp_id)
                await pipe.execute()
            except WatchError:
                return None
        return order

    async def update_if(self, temp_id: str, change: Callable[[TempOrder], bool]
                        ) -> TempOrder | None:
        """Apply `change` to the stored order and write it back, atomically with the read:
        `change` mutates the order and returns whether to write. A write by another process
        in between (the worker expiring a link while Stripe's webhook about it lands) makes
        it read again and decide anew, so two callers never both act on one state. The
        order written, or None (gone, or `change` declined)."""
        key = KEY_PREFIX + temp_id
        while True:
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    order = await _watched(pipe, key)
                    if order is None or not change(order):
                        return None
                    pipe.multi()
                    self._queue_put(pipe, order, self.ttl_seconds)
                    await pipe.execute()
                    return order
                except WatchError:
                    continue  # written meanwhile: read it again

    async def prune_expiry_index(self, older_than_s: float = 3600) -> int:
        """Drop link-expiry entries older than `older_than_s` whose temp order is gone (a
        TTL, a flush); how many were dropped."""
        members = await self.redis.zrangebyscore(EXPIRY_INDEX, "-inf", time.time() - older_than_s)
        dead = []
        for member in members:
            temp_id = member.decode() if isinstance(member, bytes) else str(member)
            if not await self.redis.exists(KEY_PREFIX + temp_id):
                dead.append(temp_id)
        if dead:
            await self.redis.zrem(EXPIRY_INDEX, *dead)
        return len(dead)


async def _watched(pipe: Pipeline, key: str) -> TempOrder | None:
    """The temp order at `key`, read with the key WATCHed: a write by anyone before the
    pipeline's EXEC makes it fail (WatchError). None when there is none."""
    await pipe.watch(key)
    raw = await pipe.get(key)
    return _decoder.decode(raw) if raw else None
