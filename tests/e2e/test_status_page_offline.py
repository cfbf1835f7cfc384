"""A diner's status page that loses its live updates says so, and says when it is up to date
again (an outside try: a phone offline for 30 s kept showing "waiting for the kitchen" while
the order was being cooked, with nothing to say the page had stopped updating). Real
Chromium, a real `orderpass web`, the stream cut in the browser as a phone's signal drops."""

from __future__ import annotations

from typing import Any

import pytest
from arq.connections import ArqRedis

from app.orders import lifecycle
from tests.helpers.browser import hold_requests
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# What a dropped connection does to the page: the stream closes with an error; the sse
# extension then retries (as live-watch.js closes a stream that went silent).
DROP = """() => {
  const source = htmx.find(".live-region")["htmx-internal-data"].sseEventSource;
  source.close();
  source.onerror(new Event("error"));
}"""



async def open_on_a_phone(browser: Any, web: RunningProcess, public_id: str
                          ) -> tuple[Any, Any, list[str]]:
    context = await browser.new_context(base_url=web.url, **PHONE)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"/orders/{public_id}")
    await page.wait_for_load_state("networkidle")
    return context, page, errors


async def refuse(route: Any) -> None:
    await route.abort("internetdisconnected")


async def test_the_status_page_says__it_is_not_updating_and_when_it_is_again(
        browser: Any, web: RunningProcess, redis: ArqRedis) -> None:
    order = await make_paid_order()
    context, page, errors = await open_on_a_phone(browser, web, order.public_id)
    notice = page.locator("#live-offline")
    assert await notice.is_hidden()

    feed = f"**/orders/{order.public_id}/events"
    await page.route(feed, refuse)
    await page.evaluate(DROP)
    await notice.wait_for(state="visible", timeout=5_000)
    assert await notice.inner_text() == ("No connection: this page is not updating. "
                                         "Reconnecting…")
    assert await notice.get_attribute("role") == "status"
    # the kitchen accepts meanwhile: the page cannot hear it
    await lifecycle.apply_action(order.public_id, "accept", actor="kitchen@demo.test",
                                 prep_minutes=20, redis=redis)
    await page.wait_for_timeout(1000)
    assert await page.locator("#order-progress .eta").count() == 0  # no "Ready around" yet

    await page.unroute(feed, refuse)
    await page.wait_for_function(
        "() => document.getElementById('live-offline').classList.contains('is-back')",
        timeout=20_000)
    assert await notice.inner_text() == "Back online: this page is up to date."
    await page.locator("#order-progress .eta").wait_for(timeout=5_000)  # the accept, read
    await page.wait_for_function(
        "() => document.getElementById('live-offline').hidden", timeout=10_000)
    assert errors == []
    await context.close()


async def test_up_to_date_is_said_only_once_the_order_has_been_read_again(
        browser: Any, web: RunningProcess, redis: ArqRedis) -> None:
    """The stream coming back is not the page being up to date: the order is read again
    first (a slow phone network, a server still catching up). Until it is, the notice keeps
    saying the page is not updating; "up to date" comes with the kitchen's accept."""
    order = await make_paid_order()
    context, page, errors = await open_on_a_phone(browser, web, order.public_id)
    notice = page.locator("#live-offline")
    feed = f"**/orders/{order.public_id}/events"
    await page.route(feed, refuse)
    await page.evaluate(DROP)
    await notice.wait_for(state="visible", timeout=5_000)
    await lifecycle.apply_action(order.public_id, "accept", actor="kitchen@demo.test",
                                 prep_minutes=20, redis=redis)
    reads = await hold_requests(page, f"**/orders/{order.public_id}/progress*")
    await page.unroute(feed, refuse)
    await reads.first_sent(timeout=20)  # the stream is back and the order is being read
    await page.wait_for_timeout(500)
    assert await notice.inner_text() == ("No connection: this page is not updating. "
                                         "Reconnecting…")
    assert await page.locator("#order-progress .eta").count() == 0
    reads.release()
    await page.wait_for_function(
        "() => document.getElementById('live-offline').classList.contains('is-back')",
        timeout=10_000)
    assert await page.locator("#order-progress .eta").count() == 1  # read with the words
    assert errors == []
    await context.close()


async def test_a_phone_back_online_whose_stream_held_is_told_it_is_up_to_date(
        browser: Any, web: RunningProcess, redis: ArqRedis) -> None:
    """The phone's network went away and came back, but the stream itself never broke (an
    outside try: the notice "not updating" stayed for good while the page updated under
    it). Back online, the order is read again and the notice says so."""
    order = await make_paid_order()
    context, page, errors = await open_on_a_phone(browser, web, order.public_id)
    notice = page.locator("#live-offline")
    await context.set_offline(True)
    await notice.wait_for(state="visible", timeout=5_000)
    await lifecycle.apply_action(order.public_id, "accept", actor="kitchen@demo.test",
                                 prep_minutes=20, redis=redis)
    await context.set_offline(False)
    await page.wait_for_function(
        "() => document.getElementById('live-offline').classList.contains('is-back')",
        timeout=10_000)
    assert await notice.inner_text() == "Back online: this page is up to date."
    assert await page.locator("#order-progress .eta").count() == 1
    await page.wait_for_function(
        "() => document.getElementById('live-offline').hidden", timeout=10_000)
    assert errors == []
    await context.close()
