"""Ending an account's sessions without finding them. Sessions live in Redis under random
ids; rather than scanning Redis for an account's sessions, each session carries the
account's `session_version` from login, and a session whose version is no longer the
account's is over. Removing an account, changing its role or resetting its password bumps
(or, for a removed account, drops) the version in Postgres, the record.

Checking it on every staff request must be cheap: the current version is cached in Redis
(one GET), read from Postgres on a miss and kept for CACHE_TTL_S. A change overwrites the
cached value right after its commit; should that write fail (Redis down at that moment),
the stale value lives at most CACHE_TTL_S. A cache fill never overwrites (SET NX), so a
fill racing a change cannot put the old version back.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.accounts.tables import StaffUser
from app.infra.logging import get_logger

log = get_logger("orderpass.accounts.sessions")

CACHE_TTL_S = 60
GONE = 0  # the version of an account that does not exist (real versions start at 1)
T = TypeVar("T")


def _key(user_id: int) -> str:
    return f"orderpass:account:{user_id}:session-version"


async def _from_postgres(user_id: int) -> int:
    row = await StaffUser.select(StaffUser.session_version).where(
        StaffUser.id == user_id).first()
    return int(row["session_version"]) if row else GONE


async def current_version(redis: Redis, user_id: int) -> int:
    """The account's session version (GONE if the account was removed)."""
    try:
        cached = await redis.get(_key(user_id))
    except RedisError:
        cached = None  # sessions are in Redis too; if they were readable, ask Postgres
    if cached is not None:
        return int(cached)
    version = await _from_postgres(user_id)
    with contextlib.suppress(RedisError):
        await redis.set(_key(user_id), version, ex=CACHE_TTL_S, nx=True)
    return version


async def is_current(redis: Redis, user_id: int, version: int) -> bool:
    return version != GONE and await current_version(redis, user_id) == version


async def publish(redis: Redis, user_id: int, version: int) -> None:
    """Call after the commit that changed the account's version (GONE: removed)."""
    try:
        await redis.set(_key(user_id), version, ex=CACHE_TTL_S)
    except RedisError as error:
        log.error("session version not published; old sessions end within the cache TTL",
                  user_id=user_id, ttl_s=CACHE_TTL_S, error=str(error))


async def until_revoked(stream: AsyncIterator[T], redis: Redis, user_id: int, version: int,
                        every_s: float) -> AsyncIterator[T]:
    """Pass `stream` through (a live kitchen screen) until the session it was opened under
    ends, checked at most every `every_s` seconds as messages (heartbeats included) pass."""
    checked = time.monotonic()
    try:
        async for item in stream:
            if time.monotonic() - checked >= every_s:
                checked = time.monotonic()
                if not await is_current(redis, user_id, version):
                    log.info("stream closed: its session ended", user_id=user_id)
                    return
            yield item
    finally:
        closer: Any = getattr(stream, "aclose", None)
        if closer is not None:
            await closer()
