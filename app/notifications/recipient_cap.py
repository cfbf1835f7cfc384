"""A cap on the emails about unpaid orders one recipient address gets per hour, whoever asked
for them: the last guard against our domain being used to flood a mailbox (orders placed
for someone else's address; the unpaid-order caps and the API's JSON-only rule stop most of
it earlier). An email over the cap is not sent and recorded `skipped`, with the reason.
Emails that follow a payment are not counted (`service.CAPPED_EMAIL_KINDS`).

Redis: a sorted set per address of the emails (idempotency keys) sent to it, scored by
time; a retried email counts once."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

KEY = "orderpass:email:to:{address}"
WINDOW_S = 3600

# KEYS: the address's set. ARGV: now, window, cap, email key. 1: may send, 0: over the cap.
_ADMIT = """
local now, window, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('zremrangebyscore', KEYS[1], '-inf', now - window)
if redis.call('zscore', KEYS[1], ARGV[4]) then
    return 1
end
if redis.call('zcard', KEYS[1]) >= cap then
    return 0
end
redis.call('zadd', KEYS[1], now, ARGV[4])
redis.call('expire', KEYS[1], window)
return 1
"""
_script: AsyncScript | None = None


def _registered(redis: Redis) -> AsyncScript:
    global _script
    if _script is None:
        _script = redis.register_script(_ADMIT)
    return _script


def _key(recipient: str) -> str:
    return KEY.format(address=hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:32])


async def admit(redis: Redis, recipient: str, email_key: str, cap: int) -> bool:
    """True if the email `email_key` may go to `recipient` (and it is counted)."""
    if cap <= 0:
        return True
    allowed = await _registered(redis)(keys=[_key(recipient)],
                                       args=[time.time(), WINDOW_S, cap, email_key],
                                       client=redis)
    return bool(allowed)


async def admit_many(redis: Redis, emails: Sequence[tuple[str, str]], cap: int) -> list[bool]:
    """`admit` for a batch's (recipient, email key) pairs in one round trip: Redis runs them
    in order, so two emails to one address count as they would one after the other. One
    script call per email was a sixth of the worker's time draining a backlog."""
    if cap <= 0 or not emails:
        return [True] * len(emails)
    script, now = _registered(redis), time.time()
    async with redis.pipeline(transaction=False) as pipe:
        for recipient, email_key in emails:
            await script(keys=[_key(recipient)], args=[now, WINDOW_S, cap, email_key],
                         client=pipe)
        return [bool(allowed) for allowed in await pipe.execute()]
