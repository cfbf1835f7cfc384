""""Place order and pay" refused without a form to show (an outside try: 429, too many
orders from one network, as a venue's shared Wi-Fi can be; a 503 in an outage; no network)
left the page as it was: the diner tapped and nothing happened. The form now says why, in
the diner's language, and the diner can try again. The 429 is the server's own: the
address's budget of order submissions is used up first, as the outside try did."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.settings import get_settings
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


async def _basket(page: Any) -> None:
    await page.goto("/r/demo")
    await page.locator("#add-1").tap()
    await page.wait_for_selector("#qty-1[value='1']")
    await page.fill("#name", "Ada Lovelace")
    await page.fill("#email", "ada@example.com")


async def _problem(page: Any) -> str:
    problem = page.locator("#form-problem")
    await problem.wait_for(state="visible", timeout=10_000)
    assert await page.evaluate("() => document.activeElement.id") == "form-problem"
    return str(await problem.inner_text())


async def test_too_many_orders_from_one_network_is_said_not_swallowed(
        browser: Any, web: RunningProcess) -> None:
    context = await browser.new_context(base_url=web.url, **PHONE)
    page = await context.new_page()
    await _basket(page)
    async with httpx.AsyncClient(base_url=web.url) as others:  # the same address's budget
        for _ in range(get_settings().order_rate_limit_per_minute):
            await others.post("/api/orders", json={})
    assert (await others_refused(web)) == 429
    await page.locator("button.primary-action").tap()
    assert "Too many orders were sent from this network" in await _problem(page)
    assert "/orders/" not in page.url
    # the button can be pressed again (not left "sending")
    assert await page.locator("button.primary-action").is_enabled()


async def others_refused(web: RunningProcess) -> int:
    async with httpx.AsyncClient(base_url=web.url) as client:
        return (await client.post("/api/orders", json={})).status_code


async def test_no_connection_is_said_in_the_diners_language(
        browser: Any, web: RunningProcess) -> None:
    context = await browser.new_context(base_url=web.url, locale="de-DE", **PHONE)
    page = await context.new_page()
    await _basket(page)
    await page.route("**/r/demo/checkout", lambda route: route.abort("internetdisconnected"))
    await page.locator("button.primary-action").tap()
    assert "Es besteht keine Verbindung" in await _problem(page)
    await page.unroute("**/r/demo/checkout")
    await page.locator("button.primary-action").tap()  # back online: the order goes
    await page.wait_for_url("**/orders/TEMP-*", timeout=15_000)


async def test_an_expired_page_says_to_reload_it_not_to_try_again(
        browser: Any, web: RunningProcess) -> None:
    """An outside try cleared the cookies (a tab restored after its session ended does the
    same): every press got the server's 403 and the words "please try again", which could
    never work."""
    context = await browser.new_context(base_url=web.url, **PHONE)
    page = await context.new_page()
    await _basket(page)
    await context.clear_cookies()
    await page.locator("button.primary-action").tap()
    said = await _problem(page)
    assert said == "This page has expired. Please reload it and place your order again."
    await page.reload()  # a fresh page (and token), the basket kept: the order goes
    await page.wait_for_selector("#qty-1[value='1']")
    await page.fill("#name", "Ada Lovelace")
    await page.fill("#email", "ada@example.com")
    await page.locator("button.primary-action").tap()
    await page.wait_for_url("**/orders/TEMP-*", timeout=15_000)


async def test_a_slow_answer_is_said_while_the_diner_waits(
        browser: Any, web: RunningProcess) -> None:
    """A slow payment provider: the diner looked at a grey button for 17 s without a word."""
    import asyncio

    context = await browser.new_context(base_url=web.url, locale="de-DE", **PHONE)
    page = await context.new_page()
    await _basket(page)

    async def late(route: Any) -> None:
        await asyncio.sleep(6)
        await route.continue_()

    await page.route("**/r/demo/checkout", late)
    await page.locator("button.primary-action").tap()
    still = page.locator("#form-progress[role=status]")
    await still.wait_for(state="visible", timeout=5_500)
    assert "Ihre Zahlung wird noch vorbereitet" in await still.inner_text()
    assert await page.evaluate("() => document.activeElement.id") != "form-progress"
    await page.wait_for_url("**/orders/TEMP-*", timeout=20_000)
