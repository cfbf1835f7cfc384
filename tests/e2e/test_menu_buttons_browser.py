"""The menu's buttons in a real browser: Add, +, - and Remove log no console error (they
inherited the form's `hx-disabled-elt="find .primary-action"`, which htmx then looked for
inside the tapped button: "returned no matches"), and "Place order and pay" is disabled while
the order is on its way."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers.browser import hold_requests
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser


async def test_basket_buttons_log_no_error_and_place_order_waits(
        browser: Any, web: RunningProcess) -> None:
    errors: list[str] = []
    page = await (await browser.new_context()).new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    await page.goto(f"{web.url}/r/demo")
    place_order = page.locator("button.primary-action")

    await page.click("#menu-item-3 .add-button")  # Margherita pizza
    await page.wait_for_selector("#qty-3[value='1']")
    await page.click("#inc-3")
    await page.wait_for_selector("#qty-3[value='2']")
    await page.click("#dec-3")
    await page.wait_for_selector("#qty-3[value='1']")
    await page.click("#menu-item-1 .add-button")
    await page.wait_for_selector("#qty-1[value='1']")
    await page.click("#remove-1")
    await page.wait_for_selector("#menu-item-1 .add-button")
    assert errors == []
    assert await place_order.is_enabled()

    # The order is held on its way: its button stays disabled until the answer comes.
    held = await hold_requests(page, "**/r/demo/checkout")
    await page.fill("#name", "Grace Hopper")
    await page.fill("#email", "grace@example.com")
    await place_order.click()
    await held.first_sent()
    assert await place_order.is_disabled()
    held.release()
    await page.wait_for_url(re.compile(r".*/orders/TEMP-[A-Za-z0-9]+$"))
    assert errors == []


async def test_on_a_phone_the_basket_buttons_keep_the_diner_where_they_were(
        browser: Any, web: RunningProcess) -> None:
    """Each basket change swaps the whole form; Chrome's scroll anchoring moved a phone's
    page down by the form's height (1,130 → 2,670 px at 390 wide): the diner tapped "+" on
    a dish and landed at the bottom of the checkout."""
    context = await browser.new_context(viewport={"width": 390, "height": 844},
                                        has_touch=True, is_mobile=True)
    page = await context.new_page()
    await page.goto(f"{web.url}/r/demo")
    dish = await page.evaluate("""() => [...document.querySelectorAll('.menu-item')]
        .filter(item => item.querySelector('.add-button[value^="add:"]')).pop().id""")
    item = dish.rsplit("-", 1)[1]
    await page.locator(f"#add-{item}").scroll_into_view_if_needed()

    async def settled(quantity: str, focus: str) -> None:
        """The answer is in and has settled: the focus is put back last of all."""
        await page.wait_for_selector(f"#qty-{item}[value='{quantity}']")
        await page.wait_for_function("id => document.activeElement.id === id", arg=focus)

    await page.tap(f"#add-{item}")
    await settled("1", f"inc-{item}")
    for button, quantity in ((f"#inc-{item}", "2"), (f"#inc-{item}", "3"),
                             (f"#dec-{item}", "2")):
        before = await page.evaluate("window.scrollY")
        await page.tap(button)
        await settled(quantity, button[1:])
        assert abs(await page.evaluate("window.scrollY") - before) <= 2, (button, before)
    await context.close()
