"""A diner whose browser asks for English switches the menu to German, orders with a tip and
pays, in a real browser: the checkout shows German words and German money (VAT per rate, the
tip), the status page is German and stays German through its live update, and the receipt in
the sandbox mailbox is German with its VAT table."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser

EUR = "\xa0€"  # Babel's German money: a no-break space before the sign


async def test_a_diner_switches_to_german_orders_pays_and_gets_a_german_receipt(
    browser: Any, web: RunningProcess, worker: RunningProcess, sandbox: RunningSandbox
) -> None:
    errors: list[str] = []
    items = {item["name"]: item["id"] for item in httpx.get(
        f"{web.url}/api/restaurants/demo/menu").json()["items"]}
    pizza, lemonade = items["Margherita pizza"], items["Lemonade"]

    diner = await (await browser.new_context(locale="en-US")).new_page()
    diner.on("pageerror", lambda error: errors.append(str(error)))
    await diner.goto(f"{web.url}/r/demo")
    assert await diner.get_attribute("html", "lang") == "en"
    # The switch is a link named in its own language, reachable by keyboard.
    switch = diner.get_by_role("navigation", name="Language").get_by_role("link",
                                                                          name="Deutsch")
    await switch.focus()
    await diner.keyboard.press("Enter")
    await diner.wait_for_selector("html[lang=de]")
    assert "Bestellen und bezahlen" in await diner.inner_text("button.primary-action")

    await diner.click(f"#add-{pizza}")
    await diner.wait_for_selector(f"#qty-{pizza}")
    await diner.click(f"#inc-{pizza}")
    await diner.wait_for_selector(f"#qty-{pizza}[value='2']")
    await diner.click(f"#add-{lemonade}")
    await diner.wait_for_selector(f"#qty-{lemonade}")
    await diner.check("#tip-10")
    await diner.wait_for_selector("#order-form [data-testid=tip]")
    # Whitespace (the no-break space too) read as single spaces.
    breakdown = " ".join((await diner.inner_text(
        "#order-form [data-testid=price-breakdown]")).split())
    for line in ("Netto 24,34 €", "MwSt. 7 % 1,44 €", "MwSt. 19 % 0,72 €",
                 "Artikel inkl. MwSt. 26,50 €", "Trinkgeld (ohne MwSt.) 2,65 €",
                 "Gesamt 29,15 €"):
        assert line in breakdown, (line, breakdown)
    assert f"29,15{EUR}" in await diner.inner_text("button.primary-action")

    await diner.fill("#name", "Grete Hopper")
    # Each mistyped address gets its own German sentence beside the field, from the server
    # (the browser's own check, in the browser's language, stays out of the way), and the
    # next answer replaces it.
    for typed, said in (("grete@firma.test", "ist ein reservierter Name"),
                        ("grete@example,com", "enthält ungültige Zeichen: ','"),
                        ("grete", "muss ein @-Zeichen enthalten"),
                        ("grete@example..com", "keine zwei Punkte hintereinander")):
        await diner.fill("#email", typed)
        await diner.click("button.primary-action")
        await diner.wait_for_function(
            "said => (document.getElementById('email-error') || {}).textContent"
            "?.includes(said)", arg=said)
        beside = await diner.inner_text("#email-error")
        assert "@-sign" not in beside and "address" not in beside, beside
        assert await diner.get_attribute("#email", "aria-invalid") == "true"
        assert await diner.input_value("#email") == typed  # kept to correct, not retyped
    await diner.fill("#email", "grete@example.com")
    await diner.click("button.primary-action")
    await diner.wait_for_url(re.compile(r".*/orders/TEMP-[A-Za-z0-9]+$"))
    order_ref = diner.url.rsplit("/", 1)[1]
    assert await diner.get_attribute("html", "lang") == "de"
    assert "Wir warten auf Ihre Zahlung" in await diner.inner_text("#order-progress")
    # The link's countdown ticks in German too ("noch 29 min 59 s").
    await diner.wait_for_function(
        "() => /^noch \\d+ min \\d+ s$/.test("
        "document.querySelector('[data-countdown]').textContent)")
    await diner.click("a.pay-button")
    await diner.wait_for_url(re.compile(r".*/pay/cs_test_.*"))
    await diner.click("button[value=succeeded]")
    await diner.wait_for_url(re.compile(rf".*/orders/{order_ref}\?checkout=success.*"))
    # The live update swaps the progress in German too.
    await diner.wait_for_selector("#order-progress[data-status=paid]", timeout=15_000)
    progress = await diner.inner_text("#order-progress")
    assert "Zahlung erhalten" in progress and "Bezahlt" in progress, progress

    def receipt() -> list[dict[str, Any]]:
        return [message for message in sandbox.messages(to="grete@example.com")
                if message["subject"].startswith("Zahlung erhalten")]

    [message] = sandbox.wait_for(receipt, timeout=30)
    for needed in ("QUITTUNG", order_ref, f"MwSt. 7 %: 1,44{EUR}", f"MwSt. 19 %: 0,72{EUR}",
                   f"Trinkgeld (ohne MwSt.): 2,65{EUR}", f"Gesamt: 29,15{EUR}",
                   "Verkäufer: Demo Bistro GmbH"):
        assert needed in message["text"], needed
    mailbox = await (await browser.new_context()).new_page()
    await mailbox.goto(f"{sandbox.url}/mail")
    await mailbox.click(f"text={message['subject']}")
    frame = mailbox.frame_locator("iframe")
    table = frame.locator("[data-testid=vat-table]")
    await table.wait_for(timeout=10_000)
    shown = await table.inner_text()
    assert "MwSt.-Satz" in shown and f"20,56{EUR}" in shown and f"3,78{EUR}" in shown
    assert errors == []
