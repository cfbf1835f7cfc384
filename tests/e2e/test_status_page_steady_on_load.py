"""The status page is not rebuilt under the diner's finger when its live stream opens. The
stream's first message repeats the state the page was rendered with; the page fetched and
swapped its whole section for it, so a tap on "Pay now" landing in that moment hit a button
that was gone (seen as a lost click in CI under load). Real Chromium, a real web process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from app.bench.client import menu_item_ids, order_payload, session_id_of
from app.orders import lifecycle
from tests.helpers.orders import make_paid_order
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
COUNT_MESSAGES = """
window.__messages = 0;
document.addEventListener("htmx:sseMessage", () => { window.__messages += 1; });
"""


async def _opened_steady(browser: Any, web: RunningProcess, ref: str
                         ) -> tuple[Any, Any, list[str], list[str]]:
    """The order's status page, once its stream's first message came: nothing fetched for
    it, the section the one rendered. (context, page, progress fetches, page errors)"""
    context = await browser.new_context(base_url=web.url)
    await context.add_init_script(COUNT_MESSAGES)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url)
            if "/progress" in request.url else None)
    await page.goto(f"/orders/{ref}")
    await page.evaluate("() => { window.__section = document.getElementById('order-progress') }")
    await page.wait_for_function("() => window.__messages >= 1", timeout=10_000)
    await page.wait_for_timeout(500)  # what a swap would take, had one been asked for
    assert fetched == []
    assert await page.evaluate(
        "() => document.getElementById('order-progress') === window.__section")
    return context, page, fetched, errors


async def test_an_unpaid_orders_pay_button_stays_put_and_payment_is_read_live(
        browser: Any, web: RunningProcess, sandbox: RunningSandbox) -> None:
    async with httpx.AsyncClient(base_url=web.url) as api:
        created = await api.post("/api/orders", json=order_payload(
            "demo", await menu_item_ids(api, "demo")))
    assert created.status_code == 201, created.text
    context, page, fetched, errors = await _opened_steady(browser, web, created.json()["id"])
    assert await page.locator("a.pay-button").count() == 1
    sandbox.pay(session_id_of(created.json()))
    await page.locator("#order-progress[data-status=paid]").wait_for(timeout=15_000)
    assert fetched and errors == []
    await context.close()


async def test_the_first_message_of_the_stream_leaves_the_page_as_rendered(
        browser: Any, web: RunningProcess, redis: ArqRedis) -> None:
    order = await make_paid_order()
    context, page, fetched, errors = await _opened_steady(browser, web, order.public_id)

    # a change is still read and shown live
    await lifecycle.apply_action(order.public_id, "accept", actor="kitchen@demo.test",
                                 prep_minutes=20, redis=redis)
    await page.locator("#order-progress .eta").wait_for(timeout=10_000)
    assert len(fetched) == 1
    assert errors == []
    await context.close()
