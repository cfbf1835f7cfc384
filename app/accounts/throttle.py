"""Failed logins counted per account (the per-address limit, `login_rate_limit`, does not
stop guesses spread over many addresses): after LOGIN_FAILURES_PER_ACCOUNT failures in
LOCK_WINDOW_S the account takes no password, right or wrong, until the window has passed
since the last failure. Counted in Redis, so every web process agrees.

A lock anyone can set is a way to shut a kitchen out at the start of service: ten wrong
passwords for `kitchen@…` from anywhere. So a browser the account has logged in from
before (it holds that account's device cookie, `app/accounts/known_devices.py`) is not
held by the account's lock: its own failures are counted apart, per device, against the
same budget. Guessers have no such cookie (OWASP's "device cookies")."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

KEY = "orderpass:login:failures:{account}"
DEVICE_KEY = "orderpass:login:failures:{account}:device:{device}"
LOCK_WINDOW_S = 15 * 60


def _key(email: str, device: str | None = None) -> str:
    # Hashed: the key names no address (a Redis dump is no list of staff logins).
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    if device is None:
        return KEY.format(account=account)
    return DEVICE_KEY.format(account=account, device=device)


async def locked_for(redis: Redis, email: str, limit: int, device: str | None = None) -> int:
    """Seconds the account stays locked for this browser (0: it may try). `device`: the
    id of the account's device cookie the browser holds (None: an unknown browser)."""
    if limit <= 0 or not email.strip():
        return 0
    key = _key(email, device)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(key)
        pipe.ttl(key)
        failures, ttl = await pipe.execute()
    return max(int(ttl), 1) if int(failures or 0) >= limit else 0


async def failed(redis: Redis, email: str, device: str | None = None) -> None:
    key = _key(email, device)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, LOCK_WINDOW_S)
        await pipe.execute()


async def succeeded(redis: Redis, email: str, device: str | None = None) -> None:
    """The right password: the failures counted for this browser are forgotten (a known
    device's own; for any other browser, which got in while the account was not locked,
    the account's). A known device logging in leaves the account's count as it is: the
    guessing elsewhere goes on, and unknown browsers stay locked out."""
    await redis.delete(_key(email, device))
