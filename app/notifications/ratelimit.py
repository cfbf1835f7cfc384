"""Resend's request budget (2 requests/s per team by default), shared by every worker process
through a moving window in Redis (the `limits` library's async Redis storage)."""

from __future__ import annotations

import asyncio
import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

KEY = "resend-api"


class RateLimited(Exception):
    """No request slot within the wait budget: retry the job after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"resend rate limit: retry in {retry_after:.1f}s")
        self.retry_after = retry_after


def rate_item(per_second: float) -> RateLimitItem:
    """2.0 → 2 per 1 s; 0.5 → 1 per 2 s (limits counts whole requests)."""
    if per_second >= 1:
        return RateLimitItemPerSecond(int(per_second), 1)
    return RateLimitItemPerSecond(1, math.ceil(1 / per_second))


def storage_uri(redis_url: str) -> str:
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url.removeprefix("unix://")
    return "async+" + redis_url


class SharedRateLimiter:
    def __init__(self, redis_url: str, per_second: float) -> None:
        self.storage = RedisStorage(storage_uri(redis_url), implementation="redispy",
                                    key_prefix="orderpass:ratelimit", socket_timeout=2)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.item = rate_item(per_second)

    async def acquire(self, max_wait_s: float = 5.0) -> None:
        """Take one request slot, waiting up to `max_wait_s` for the window to move."""
        deadline = time.monotonic() + max_wait_s
        while True:
            if await self.limiter.hit(self.item, KEY):
                return
            stats = await self.limiter.get_window_stats(self.item, KEY)
            wait = max(0.05, stats.reset_time - time.time())
            if time.monotonic() + wait > deadline:
                raise RateLimited(wait)
            await asyncio.sleep(min(wait, 1.0))


_limiters: dict[tuple[str, float, int], SharedRateLimiter] = {}


def shared_limiter(redis_url: str, per_second: float) -> SharedRateLimiter:
    """One limiter per process and event loop (its connection pool belongs to the loop)."""
    key = (redis_url, per_second, id(asyncio.get_running_loop()))
    if key not in _limiters:
        _limiters[key] = SharedRateLimiter(redis_url, per_second)
    return _limiters[key]
