"""After ordering, the phone's back button landed on the menu with an empty basket and no
word of the order waiting for payment. The menu says it and links to the order's status page,
for this browser only and at this restaurant only, until the order is paid."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
IN_VIEW = """el => { const r = el.getBoundingClientRect();
  return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }"""


async def _order(page: Any) -> str:
    await page.goto("/r/demo")
    await page.locator("#add-1").tap()
    await page.wait_for_selector("#qty-1[value='1']")
    await page.fill("#name", "Ada Lovelace")
    await page.fill("#email", "ada@example.com")
    button = page.locator("button.primary-action")
    await button.scroll_into_view_if_needed()
    await button.tap()
    await page.wait_for_url("**/orders/TEMP-*", timeout=15_000)
    return str(page.url.rsplit("/", 1)[1].split("?")[0])


async def _status(web: RunningProcess, order_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=web.url) as client:
        return dict((await client.get(f"/api/orders/{order_id}")).json())


async def test_back_from_ordering_the_menu_points_to_the_order_until_it_is_paid(
        browser: Any, web: RunningProcess, sandbox: RunningSandbox) -> None:
    context = await browser.new_context(base_url=web.url, **PHONE)
    page = await context.new_page()
    order_id = await _order(page)
    await page.go_back()
    await page.wait_for_url("**/r/demo")
    notice = page.locator("#waiting-order")
    await notice.wait_for(state="visible")
    assert "You have an order waiting for payment" in await notice.inner_text()
    link = notice.get_by_role("link", name="View your order")
    assert await link.get_attribute("href") == f"/orders/{order_id}"
    assert await notice.evaluate(IN_VIEW), await page.evaluate("window.scrollY")
    # another restaurant's menu, and another diner's browser, say nothing of it
    await page.goto("/r/demo-2")
    assert await page.locator("#waiting-order").count() == 0
    other = await browser.new_context(base_url=web.url, **PHONE)
    stranger = await other.new_page()
    await stranger.goto("/r/demo")
    assert await stranger.locator("#waiting-order").count() == 0
    await other.close()
    # the link leads to the order; paid, the menu no longer points to it
    await page.goto("/r/demo")
    await page.locator("#waiting-order a").tap()
    await page.wait_for_url(f"**/orders/{order_id}")
    sandbox.pay((await _status(web, order_id))["payment_url"].rsplit("/", 1)[1])
    for _ in range(100):
        if (await _status(web, order_id))["status"] == "paid":
            break
        await asyncio.sleep(0.1)
    assert (await _status(web, order_id))["status"] == "paid"
    await page.goto("/r/demo")
    assert await page.locator("#waiting-order").count() == 0
    assert not [cookie for cookie in await context.cookies() if cookie["name"] == "open_orders"]
    await context.close()
