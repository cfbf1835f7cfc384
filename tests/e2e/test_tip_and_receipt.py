"""A diner orders at the demo bistro (prices include VAT: food 7 %, drinks 19 %) with a 10 %
tip, in a real browser: the checkout shows the VAT per rate and the tip; the Stripe session
charges the total with the tip as its own line; after paying, the receipt in the mailbox
shows the VAT breakdown, the tip and the restaurant's legal details; the kitchen's card shows
the tip."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.helpers.browser import open_kitchen
from tests.helpers.sandbox import RunningSandbox, stripe_client
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser


async def test_a_tipped_order_its_vat_and_its_receipt(browser: Any, web: RunningProcess,
                                                      worker: RunningProcess,
                                                      sandbox: RunningSandbox) -> None:
    errors: list[str] = []
    items = {item["name"]: item["id"] for item in httpx.get(
        f"{web.url}/api/restaurants/demo/menu").json()["items"]}
    pizza, lemonade = items["Margherita pizza"], items["Lemonade"]

    kitchen = await open_kitchen(browser, web.url, errors)

    diner = await (await browser.new_context()).new_page()
    diner.on("pageerror", lambda error: errors.append(str(error)))
    await diner.goto(f"{web.url}/r/demo")
    await diner.click(f"#add-{pizza}")
    await diner.wait_for_selector(f"#qty-{pizza}")
    await diner.click(f"#inc-{pizza}")
    await diner.wait_for_selector(f"#qty-{pizza}[value='2']")
    await diner.click(f"#add-{lemonade}")
    await diner.wait_for_selector(f"#qty-{lemonade}")
    breakdown = diner.locator("#order-form [data-testid=price-breakdown]")
    assert "VAT 7%" in await breakdown.inner_text()
    assert "Tip" not in await breakdown.inner_text()

    # A 10 % tip: the form re-renders with the tip and the new total (the focus stays put).
    await diner.check("#tip-10")
    await diner.wait_for_selector("#order-form [data-testid=tip]")
    shown = " ".join((await breakdown.inner_text()).split())
    for line in ("Net €24.34", "VAT 7% €1.44", "VAT 19% €0.72", "Items incl. VAT €26.50",
                 "Tip (no VAT) €2.65", "Total €29.15"):
        assert line in shown, (line, shown)
    assert await diner.evaluate("document.activeElement.id") == "tip-10"
    assert "€29.15" in await diner.inner_text("button.primary-action")

    await diner.fill("#name", "Grace Hopper")
    await diner.fill("#email", "grace@example.com")
    await diner.click("button.primary-action")
    await diner.wait_for_url(re.compile(r".*/orders/TEMP-[A-Za-z0-9]+$"))
    order_ref = diner.url.rsplit("/", 1)[1]
    assert "€29.15" in await diner.inner_text("a.pay-button")

    # The Stripe session charges the tip as its own line, and the total with it.
    pay_url = await diner.get_attribute("a.pay-button", "href")
    assert pay_url
    session_id = pay_url.rsplit("/", 1)[1]
    sdk = stripe_client(sandbox.url)
    assert sdk.v1.checkout.sessions.retrieve(session_id).amount_total == 2915
    lines = sdk.v1.checkout.sessions.line_items.list(session_id).data
    assert [(line.description, line.amount_total) for line in lines] == [
        ("Margherita pizza", 2200), ("Lemonade", 450), ("Tip", 265)]
    await diner.click("a.pay-button")
    await diner.wait_for_url(re.compile(r".*/pay/cs_test_.*"))
    assert "29.15 EUR" in await diner.inner_text("#total")
    await diner.click("button[value=succeeded]")
    await diner.wait_for_url(re.compile(rf".*/orders/{order_ref}\?checkout=success.*"))
    await diner.wait_for_selector("#order-progress[data-status=paid]", timeout=15_000)

    # The receipt: VAT per rate, the tip, the total, the seller's legal details.
    def receipt() -> list[dict[str, Any]]:
        return [message for message in sandbox.messages(to="grace@example.com")
                if message["subject"].startswith("Payment received")]

    [message] = sandbox.wait_for(receipt, timeout=30)
    for needed in ("RECEIPT", order_ref, "VAT 7%: €1.44", "VAT 19%: €0.72",
                   "Tip (no VAT): €2.65", "Total: €29.15", "Sold by: Demo Bistro GmbH",
                   "VAT ID / tax number: DE123456789"):
        assert needed in message["text"], needed
    mailbox = await (await browser.new_context()).new_page()
    await mailbox.goto(f"{sandbox.url}/mail")
    await mailbox.click(f"text={message['subject']}")
    frame = mailbox.frame_locator("iframe")
    table = frame.locator("[data-testid=vat-table]")
    await table.wait_for(timeout=10_000)
    assert "€20.56" in await table.inner_text() and "€3.78" in await table.inner_text()
    assert "Demo Bistro GmbH" in await frame.locator("[data-testid=seller]").inner_text()

    # The kitchen sees the paid order live, with its tip, small.
    card = kitchen.locator(f"#card-{order_ref}")
    await card.wait_for(timeout=15_000)
    assert "incl. tip €2.65" in await card.locator(".tip").inner_text()
    assert errors == []
