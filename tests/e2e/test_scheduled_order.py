"""A diner at a closed restaurant, in a real browser: the menu says when it opens, the diner
chooses a time, pays on the (sandbox) Stripe page and reads "Pickup at …"; the kitchen screen
lists the order under "Scheduled" and, at its slot minus prep (the release sweep run with
that clock, as the worker's cron runs it), the ticket moves onto the board and the diner's
page from "booked" to "waiting for the kitchen to accept", both without a reload."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from app import outbox_consumers
from app.orders.release import release_due
from tests.helpers.browser import open_kitchen
from tests.helpers.hours import BERLIN, close_now
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PREP = 15  # the demo bistro's default prep minutes


async def test_closed_restaurant_scheduled_order_reaches_the_board_at_release(
        browser: Any, web: RunningProcess, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    outbox_consumers.load()
    opening = await close_now("demo")
    clock = f"{opening.astimezone(BERLIN):%H:%M}"
    async with httpx.AsyncClient(base_url=web.url) as api:
        items = {item["name"]: item["id"]
                 for item in (await api.get("/api/restaurants/demo/menu")).json()["items"]}
    tiramisu = items["Tiramisu"]
    errors: list[str] = []

    kitchen = await open_kitchen(browser, web.url, errors)

    customer = await (await browser.new_context()).new_page()
    customer.on("pageerror", lambda error: errors.append(str(error)))
    await customer.goto(f"{web.url}/r/demo")
    notice = await customer.inner_text("#closed-notice")
    assert re.match(rf"Opens (today|tomorrow) at {clock}\.", notice), notice
    await customer.click(f"#menu-item-{tiramisu} .add-button")
    await customer.wait_for_selector(f"#qty-{tiramisu}")
    await customer.fill("#name", "Grace Hopper")
    await customer.fill("#email", "grace@example.com")
    await customer.select_option("#scheduled_for", opening.isoformat())
    await customer.click("button.primary-action")
    await customer.wait_for_url(re.compile(r".*/orders/TEMP-[A-Za-z0-9]+$"))
    ref = customer.url.rsplit("/", 1)[1]
    assert f"Pickup at {clock}" in await customer.inner_text("#scheduled-for")

    await customer.locator("a.pay-button").click()
    await customer.wait_for_url(re.compile(r".*/pay/cs_test_.*"))
    await customer.click("button[value=succeeded]")
    await customer.wait_for_selector("#order-progress[data-status=paid]", timeout=15_000)
    assert f"Pickup at {clock}" in await customer.inner_text("#scheduled-for")
    assert "your order is booked" in await customer.inner_text("#order-progress h2")

    # Paid: listed under "Scheduled", live, and not a ticket yet.
    await kitchen.locator(f"[data-scheduled='{ref}']").wait_for(timeout=15_000)
    assert clock in await kitchen.inner_text(f"[data-scheduled='{ref}']")
    assert await kitchen.locator(f"#card-{ref}").count() == 0

    # Its time comes: the ticket reaches the open screen without a reload.
    assert await release_due(redis, now=opening - timedelta(minutes=PREP)) == [ref]
    card = kitchen.locator(f"#card-{ref}")
    await card.wait_for(timeout=15_000)
    assert f"for {clock}" in await card.inner_text()
    await kitchen.locator(f"[data-scheduled='{ref}']").wait_for(state="detached",
                                                               timeout=15_000)
    # ... and the diner's open status page, booked until then, hears of it too: the kitchen
    # is to accept it now (no reload; the release's own frame on the order's stream).
    await customer.locator("#order-progress h2", has_text="waiting for the kitchen to accept"
                           ).wait_for(timeout=15_000)
    assert await customer.locator("#booked-note").count() == 0
    assert errors == []
