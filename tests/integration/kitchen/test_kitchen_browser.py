"""The kitchen screen in a real browser (Debian's chromium through Playwright): a newly
published order appears without reload, accept works, the keyboard advances a ticket."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from app.live.feed import publish_order_event
from app.orders.tables import PaidOrder
from tests.helpers.browser import A_LOOK_MS, submit_login
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

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
    await submit_login(page, "kitchen@demo.test")
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
    await page.wait_for_timeout(A_LOOK_MS)  # seen before pressed (it has just arrived)
    await card.locator("button:has-text('Accept')").click()
    await page.wait_for_selector(f"#card-{order.public_id}.status-accepted", timeout=10_000)
    await wait_status(order.public_id, "accepted")
    await page.wait_for_selector("#alarm-ack", state="hidden", timeout=5_000)

    # Bump bar: the (only, selected) ticket advances with Enter, once it has settled (a
    # ticket that has just changed takes no press for 0.8 s: a double tap's second press).
    await page.wait_for_timeout(900)
    await page.locator("body").click(position={"x": 5, "y": 5})
    await page.keyboard.press("Enter")
    await wait_status(order.public_id, "preparing")
    await page.wait_for_selector(f"#card-{order.public_id}.status-preparing", timeout=10_000)
    assert errors == []


async def burrata_all_day(page: Any) -> str:
    return str(await page.locator(".all-day li:has-text('Burrata') .count").inner_text()).strip()


async def test_changed_tickets_take_their_priority_place_and_leave_when_done(
        page: Any, web: RunningProcess) -> None:
    """`tickets` frames patch the board in place: each ticket lands where the priority rule
    puts it, a finished one disappears, and the all-day counts follow, all without reload."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    now = datetime.now(UTC)
    later = await make_paid_order(status="accepted", promised_at=now + timedelta(minutes=40),
                                  items=[("Burrata", 1150, 2, "")])
    await page.goto(f"{web.url}/login?next=/kitchen/demo")
    await submit_login(page, "kitchen@demo.test")
    await page.wait_for_selector("#connection.is-live", timeout=10_000)

    sooner = await make_paid_order(status="accepted", promised_at=now + timedelta(minutes=5),
                                   items=[("Burrata", 1150, 1, "")])
    middle = await make_paid_order(status="accepted", promised_at=now + timedelta(minutes=20),
                                   fulfillment="delivery", delivery_address="1 Main St")
    redis = Redis.from_url(os.environ["REDIS_URL"])
    try:
        for order in (sooner, middle):
            await publish_order_event(redis, order.restaurant, order.public_id, "order.paid")
        expected = [f"card-{o.public_id}" for o in (sooner, middle, later)]
        await page.wait_for_function(
            "ids => Array.from(document.querySelectorAll('.order-card')).map(c => c.id)"
            ".join() === ids.join()", arg=expected, timeout=10_000)
        assert await burrata_all_day(page) == "3"

        # The sooner ticket is finished elsewhere (another screen, the worker): it leaves.
        await PaidOrder.update({PaidOrder.status: "completed",
                                PaidOrder.completed_at: datetime.now(UTC)}).where(
            PaidOrder.public_id == sooner.public_id)
        await publish_order_event(redis, sooner.restaurant, sooner.public_id, "order.updated")
        await page.locator(f"#card-{sooner.public_id}").wait_for(state="detached",
                                                                timeout=10_000)
        assert await burrata_all_day(page) == "2"
        assert await page.locator("#recall-button").is_visible()  # a mistaken bump can be undone
    finally:
        await redis.aclose()
    assert await page.locator(".order-card").count() == 2
    assert errors == []
