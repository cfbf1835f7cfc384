"""Resend's request budget (2 requests/s per team by default), shared by every worker process
through one Redis key: requests are *paced*, spaced evenly `interval` seconds apart.

Resend counts a request when it arrives, over a second. A moving window that lets two
requests leave within any second (the `limits` library's, used before) lets a third leave a
millisecond after the window moved; a few milliseconds of network or server delay then put
three in Resend's second, and a 429 costs that batch a retry after `retry-after`. Pacing
with a margin leaves room for that delay instead: with `interval = (1 + MARGIN) / rate`,
any `rate + 1` consecutive requests span `rate * interval = 1 + MARGIN` seconds, so arrival
delays of up to MARGIN seconds (less the lateness a sender allows itself, LATE_S) stay under
the limit.

A slot is *reserved* (a Lua script on Redis's clock: the next free moment, then moved one
interval on), so a sender knows when it may send and can prepare its batch meanwhile. A
sender that misses its moment by more than LATE_S reserves a new one rather than send late
and crowd the next slot. A 429 that comes anyway moves the next free moment past its
`retry-after` for every worker.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

KEY = "orderpass:ratelimit:resend-api:next"
MARGIN = 0.2  # 0.6 s between requests at 2/s: 167 emails/s in batches of 100
LATE_S = 0.05  # a sender this late for its slot takes a new one
IDLE_TTL_S = 60  # the key expires once nobody has sent for a while

# KEYS[1]: the next free moment (µs, Redis clock). ARGV: interval µs, max wait µs, ttl ms,
# lead µs (the slot is at least this far from now). Returns {1, wait µs} with the slot
# reserved, or {0, wait µs} when it is further than the caller may wait (nothing reserved).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now + tonumber(ARGV[4]), free)
local wait = slot - now
if wait > tonumber(ARGV[2]) then
    return {0, wait}
end
redis.call('SET', KEYS[1], string.format('%d', slot + tonumber(ARGV[1])), 'PX', ARGV[3])
return {1, wait}
"""
# KEYS[1]: the next free moment. ARGV[1]: seconds (µs) from now before anyone may send.
_DEFER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = now + tonumber(ARGV[1])
if wanted > free then
    redis.call('SET', KEYS[1], string.format('%d', wanted), 'PX', ARGV[2])
end
return 1
"""


class RateLimited(Exception):
    """No request slot within the wait budget: retry the job after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"resend rate limit: retry in {retry_after:.1f}s")
        self.retry_after = retry_after


def interval_s(per_second: float) -> float:
    """Seconds between two requests at `per_second`, with the margin."""
    return (1 + MARGIN) / per_second


class SharedRateLimiter:
    """The pacer of one process (its connection belongs to one event loop)."""

    def __init__(self, redis_url: str, per_second: float) -> None:
        self.redis = Redis.from_url(redis_url, socket_timeout=2)
        self.interval = interval_s(per_second)
        self._reserve: AsyncScript = self.redis.register_script(_RESERVE)
        self._defer: AsyncScript = self.redis.register_script(_DEFER)

    async def reserve(self, max_wait_s: float = 5.0, lead_s: float = 0.0) -> float:
        """Reserve the next send slot, at least `lead_s` from now (time to prepare what it
        sends: a free slot *now* would be missed by a sender that first prepares a batch);
        returns the event loop time (`loop.time()`) it starts at. Raises RateLimited when
        it is more than `max_wait_s` away."""
        args: list[Any] = [int(self.interval * 1e6), int(max_wait_s * 1e6),
                           int((max_wait_s + self.interval + IDLE_TTL_S) * 1000),
                           int(lead_s * 1e6)]
        reserved, wait_us = await self._reserve(keys=[KEY], args=args)
        now = asyncio.get_running_loop().time()
        wait = int(wait_us) / 1e6
        if not reserved:
            raise RateLimited(max(wait - max_wait_s, self.interval))
        return now + wait

    async def wait_for(self, slot: float, max_wait_s: float = 5.0) -> float:
        """Sleep until `slot`; a sender woken more than LATE_S after it (a busy event loop,
        a batch that took long to prepare) reserves a new slot instead and waits for that.
        Returns the slot it may send in."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(max(0.0, slot - loop.time()))
            if loop.time() - slot <= LATE_S:
                return slot
            slot = await self.reserve(max_wait_s)

    async def acquire(self, max_wait_s: float = 5.0) -> None:
        """Take one request slot, waiting up to `max_wait_s` for it."""
        await self.wait_for(await self.reserve(max_wait_s), max_wait_s)

    async def back_off(self, seconds: float) -> None:
        """Resend answered 429 anyway: nobody sends for `seconds` (its retry-after)."""
        await self._defer(keys=[KEY], args=[int(seconds * 1e6),
                                             int((seconds + IDLE_TTL_S) * 1000)])


_limiters: dict[tuple[str, float, int], SharedRateLimiter] = {}


def shared_limiter(redis_url: str, per_second: float) -> SharedRateLimiter:
    """One limiter per process and event loop (its connection pool belongs to the loop)."""
    key = (redis_url, per_second, id(asyncio.get_running_loop()))
    if key not in _limiters:
        _limiters[key] = SharedRateLimiter(redis_url, per_second)
    return _limiters[key]
