"""A Redis failover behind a proxy keeps the web process's connections up but drops its
pub/sub subscription: no read fails, and kitchen screens stayed "Live" while hearing
nothing. The live feed checks itself end to end (`app.live.feed`, CHECK_EVERY_S): the
lost subscription is noticed, renewed, and every open screen sent a fresh snapshot."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from redis.asyncio import Redis

from app.live.feed import CHECK_EVERY_S, CHECK_TIMEOUT_S, publish_order_event
from tests.helpers.failover_proxy import FailoverProxy
from tests.helpers.orders import make_paid_order
from tests.helpers.server import start_web
from tests.helpers.sse import Event, events, logged_in

pytestmark = pytest.mark.timeout(90)

# From the failover to the screen showing an order paid just after it: the check's period
# and timeout, the resubscription, and the snapshot's render.
NOTICED_WITHIN_S = CHECK_EVERY_S + CHECK_TIMEOUT_S + 4


@pytest.fixture
async def plain_redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(os.environ["REDIS_URL"])
    yield client
    await client.aclose()


async def _until(stream: AsyncIterator[Event], text: str, seconds: float) -> Event:
    """The first event carrying `text` within `seconds` (pings in between are skipped)."""
    async with asyncio.timeout(seconds):
        while True:
            event = await anext(stream)
            if text in event.data:
                return event


async def test_a_subscription_lost_in_a_failover_is_noticed_and_the_screen_catches_up(
        plain_redis: Redis) -> None:
    redis_url = urlsplit(os.environ["REDIS_URL"])
    assert redis_url.port is not None
    with FailoverProxy(redis_url.port).running() as proxy, start_web(env={
            "REDIS_URL": redis_url._replace(netloc=f"127.0.0.1:{proxy.port}").geturl(),
            "SSE_HEARTBEAT_SECONDS": "1"}) as web:
        client = await logged_in(web, "kitchen@demo.test")
        try:
            async with client.stream("GET", "/kitchen/demo/events") as response:
                stream = events(response).__aiter__()
                await _until(stream, "", 10)  # the board
                before = await make_paid_order()
                await publish_order_event(plain_redis, before.restaurant, before.public_id,
                                          "order.paid")
                await _until(stream, before.public_id, 5)  # the feed works through the proxy

                assert proxy.fail_over() >= 1
                moved = time.monotonic()
                missed = await make_paid_order()  # announced to nobody: the feed is cut
                await publish_order_event(plain_redis, missed.restaurant, missed.public_id,
                                          "order.paid")
                shown = await _until(stream, missed.public_id, NOTICED_WITHIN_S)
                print(f"screen caught up {time.monotonic() - moved:.1f}s after the failover")
                assert shown.event == "board"  # the fresh snapshot sent on resubscribing

                after = await make_paid_order()  # and the feed is live again
                await publish_order_event(plain_redis, after.restaurant, after.public_id,
                                          "order.paid")
                assert (await _until(stream, after.public_id, 3)).event == "tickets"
        finally:
            await client.aclose()
        ready = httpx.get(f"{web.url}/readyz", timeout=10).json()["checks"]["live_feed"]
        assert ready["ok"] and ready["checked_s_ago"] is not None, ready
        log = web.log_path.read_text()
        assert "live feed subscription lost" in log and "was not heard back" in log
        assert "live feed resubscribed" in log
