"""The kitchen screen in a real browser (Debian's chromium through Playwright): a newly
published order appears without reload, accept works, the keyboard advances a ticket."""

from __future__ import annotations

import os
from typing import Any

import pytest
from redis.asyncio import Redis

from app.kitchen.feed import publish_order_event
from app.orders.tables import PaidOrder
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess
from tests.integration.kitchen.conftest import PASSWORD

pytestmark = pytest.mark.browser




async def status_of(ref: str) -> str:
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None
    return order.status


async def wait_status(ref: str, status: str, timeout: float = 10) -> None:
    import asyncio

    for _ in range(int(timeout * 10)):
        if await status_of(ref) == status:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{ref} is {await status_of(ref)}, expected {status}")


async def test_new_order_appears_live_and_can_be_accepted(page: Any, web: RunningProcess) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{web.url}/kitchen/demo")
    assert "/login" in page.url  # anonymous: sent to log in first
    await page.fill("#email", "kitchen@demo.test")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{web.url}/kitchen/demo")
    await page.wait_for_selector("#connection.is-live", timeout=10_000)
    assert await page.locator(".order-card").count() == 0

    order = await make_paid_order(items=[("Burrata", 1150, 1, "extra peaches")])
    redis = Redis.from_url(os.environ["REDIS_URL"])
    try:
        await publish_order_event(redis, order.restaurant, order.public_id, "order.paid")
    finally:
        await redis.aclose()
    card = page.locator(f"#card-{order.public_id}")
    await card.wait_for(timeout=10_000)
    assert "extra peaches" in await card.inner_text()
    assert await page.locator("#alarm-ack").is_visible()  # a new order wants attention
    assert "is-new" in (await card.get_attribute("class") or "")
    age = await card.locator("[data-age]").inner_text()
    assert ":" in age  # the age timer ticks in JS

    await card.locator("input[name=prep_minutes]").fill("25")
    await card.locator("button:has-text('Accept')").click()
    await page.wait_for_selector(f"#card-{order.public_id}.status-accepted", timeout=10_000)
    await wait_status(order.public_id, "accepted")
    await page.wait_for_selector("#alarm-ack", state="hidden", timeout=5_000)

    # Bump bar: the (only, selected) ticket advances with Enter.
    await page.locator("body").click(position={"x": 5, "y": 5})
    await page.keyboard.press("Enter")
    await wait_status(order.public_id, "preparing")
    await page.wait_for_selector(f"#card-{order.public_id}.status-preparing", timeout=10_000)
    assert errors == []
