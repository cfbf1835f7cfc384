"""Planning booked orders on a kitchen tablet (Chromium, 1024x768, a real `orderpass web`):
beside a booked ticket's Accept the screen says, as the cook types the prep time, whether it
would promise the diner a time after their slot; the press says what the diner was told; the
"Scheduled" panel flags a booked order's allergy with the board's badge, named for a screen
reader; "all day" shows a dish's options beneath it, inside the side column."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from app.orders.tables import OrderItem, PaidOrder
from app.templating import local_clock
from tests.helpers.browser import A_LOOK_MS, box_inside, logged_in_context
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
ZONE = "Europe/Berlin"  # the demo bistro's


async def test_a_booked_ticket_says_which_prep_time_misses_its_slot(
        browser: Any, web: RunningProcess) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    slot = now + timedelta(minutes=20)
    order = await make_paid_order(scheduled_for=slot, prep_minutes=15,
                                  released_at=now - timedelta(minutes=1))
    later = await make_paid_order(scheduled_for=now + timedelta(hours=3), prep_minutes=15,
                                  allergy="peanuts")
    pizza = await make_paid_order(items=[("Pizza your way", 900, 2, ""),
                                         ("Pizza your way", 1300, 1, "")])
    rows = await OrderItem.select(OrderItem.id).where(
        OrderItem.paid_order == pizza.id).order_by(OrderItem.id)
    for row, options in zip(rows, (["M"], ["L", "Olives"]), strict=True):
        await OrderItem.update({OrderItem.modifiers: json.dumps([
            {"group": "Size" if name in "SML" else "Extras", "name": name, "delta": 0}
            for name in options])}).where(OrderItem.id == row["id"])
    errors: list[str] = []
    context = await logged_in_context(browser, web.url, "kitchen@demo.test",
                                      viewport={"width": 1024, "height": 768})
    kitchen = await context.new_page()
    kitchen.on("pageerror", lambda error: errors.append(str(error)))
    await kitchen.goto("/kitchen/demo")
    await kitchen.wait_for_selector("#connection.is-live", timeout=10_000)
    # (the page's "Tap to start service" overlay is for sound; out of the way here)
    await kitchen.evaluate("document.getElementById('start-service').hidden = true")

    card = kitchen.locator(f"#card-{order.public_id}")
    hint = card.locator("[data-slot-hint]")
    prep = card.get_by_label(f"Prep minutes for ticket {order.ticket_number}")
    clock = local_clock(slot, ZONE)
    await expect(hint).to_be_hidden()  # the default 15 min are in time: nothing to read
    await prep.fill("40")
    await expect(hint).to_be_visible()
    # 20 min, plus the seconds since `now` (a minute and more when the setup ran slow)
    await expect(hint).to_have_text(re.compile(
        rf"^With 40 min: ready \d\d:\d\d, (19|20|21) min after the {clock} slot$"))
    await expect(prep).to_have_accessible_description(re.compile(rf"after the {clock} slot"))
    await prep.fill("12")
    await expect(hint).to_be_hidden()

    await prep.fill("40")
    await kitchen.wait_for_timeout(A_LOOK_MS)
    await card.get_by_role("button", name=f"Accept ticket {order.ticket_number}").click()
    result = kitchen.locator("#result")
    await expect(result).to_be_visible()
    accepted = await PaidOrder.objects().get(PaidOrder.public_id == order.public_id)
    assert accepted is not None and accepted.promised_at is not None
    promised = local_clock(accepted.promised_at, ZONE)
    await expect(result).to_contain_text(
        f"#{order.ticket_number} will be ready at {promised}, ")
    await expect(result).to_contain_text(
        f"after its {clock} slot: the diner has been told {promised}.")
    await expect(card.locator(".after-slot")).to_have_text(
        re.compile(rf"^(19|20|21) min after the {clock} slot$"))
    await expect(card.locator("[data-slot-hint]")).to_have_count(0)

    # "Scheduled": the booked order's allergy, as the tickets flag it, by its name
    scheduled = kitchen.locator("#scheduled-orders")
    badge = scheduled.locator(f"[data-scheduled='{later.public_id}']").get_by_role(
        "note", name="Allergy: peanuts")
    await expect(badge).to_be_visible()
    assert await badge.evaluate("el => getComputedStyle(el).backgroundColor") == \
        "rgb(224, 49, 49)"

    # "All day": the pizzas by options, beneath the dish, inside the side column
    options = kitchen.locator(".all-day-options")
    await expect(options).to_have_text(re.compile(r"2\s+M\s+1\s+L \+ Olives"))
    side = await kitchen.locator(".side").bounding_box()
    for item in await options.locator("li").all():
        assert box_inside(await item.bounding_box(), side)
    assert errors == []
