"""A diner's basket survives a reload (a phone's pull-to-refresh, a tab the browser put to
sleep) with what they typed and chose, and is gone once the order is placed; another tab
starts empty."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser


async def test_the_basket_survives_a_reload_until_the_order_is_placed(
        browser: Any, web: RunningProcess) -> None:
    errors: list[str] = []
    context = await browser.new_context()
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{web.url}/r/demo")
    await page.click("#menu-item-3 .add-button")
    await page.wait_for_selector("#qty-3[value='1']")
    await page.click("#inc-3")
    await page.wait_for_selector("#qty-3[value='2']")
    await page.click("#menu-item-1 .add-button")
    await page.wait_for_selector("#qty-1[value='1']")
    await page.fill("#name", "Grace Hopper")
    await page.fill("#email", "grace@example.com")
    await page.fill("#notes", "extra napkins")
    await page.check("#tip-10")
    await page.wait_for_selector("#order-form [data-testid=tip]")
    total = await page.inner_text("button.primary-action")

    await page.reload()
    await page.wait_for_selector("#qty-3[value='2']", timeout=10_000)
    await page.wait_for_selector("#qty-1[value='1']")
    assert await page.input_value("#name") == "Grace Hopper"
    assert await page.input_value("#email") == "grace@example.com"
    assert await page.input_value("#notes") == "extra napkins"
    assert await page.is_checked("#tip-10")
    assert await page.inner_text("button.primary-action") == total

    other = await (await browser.new_context()).new_page()  # another diner, another tab
    await other.goto(f"{web.url}/r/demo")
    await other.wait_for_load_state("networkidle")
    assert await other.locator(".cart-line").count() == 0

    await page.click("button.primary-action")
    await page.wait_for_url(re.compile(r".*/orders/TEMP-[A-Za-z0-9]+$"))
    await page.goto(f"{web.url}/r/demo")  # placed: the next visit starts a new basket
    await page.wait_for_load_state("networkidle")
    assert await page.locator(".cart-line").count() == 0
    assert await page.input_value("#name") == ""
    assert errors == []
