"""A German diner whose order was placed while Stripe was down keeps its status page open
("Ihr Zahlungslink ist unterwegs … erscheint … auf dieser Seite"): when the worker makes the
link, the "Pay now" button appears on the open page without a reload and without a script
error; when the worker gives up, the page says so, also by itself (real Chromium, real
`orderpass web` and worker)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from tests.helpers.orders import valid_order
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess, start_worker

pytestmark = pytest.mark.browser

# Short of the stream's once-a-minute snapshot (app/live/hub.py), which would bring the news
# at last; this leaves the worker time to start and run the job deferred at intake (5 s).
APPEARS_WITHIN_MS = 40_000


async def _order_while_stripe_is_down(web: RunningProcess, sandbox: RunningSandbox
                                      ) -> dict[str, Any]:
    sandbox.api_faults(service="stripe", status=500, count=1000)
    async with httpx.AsyncClient(base_url=web.url, timeout=30) as http:
        response = await http.post("/api/orders", json=await valid_order(http))
    assert response.status_code == 202, response.text
    order: dict[str, Any] = response.json()
    assert order["payment_url"] is None
    return order


async def _waiting_page(browser: Any, web: RunningProcess, ref: str
                        ) -> tuple[Any, list[str]]:
    """The German status page, open on its live stream, saying the link is on its way."""
    page = await (await browser.new_context(locale="de-DE")).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    await page.add_init_script(
        "document.addEventListener('htmx:sseOpen', () => { window.streamOpened = true; })")
    await page.goto(f"{web.url}/orders/{ref}")
    assert await page.get_attribute("html", "lang") == "de"
    assert "Ihr Zahlungslink ist unterwegs" in await page.inner_text("#order-progress")
    await page.wait_for_function("() => window.streamOpened === true", timeout=10_000)
    await page.evaluate("window.sameDocument = true")  # gone if the page were reloaded
    return page, errors


async def test_the_pay_button_appears_when_the_worker_makes_the_link(
        browser: Any, web: RunningProcess, sandbox: RunningSandbox) -> None:
    order = await _order_while_stripe_is_down(web, sandbox)
    page, errors = await _waiting_page(browser, web, order["id"])
    assert await page.locator("a.pay-button").count() == 0

    sandbox.api_faults(service="stripe", status=500, count=0)  # Stripe answers again …
    with start_worker():  # … and the worker runs the link job intake deferred
        await page.wait_for_selector("#order-progress a.pay-button",
                                     timeout=APPEARS_WITHIN_MS)
    async with httpx.AsyncClient(base_url=web.url) as http:
        url = (await http.get(f"/api/orders/{order['id']}")).json()["payment_url"]
    assert url and await page.get_attribute("a.pay-button", "href") == url
    progress = await page.inner_text("#order-progress")
    assert "Jetzt bezahlen" in progress and "unterwegs" not in progress, progress
    # the countdown to the link's expiry ticks in the swapped-in part, in German
    await page.wait_for_function(
        "() => /^noch \\d+ min \\d+ s$/.test("
        "document.querySelector('[data-countdown]').textContent)")
    assert await page.evaluate("window.sameDocument") is True
    assert errors == []


async def test_the_page_says_so_when_the_worker_gives_up(
        browser: Any, web: RunningProcess, sandbox: RunningSandbox, redis: Redis) -> None:
    from workers.order_jobs import create_payment_link

    order = await _order_while_stripe_is_down(web, sandbox)
    page, errors = await _waiting_page(browser, web, order["id"])
    try:  # the job's last try, Stripe still down
        assert await create_payment_link({"redis": redis, "job_try": 8},
                                         order["id"]) == "failed"
    finally:
        sandbox.api_faults(service="stripe", status=500, count=0)
    await page.wait_for_selector("#order-progress[data-status=link_failed]", timeout=15_000)
    progress = await page.inner_text("#order-progress")
    assert "Wir konnten die Zahlung für diese Bestellung nicht einrichten" in progress
    assert await page.evaluate("window.sameDocument") is True
    assert errors == []
