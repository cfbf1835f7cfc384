"""A diner tapping faster than the basket answers loses no tap. Each tap re-renders the
whole order form from the fields it was sent with, so two taps in flight at once were each
answered from the state before the other: the later answer wiped the earlier tap (a "+" on
the pizza, then "Add" on the soup before the pizza's answer came back, left one pizza). A
slow connection makes that every diner's case, so the basket's answers are slowed here."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import msgspec
import pytest
from arq.connections import ArqRedis

from app.orders.models import TempOrder
from tests.helpers.orders import temp_keys
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
SLOW_S = 0.4  # a phone on a busy mobile network


async def _slow_phone(browser: Any, web: RunningProcess) -> Any:
    context = await browser.new_context(base_url=web.url, **PHONE)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors

    async def slowly(route: Any) -> None:
        await asyncio.sleep(SLOW_S)
        await route.continue_()
    await page.route("**/r/demo/cart", slowly)
    return page


async def _settled(page: Any) -> None:
    """No basket request in flight or waiting."""
    await page.wait_for_function(
        "() => !document.querySelector('#order-form[aria-busy=true]')",
        timeout=10_000)
    await page.wait_for_timeout(2 * SLOW_S * 1000)  # nothing more arrives
    await page.wait_for_function(
        "() => !document.querySelector('#order-form[aria-busy=true]')",
        timeout=10_000)


# At each answer's settle: whether the new form said "busy", and whether a tap that had
# waited for it was sent then. A capturing listener on the document hears the settle
# before the page's own (on the body) sends the waiting tap; one on the window after.
_BUSY_AT_EACH_SETTLE = """() => {
  window.settles = [];
  let sent = false;
  document.addEventListener("htmx:beforeRequest", () => { sent = true; }, true);
  document.addEventListener("htmx:afterSettle", () => {
    sent = false;
    window.settles.push([document.getElementById("order-form").getAttribute("aria-busy")]);
  }, true);
  window.addEventListener("htmx:afterSettle", () => window.settles.at(-1).push(sent));
}"""


async def _one_pizza_in_the_basket(page: Any) -> None:
    await page.goto("/r/demo")
    await page.locator("#add-1").tap()
    await page.wait_for_selector("#inc-1")
    await _settled(page)


async def _quantity(page: Any, item: int) -> str:
    field = page.locator(f"#qty-{item}")
    return await field.input_value() if await field.count() else "0"


async def test_taps_on_two_dishes_before_the_first_answer_both_count(
        browser: Any, web: RunningProcess) -> None:
    page = await _slow_phone(browser, web)
    await _one_pizza_in_the_basket(page)
    await page.locator("#inc-1").tap()  # 2 pizzas, its answer on its way …
    await page.locator("#add-3").tap()  # … when the soup goes in
    await _settled(page)
    assert (await _quantity(page, 1), await _quantity(page, 3)) == ("2", "1")
    assert "3 items" in await page.inner_text("#basket-bar")
    assert page.errors == []


async def test_three_quick_taps_on_plus_make_three_more(
        browser: Any, web: RunningProcess) -> None:
    page = await _slow_phone(browser, web)
    await _one_pizza_in_the_basket(page)
    await page.evaluate(_BUSY_AT_EACH_SETTLE)
    for _ in range(3):
        await page.locator("#inc-1").tap()
    await _settled(page)
    assert await _quantity(page, 1) == "4"
    # each new form said it was busy while a tap waited for it; the last one is not busy
    settles = await page.evaluate("window.settles")
    assert all(busy == "true" for busy, sent in settles if sent), settles
    assert settles[-1] == [None, False]
    assert await page.evaluate("document.activeElement.id") == "inc-1"
    assert page.errors == []


async def test_place_order_tapped_before_the_last_plus_answered_orders_what_was_tapped(
        browser: Any, web: RunningProcess, redis: ArqRedis) -> None:
    page = await _slow_phone(browser, web)
    await _one_pizza_in_the_basket(page)
    await page.fill("#name", "Katherine Johnson")
    await page.fill("#email", "katherine@example.com")
    await page.locator("#inc-1").tap()
    await page.locator("button.primary-action").tap()
    await page.locator("button.primary-action").tap()  # impatient: the same order
    await page.wait_for_url(re.compile(r".*/orders/TEMP-\w+$"), timeout=15_000)
    placed = []
    for key in await temp_keys(redis):
        order = msgspec.json.decode(await redis.get(key), type=TempOrder)
        if order.customer.email == "katherine@example.com":
            placed.append(order)
    assert [[line.quantity for line in order.lines] for order in placed] == [[2]]
    assert page.errors == []


async def test_a_tap_lost_on_the_network_does_not_hold_up_the_next(
        browser: Any, web: RunningProcess) -> None:
    """A tap's answer never comes (no network for a moment) while the kitchen's 86 refreshed
    the form meanwhile: htmx tells that failure only to the swapped-out button, which no
    listener hears. The basket is not left waiting for it: the next tap goes through."""
    page = await _slow_phone(browser, web)
    await _one_pizza_in_the_basket(page)
    lost: list[str] = []

    async def first_lost(route: Any) -> None:
        if not lost:
            lost.append(route.request.url)
            await asyncio.sleep(3 * SLOW_S)
            await route.abort("internetdisconnected")
        else:
            await route.continue_()
    await page.unroute("**/r/demo/cart")
    await page.route("**/r/demo/cart", first_lost)
    await page.locator("#inc-1").tap()  # lost
    await page.evaluate("htmx.trigger('#menu-refresh', 'refresh')")  # as a menu event does
    await page.wait_for_timeout(6 * SLOW_S * 1000)  # the refresh swapped, the tap was lost
    assert lost
    await page.locator("#add-3").tap()
    await _settled(page)
    assert (await _quantity(page, 1), await _quantity(page, 3)) == ("1", "1")
    assert await page.locator("#order-form[aria-busy=true]").count() == 0
    assert page.errors == []
