"""A diner's status page that stops hearing from the server catches up by itself (real
Chromium, real `orderpass web`, a proxy that freezes the page's connection without closing
it, as a phone's Wi-Fi going quiet does): within a few heartbeats it reconnects and shows
where the order is now, where it used to wait for news that never came."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from redis.asyncio import Redis

from app.live.feed import publish_order_event
from app.orders.tables import PaidOrder
from tests.helpers.freezing_proxy import FreezingProxy
from tests.helpers.orders import make_paid_order
from tests.helpers.server import FAST_HEARTBEAT_S, RunningProcess

pytestmark = pytest.mark.browser



async def test_a_frozen_status_page_reconnects_and_shows_the_order_as_it_is(
        browser: Any, own_web: RunningProcess) -> None:
    order = await make_paid_order(items=[("Burrata", 1150, 1, "")])
    with FreezingProxy(own_web.port or 0).running() as proxy:
        context = await browser.new_context(base_url=proxy.url)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # the page shows "paid" from its first render, before its stream is open: freezing
        # then would find no stream to freeze (CI did once), so wait for the stream's answer
        await page.add_init_script(
            "document.addEventListener('htmx:sseOpen', () => { window.streamOpened = true; })")
        await page.goto(f"/orders/{order.public_id}")
        await page.wait_for_selector("#order-progress.status-paid", timeout=10_000)
        await page.wait_for_function("() => window.streamOpened === true", timeout=10_000)
        assert await page.evaluate("document.body.dataset.liveReconnects") is None

        # the page's stream hears nothing from now on, and nothing breaks
        assert proxy.freeze(f"/orders/{order.public_id}/events") == 1
        await PaidOrder.update({PaidOrder.status: "accepted"}).where(
            PaidOrder.id == order.id)
        redis = Redis.from_url(os.environ["REDIS_URL"])
        try:
            await publish_order_event(redis, order.restaurant, order.public_id,
                                      "order.accepted")
        finally:
            await redis.aclose()
        frozen = time.monotonic()
        await page.wait_for_selector("body[data-live-reconnects='1']", state="attached",
                                     timeout=10_000)
        await page.wait_for_selector("#order-progress.status-accepted", timeout=10_000)
        caught_up_s = time.monotonic() - frozen
        # 2.5 silent heartbeats, the 1 s check, a new connection and the progress fetch
        assert caught_up_s < FAST_HEARTBEAT_S * 2.5 + 4, caught_up_s
        assert errors == []
        await context.close()
