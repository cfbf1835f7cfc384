"""The menu's buttons in a real browser: Add, +, - and Remove log no console error (they
inherited the form's `hx-disabled-elt="find .primary-action"`, which htmx then looked for
inside the tapped button: "returned no matches"), and "Place order and pay" is disabled while
the order is on its way."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

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
    sent, answer = asyncio.Event(), asyncio.Event()

    async def hold(route: Any) -> None:
        sent.set()
        await answer.wait()
        await route.continue_()

    await page.route("**/r/demo/checkout", hold)
    await page.fill("#name", "Grace Hopper")
    await page.fill("#email", "grace@example.com")
    await place_order.click()
    await asyncio.wait_for(sent.wait(), 10)
    assert await place_order.is_disabled()
    answer.set()
    await page.wait_for_url(re.compile(r".*/orders/TEMP-[A-Za-z0-9]+$"))
    assert errors == []
