"""Failed logins counted per account (the per-address limit, `login_rate_limit`, does not
stop guesses spread over many addresses): after LOGIN_FAILURES_PER_ACCOUNT failures in
LOCK_WINDOW_S the account takes no password, right or wrong, until the window has passed
since the last failure. Counted in Redis, so every web process agrees."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

KEY = "orderpass:login:failures:{account}"
LOCK_WINDOW_S = 15 * 60


def _key(email: str) -> str:
    # Hashed: the key names no address (a Redis dump is no list of staff logins).
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return KEY.format(account=account)


async def locked_for(redis: Redis, email: str, limit: int) -> int:
    """Seconds the account stays locked (0: it may try)."""
    if limit <= 0 or not email.strip():
        return 0
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(_key(email))
        pipe.ttl(_key(email))
        failures, ttl = await pipe.execute()
    return max(int(ttl), 1) if int(failures or 0) >= limit else 0


async def failed(redis: Redis, email: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(_key(email))
        pipe.expire(_key(email), LOCK_WINDOW_S)
        await pipe.execute()


async def succeeded(redis: Redis, email: str) -> None:
    await redis.delete(_key(email))
