"""The Redis-shared Resend rate limit and the funnel counter helper."""

from __future__ import annotations

import time

import pytest
from arq.connections import ArqRedis

from app.infra.urls import redis_url
from app.notifications.ratelimit import RateLimited, SharedRateLimiter
from app.platform import funnel
from app.platform.tables import FunnelDaily


async def test_two_processes_share_two_requests_per_second(redis: ArqRedis) -> None:
    # Two limiters stand for two worker processes: the budget is shared through Redis.
    one, two = SharedRateLimiter(redis_url(), 2.0), SharedRateLimiter(redis_url(), 2.0)
    started = time.monotonic()
    await one.acquire()
    await two.acquire()
    with pytest.raises(RateLimited) as raised:
        await one.acquire(max_wait_s=0.0)
    assert 0 < raised.value.retry_after <= 1.0
    await two.acquire(max_wait_s=2.0)  # waits for the window to move
    assert time.monotonic() - started >= 0.5


async def test_bump_adds_up_per_restaurant_and_day(redis: ArqRedis) -> None:
    await funnel.bump(1, "email_sent")
    await funnel.bump(1, "email_sent", 2)
    await funnel.bump(1, "paid")
    rows = await FunnelDaily.select()
    assert len(rows) == 1
    assert (rows[0]["email_sent"], rows[0]["paid"], rows[0]["submitted"]) == (3, 1, 0)
    with pytest.raises(ValueError):
        await funnel.bump(1, "email_sent; DROP TABLE funnel_daily")
