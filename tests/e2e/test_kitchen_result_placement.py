"""The result of a reject ("#12 rejected. The customer gets … back") and the screen's other
messages show where no ticket is: on a full board at 1024x768 they lay over the header of the
next card (the cook could not read its number, nor tap it). Real Chromium, a real `orderpass
web`; the reject's answer is the server's own shape, given by a Playwright route so no money
moves."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.templating import format_money
from tests.helpers.browser import covered_tickets, open_kitchen
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
UNDO_S = 5  # static/js/kitchen.js UNDO_MS


async def test_the_reject_result_and_a_failure_message_cover_no_ticket(
        browser: Any, web: RunningProcess) -> None:
    orders = [await make_paid_order() for _ in range(7)]
    # refunded in part (a dish refunded earlier): its reject refunds only the rest
    orders.append(await make_paid_order(amount_refunded=650))
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.set_viewport_size({"width": 1024, "height": 768})
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.click("#start-service-button")
    first = orders[0]
    await kitchen.locator(f"#card-{first.public_id} .reject-open").wait_for()
    part = orders[-1]
    await kitchen.locator(f"#card-{part.public_id} .reject-open").click()
    await kitchen.wait_for_selector("#reject-dialog[open]")
    rest = format_money(part.total_amount - 650, part.currency)
    assert await kitchen.locator("#reject-money").inner_text() == (
        f"The customer gets the remaining {rest} back (refund); €6.50 was refunded earlier.")
    await kitchen.keyboard.press("Escape")
    await kitchen.wait_for_selector("#reject-dialog:not([open])", state="attached")
    trigger = {"orderpass:rejected": {"ok": True, "message":
                                      f"#{first.ticket_number} rejected. The customer gets "
                                      "€26.50 back (refund)."}}
    await kitchen.route(f"**/orders/{first.public_id}/reject",
                        lambda route: route.fulfill(status=200, body="",
                                                    headers={"HX-Trigger": json.dumps(trigger)}))
    await kitchen.locator(f"#card-{first.public_id} .reject-open").click()
    await kitchen.wait_for_selector("#reject-dialog[open]")
    await kitchen.locator("#reject-form input[name=reason-choice]").first.check()
    await kitchen.click("#reject-confirm")
    result = kitchen.locator("#result")
    await result.wait_for(state="visible", timeout=(UNDO_S + 10) * 1000)
    assert f"#{first.ticket_number} rejected" in await result.inner_text()
    assert await kitchen.locator("#board .order-card").count() == len(orders) - 1
    assert await covered_tickets(kitchen, result) == []
    # the OK button on it can be tapped (nothing lies over it)
    ok = kitchen.locator("#result-close")
    box = await ok.bounding_box()
    assert box is not None
    hit = await kitchen.evaluate("([x, y]) => document.elementFromPoint(x, y)?.id",
                                 [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
    assert hit == "result-close"

    # a message about no ticket (a busy time the server could not set) lies there too
    await kitchen.evaluate("""() => {
        const toast = document.getElementById('toast');
        toast.textContent = 'Not done: the screen lost the kitchen\\'s server. Try again.';
        toast.hidden = false; }""")
    assert await covered_tickets(kitchen, kitchen.locator("#toast")) == []
    assert errors == []
