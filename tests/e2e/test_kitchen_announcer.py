"""A screen reader hears the kitchen's news once: a paid order arriving live ("New order #46:
3 items, pickup") and a new notice (a refund: stop cooking), through one polite live region
outside the board; not the board the page opened with, and not again when a frame about
another ticket redraws the board (the notices' alerts were read out at every frame, new
orders not at all: an outside try with a screen reader). Real Chromium, a real `orderpass
web`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from app.live.feed import publish_order_event
from app.orders import lifecycle
from app.orders.tables import PaidOrder
from tests.helpers.browser import open_kitchen
from tests.helpers.orders import announce_paid, make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
# Every text the live region is given, as a screen reader is told it.
LISTEN = """() => {
  window.said = [];
  const region = document.getElementById('announcer');
  new MutationObserver(() => window.said.push(region.textContent))
    .observe(region, {childList: true, characterData: true, subtree: true});
}"""


async def tell_screens(order: PaidOrder, event: str) -> None:
    redis = Redis.from_url(os.environ["REDIS_URL"])
    try:
        await publish_order_event(redis, order.restaurant, order.public_id, event)
    finally:
        await redis.aclose()


async def test_a_new_order_and_a_refund_notice_are_said_once(
        browser: Any, web: RunningProcess) -> None:
    first = await make_paid_order()
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.click("#start-service-button")
    region = kitchen.locator("#announcer")
    assert (await region.get_attribute("aria-live"), await region.get_attribute("role")) == (
        "polite", "status")
    assert await kitchen.locator("#board #announcer").count() == 0  # no swap replaces it
    await kitchen.evaluate(LISTEN)
    await kitchen.locator(f"#card-{first.public_id}").wait_for()
    await kitchen.wait_for_timeout(1000)  # the board the stream sends on connect
    assert await kitchen.evaluate("window.said") == []  # the first board is no news

    newcomer = await make_paid_order(fulfillment="delivery", delivery_address="Torstraße 1",
                                     allergy="peanuts")
    await announce_paid(newcomer)
    await kitchen.locator(f"#card-{newcomer.public_id}").wait_for(timeout=10_000)
    await kitchen.wait_for_function("() => window.said.length > 0", timeout=5_000)
    assert await kitchen.evaluate("window.said") == [
        f"New order #{newcomer.ticket_number}: 3 items, delivery, allergy"]

    # Another ticket changes: a frame redraws the board, nothing new is said.
    await lifecycle.apply_action(first.public_id, "accept", actor="kitchen@demo.test",
                                 prep_minutes=10)
    await kitchen.wait_for_selector(f"#card-{first.public_id}[data-status=accepted]",
                                    timeout=10_000)
    await kitchen.wait_for_timeout(500)
    assert len(await kitchen.evaluate("window.said")) == 1

    # The restaurant refunds the accepted ticket in full: its notice is said, once.
    now = datetime.now(UTC)
    await PaidOrder.update({PaidOrder.status: "refunded", PaidOrder.refund_notice: True,
                            PaidOrder.refunded_at: now, PaidOrder.amount_refunded:
                            first.total_amount}).where(PaidOrder.id == first.id)
    await tell_screens(first, "order.refunded")
    await kitchen.wait_for_function("() => window.said.length > 1", timeout=10_000)
    said = (await kitchen.evaluate("window.said"))[1]
    assert said.startswith(f"#{first.ticket_number} refunded by the restaurant"), said
    assert "stop preparing it" in said, said
    await lifecycle.apply_action(newcomer.public_id, "accept", actor="kitchen@demo.test",
                                 prep_minutes=10)
    await kitchen.wait_for_selector(f"#card-{newcomer.public_id}[data-status=accepted]",
                                    timeout=10_000)
    await kitchen.wait_for_timeout(500)
    assert len(await kitchen.evaluate("window.said")) == 2
    # the notices panel is no live region of its own: its alerts were read at every frame
    assert await kitchen.locator(".notices[aria-live], .notices [role=alert]").count() == 0
    assert errors == []
