"""A pickup-only restaurant in a real browser: the checkout offers no delivery (no choice of
mode, no address field, just "Pickup only"), and the order placed from it is a pickup order.
A restaurant taking two modes shows only those two."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.restaurants.tables import Restaurant
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser


async def _offer(*modes: str) -> None:
    await Restaurant.update({Restaurant.fulfillment_modes: list(modes)}).where(
        Restaurant.slug == "demo")


async def test_a_pickup_only_checkout_has_no_delivery(browser: Any,
                                                      web: RunningProcess) -> None:
    await _offer("pickup")
    page = await (await browser.new_context()).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{web.url}/r/demo")
    await page.locator(".menu-item", has_text="Margherita pizza").first.locator(
        ".add-button").click()
    await page.locator(".cart-line").first.wait_for(state="attached")
    await page.wait_for_load_state("networkidle")
    checkout = page.locator("#checkout")
    assert await checkout.locator("input[type=radio][name=fulfillment]").count() == 0
    assert await page.locator("#delivery_address").count() == 0
    assert await page.locator("#table").count() == 0
    assert "delivery" not in (await checkout.inner_text()).lower()
    assert (await page.inner_text("#fulfillment-only")).strip() == "Pickup only"

    await page.fill("#name", "Grace Hopper")
    await page.fill("#email", "grace@example.com")
    await page.click("button.primary-action")
    await page.wait_for_url(re.compile(r".*/orders/TEMP-[A-Za-z0-9]+$"))
    ref = page.url.rsplit("/", 1)[1]
    assert httpx.get(f"{web.url}/api/orders/{ref}").json()["fulfillment"] == "pickup"

    await _offer("pickup", "dine_in")
    await page.goto(f"{web.url}/r/demo")
    radios = page.locator("input[type=radio][name=fulfillment]")
    assert [await radios.nth(index).get_attribute("value")
            for index in range(await radios.count())] == ["pickup", "dine_in"]
    await page.check("#fulfillment-dine_in")
    assert await page.locator("#table").is_visible()
    assert errors == []
