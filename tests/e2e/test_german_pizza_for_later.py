"""#16 end to end in a real browser, in German: a diner builds a pizza (a size and an extra),
flags an allergy, adds a tip and orders it for a later slot, then pays on the (sandbox) Stripe
page. The status page says when, in German; the kitchen lists the order under "Scheduled" and,
at its slot minus prep (the release sweep run with that clock, as the worker's cron runs it),
the ticket reaches the open board with its options and the allergy badge; the receipt in the
sandbox mailbox is German, with the options, the slot and the VAT breakdown."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from app import outbox_consumers
from app.orders.release import release_due
from tests.helpers.browser import open_kitchen
from tests.helpers.hours import BERLIN
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PREP = 15  # the demo bistro's default prep minutes
EUR = "\xa0€"  # Babel's German money: a no-break space before the sign


def _pizza(menu: dict[str, Any]) -> tuple[int, int, int]:
    """The build-your-own pizza's id, its size L and its cheese extra."""
    item = next(item for item in menu["items"] if item["name"] == "Pizza your way")
    options = {option["name"]: option["id"] for group in item["groups"]
               for option in group["options"]}
    return item["id"], options["L"], options["Cheese"]


async def test_a_german_diner_orders_a_pizza_with_options_for_later(
        browser: Any, web: RunningProcess, worker: RunningProcess, sandbox: RunningSandbox,
        redis: ArqRedis) -> None:
    outbox_consumers.load()
    errors: list[str] = []
    pizza, size_l, cheese = _pizza(httpx.get(f"{web.url}/api/restaurants/demo/menu").json())

    kitchen = await open_kitchen(browser, web.url, errors)

    diner = await (await browser.new_context(locale="de-DE")).new_page()
    diner.on("pageerror", lambda error: errors.append(str(error)))
    await diner.goto(f"{web.url}/r/demo")
    assert await diner.get_attribute("html", "lang") == "de"  # from Accept-Language
    assert "Enthält: Gluten, Milch" in await diner.inner_text(f"#menu-item-{pizza}")
    await diner.check(f"#opt-{pizza}-{size_l}")
    await diner.check(f"#opt-{pizza}-{cheese}")
    await diner.click(f"#add-{pizza}")
    await diner.wait_for_selector("#order-form .cart-line-modifiers")
    assert "Size: L; Extras: Cheese" in await diner.inner_text("#order-form .cart-line-modifiers")
    await diner.check("#tip-10")
    await diner.wait_for_selector("#order-form [data-testid=tip]")
    breakdown = " ".join((await diner.inner_text(
        "#order-form [data-testid=price-breakdown]")).split())
    assert "Trinkgeld (ohne MwSt.)" in breakdown and "MwSt. 7 %" in breakdown, breakdown

    # The first day after "as soon as possible", then its first time: the time select
    # comes with the day (the form re-rendered by htmx, the basket and tip kept).
    assert "Wann?" in await diner.inner_text("#order-time")
    assert await diner.locator("#scheduled_for").count() == 0
    day = await diner.eval_on_selector("#schedule_day", "s => s.options[1].value")
    await diner.select_option("#schedule_day", day)
    await diner.wait_for_selector("#scheduled_for")
    assert await diner.locator("label[for=scheduled_for]").inner_text() == "Uhrzeit"
    assert await diner.is_checked("#tip-10")
    slot_value = await diner.eval_on_selector("#scheduled_for", "s => s.options[1].value")
    assert datetime.fromisoformat(slot_value).astimezone(BERLIN).date().isoformat() == day
    slot = datetime.fromisoformat(slot_value)
    clock = f"{slot.astimezone(BERLIN):%H:%M}"
    await diner.select_option("#scheduled_for", slot_value)
    await diner.check("#has_allergy")
    await diner.fill("#allergy", "Sesam")
    await diner.fill("#name", "Grete Hopper")
    await diner.fill("#email", "grete@example.com")
    await diner.click("button.primary-action")
    await diner.wait_for_url(re.compile(r".*/orders/TEMP-[A-Za-z0-9]+$"))
    ref = diner.url.rsplit("/", 1)[1]
    assert f"Abholung um {clock} Uhr" in await diner.inner_text("#scheduled-for")

    await diner.click("a.pay-button")
    await diner.wait_for_url(re.compile(r".*/pay/cs_test_.*"))
    await diner.click("button[value=succeeded]")
    await diner.wait_for_selector("#order-progress[data-status=paid]", timeout=15_000)
    assert "Zahlung erhalten" in await diner.inner_text("#order-progress")
    assert f"Abholung um {clock} Uhr" in await diner.inner_text("#scheduled-for")

    # Paid for later: under "Scheduled", not a ticket yet.
    await kitchen.locator(f"[data-scheduled='{ref}']").wait_for(timeout=15_000)
    assert await kitchen.locator(f"#card-{ref}").count() == 0
    # Its time comes: the ticket reaches the open screen, options and allergy shown.
    assert await release_due(redis, now=slot - timedelta(minutes=PREP)) == [ref]
    card = kitchen.locator(f"#card-{ref}")
    await card.wait_for(timeout=15_000)
    shown = await card.inner_text()
    assert "Pizza your way" in shown and "Size: L; Extras: Cheese" in shown, shown
    assert f"for {clock}" in shown, shown
    assert "ALLERGY: SESAM" in (await card.locator("p.allergy").inner_text()).upper()

    def receipt() -> list[dict[str, Any]]:
        return [message for message in sandbox.messages(to="grete@example.com")
                if message["subject"].startswith("Zahlung erhalten")]

    [message] = sandbox.wait_for(receipt, timeout=30)
    for needed in ("QUITTUNG", ref, "Size: L; Extras: Cheese", f"Abholung um {clock} Uhr",
                   "MwSt. 7 %", "Trinkgeld (ohne MwSt.)", "Gesamt:", EUR):
        assert needed in message["text"], (needed, message["text"])
    assert errors == []
