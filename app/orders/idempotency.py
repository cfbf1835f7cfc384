"""One submit, one order: `POST /api/orders` with an `Idempotency-Key` header, and the menu
form (which carries a key of its own), answer a repeat of the same key and body with the
first order and create nothing. A double tap on "Place order and pay" is one order, one
payment link, one email.

The key lives in Redis (shared by every web process) for `KEY_TTL_S`, with a fingerprint of
the order it was first used for. The first request claims it (`SET NX`); a repeat that
arrives while the first is still running waits for its result (up to `WAIT_S`). A first
request that fails (bad input, nothing stored) releases the key, so fixing the input and
trying again works. Like Stripe, a key reused for a different order is refused (API); the
form instead treats a changed order as a new submission.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable

import msgspec
from redis.asyncio import Redis

from app.infra.logging import get_logger
from app.orders.models import TempOrder
from app.orders.schemas import OrderIn
from app.orders.views import temp_store

log = get_logger("orderpass.intake.idempotency")

KEY_PREFIX = "orderpass:idempotency:"
KEY_TTL_S = 24 * 3600
WAIT_S = 10.0  # a repeat waits this long for the first request's result
POLL_S = 0.05
MAX_KEY_LENGTH = 255


class KeyReused(Exception):
    """The key was first used for a different order (HTTP 422)."""


class StillRunning(Exception):
    """The first request with this key has not finished in time (HTTP 409)."""


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


def fingerprint(data: OrderIn) -> str:
    return hashlib.sha256(msgspec.json.encode(data)).hexdigest()


def _redis_key(key: str) -> str:
    return KEY_PREFIX + hashlib.sha256(key.encode()).hexdigest()


async def submit_once(redis: Redis, key: str, data: OrderIn,
                      submit: Callable[[], Awaitable[TempOrder]], *,
                      per_order: bool = False) -> tuple[TempOrder, bool]:
    """`submit()` once per (key, order); returns (the order, True if this call created it).

    `per_order=True` (the form) scopes the key to the order's fingerprint, so a changed
    order is a new submission rather than an error."""
    print_ = fingerprint(data)
    slot = _redis_key(f"{key}\n{print_}" if per_order else key)
    deadline = time.monotonic() + WAIT_S
    while True:
        if await redis.set(slot, json.dumps({"f": print_, "id": None}), nx=True, ex=KEY_TTL_S):
            try:
                order = await submit()
            except BaseException:
                await redis.delete(slot)  # nothing was stored: the key is free again
                raise
            await redis.set(slot, json.dumps({"f": print_, "id": order.id}), ex=KEY_TTL_S)
            return order, True
        raw = await redis.get(slot)
        if raw is not None:
            first = json.loads(raw)
            if first.get("f") != print_:
                raise KeyReused("this Idempotency-Key was already used for a different order")
            if first.get("id"):
                earlier = await temp_store(redis).get(first["id"])
                if earlier is not None:
                    log.info("repeated submission answered with the first order",
                             order_id=earlier.id)
                    return earlier, False
        if time.monotonic() > deadline:
            raise StillRunning("an order with this Idempotency-Key is still being placed; "
                               "try again in a moment")
        await asyncio.sleep(POLL_S)
