"""A manual-capture order whose card hold lapsed (Stripe cancels it 7 days after payment; the
sandbox's clock is moved 8 days) and the cook taps Accept on a tablet: the board's banner says
the hold expired and not to cook it, the ticket leaves the board and stays gone, nothing reads
as a failure to try again, the page raises no script error, and the order ends voided. Stripe's
`payment_intent.canceled` is kept from the web process (webhooks off before the clock moves),
so the accept is what finds the hold gone. Real Chromium, a real `orderpass web`, an order
paid on the sandbox's Stripe."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.orders.tables import PaidOrder
from tests.helpers.browser import open_kitchen
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
EIGHT_DAYS = 8 * 24 * 60 * 60  # past the sandbox's HOLD_LIFETIME_S (7 days)
RETRY_WORDS = ("could not do it just now", "try again")


async def visible_text(kitchen: Any, selector: str) -> str:
    texts = []
    for element in await kitchen.locator(selector).all():
        if await element.is_visible():
            texts.append(await element.inner_text())
    return " ".join(texts)


async def test_accepting_an_order_whose_hold_lapsed_says_so_and_takes_it_off_the_board(
        browser: Any, web: RunningProcess, client: httpx.AsyncClient,
        sandbox: RunningSandbox) -> None:
    # No Stripe webhook reaches the web process: neither the order's own
    # `checkout.session.completed` (`paid_order_via_sandbox` records it through the in-process
    # app) nor the hold's `payment_intent.canceled` (a late or lost event: the accept finds out).
    sandbox.configure(stripe_webhook_url="")
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    kitchen.on("console", lambda message: errors.append(message.text)
               if message.type == "error" else None)
    await kitchen.set_viewport_size({"width": 1024, "height": 768})
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.click("#start-service-button")
    card = kitchen.locator(f"#card-{order.public_id}")
    accept = card.locator(".act-accept button[type=submit]")
    await accept.wait_for()

    sandbox.advance_clock(EIGHT_DAYS)
    try:
        async with kitchen.expect_response(
                lambda r: r.url.endswith(f"/orders/{order.public_id}/accept"),
                timeout=15_000) as answer:
            await accept.click()
        response = await answer.value
        assert response.status == 200, await response.text()

        # The banner says what happened, as a problem, in the server's words.
        result = kitchen.locator("#result")
        await result.wait_for(state="visible", timeout=5_000)
        text = await kitchen.locator("#result-text").inner_text()
        assert text.startswith(f"#{order.ticket_number} was not accepted: the card hold "
                               "expired; this order cannot be charged."), text
        assert "do not cook it" in text, text
        assert "not charged" in text, text
        assert "is-problem" in (await result.get_attribute("class") or "")

        # The ticket leaves the board, and stays gone once the live feed has caught up.
        await card.wait_for(state="detached", timeout=5_000)
        await asyncio.sleep(2)
        assert await kitchen.locator(f"[data-ref='{order.public_id}']").count() == 0
        assert await result.is_visible()
        assert await kitchen.locator("#result-text").inner_text() == text

        # Nothing reads as a failure to retry: no note on a card, no toast.
        shown = (await visible_text(kitchen, ".card-problem")
                 + " " + await visible_text(kitchen, "#toast") + " " + text).lower()
        assert not any(words in shown for words in RETRY_WORDS), shown
        assert await kitchen.locator(".card-problem").count() == 0
        assert not await kitchen.locator("#toast").is_visible()
    finally:
        sandbox.advance_clock(-EIGHT_DAYS)

    saved = await PaidOrder.select(PaidOrder.status, PaidOrder.accepted_at).where(
        PaidOrder.id == order.id).first()
    assert saved is not None
    assert saved["status"] == "voided" and saved["accepted_at"] is None
    assert errors == []
