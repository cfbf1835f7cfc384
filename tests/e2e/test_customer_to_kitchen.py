"""The whole product in real browsers: a customer orders from the menu, sees the pay button
at once and the email in the mailbox, pays on the (sandbox) Stripe page; the kitchen screen
shows the card without a reload; the cook accepts; the customer sees the ETA live."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers.browser import A_LOOK_MS, open_kitchen
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser


async def test_order_pay_kitchen_accept_eta(browser: Any, web: RunningProcess,
                                            worker: RunningProcess,
                                            sandbox: RunningSandbox) -> None:
    errors: list[str] = []
    customer = await (await browser.new_context()).new_page()
    customer.on("pageerror", lambda error: errors.append(str(error)))

    # The kitchen is open and connected before the order exists.
    kitchen = await open_kitchen(browser, web.url, errors)

    # Customer: menu → cart → checkout.
    await customer.goto(f"{web.url}/r/demo")
    await customer.click("#menu-item-3 .add-button")  # Margherita pizza
    await customer.wait_for_selector("#qty-3")
    await customer.click("#menu-item-3 button[value='inc:3']")
    await customer.wait_for_selector("#qty-3[value='2']")
    assert "€22.00" in await customer.inner_text("[data-testid=cart-total]")
    await customer.fill("#note-3", "well done")
    await customer.fill("#name", "Grace Hopper")
    await customer.fill("#email", "grace@example.com")
    await customer.click("button.primary-action")
    await customer.wait_for_url(re.compile(r".*/orders/TEMP-[A-Za-z0-9]+$"))
    order_ref = customer.url.rsplit("/", 1)[1]
    pay_button = customer.locator("a.pay-button")
    assert "€22.00" in await pay_button.inner_text()  # shown at once: no waiting for email

    # The confirmation email arrives (the worker sends it through the Resend sandbox).
    message = sandbox.wait_for(lambda: sandbox.messages(to="grace@example.com"), timeout=20)[0]
    assert order_ref in message["text"]
    mailbox = await (await browser.new_context()).new_page()
    await mailbox.goto(f"{sandbox.url}/mail")
    await mailbox.click(f"text={message['subject']}")
    frame = mailbox.frame_locator("iframe")
    await frame.locator("text=Pay now").first.wait_for(timeout=10_000)

    # Pay on the hosted checkout page; Stripe redirects back to the status page.
    await pay_button.click()
    await customer.wait_for_url(re.compile(r".*/pay/cs_test_.*"))
    await customer.click("button[value=succeeded]")
    await customer.wait_for_url(re.compile(rf".*/orders/{order_ref}\?checkout=success.*"))
    await customer.wait_for_selector("#order-progress[data-status=paid]", timeout=15_000)

    # The kitchen sees the paid order without a reload, and accepts it with a prep time.
    card = kitchen.locator(f"#card-{order_ref}")
    await card.wait_for(timeout=15_000)
    assert "well done" in await card.inner_text()
    assert "Grace Hopper" in await card.inner_text()
    await card.locator("input[name=prep_minutes]").fill("25")
    await kitchen.wait_for_timeout(A_LOOK_MS)  # seen before pressed (it has just arrived)
    await card.locator("form.act-accept button").click()

    # The customer's page moves on by itself and shows the ETA.
    await customer.wait_for_selector("#order-progress[data-status=accepted]", timeout=15_000)
    eta = await customer.inner_text(".eta")
    assert "about 25 minutes" in eta
    # Said to a screen reader by the region that stays (the section itself was replaced).
    said = customer.locator("#status-said")
    assert await said.get_attribute("aria-live") == "polite"
    await customer.wait_for_function(
        "() => document.getElementById('status-said').textContent.includes('25 minutes')",
        timeout=5_000)
    assert (await said.inner_text()).startswith("Accepted by the kitchen. Ready around")
    assert errors == []
