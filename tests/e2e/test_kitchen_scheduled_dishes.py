"""The "Scheduled" panel on a kitchen tablet in landscape (Chromium, 1024x768): each booked
order shows its dishes, a long dish name without spaces wraps inside the panel (nothing
runs sideways out of the side column or the page), and an order booked and paid while the
screen is open appears with its dishes, live, without a reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from tests.helpers.browser import box_inside, open_kitchen
from tests.helpers.hours import next_slot
from tests.helpers.orders import announce_paid, make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
X = "\N{MULTIPLICATION SIGN}"  # between quantity and dish
TABLET_LANDSCAPE = {"width": 1024, "height": 768}
LONG_NAME = "Quattrostagioni" + "conmozzarelladibufala" * 4  # one word of 99 letters

# What runs sideways: the page, the side column, the panel, and any of its elements
# reaching past the panel's right edge.
OVERFLOW = """() => {
  const root = document.documentElement;
  const side = document.querySelector('.side');
  const panel = document.getElementById('scheduled-orders');
  const edge = panel.getBoundingClientRect().right + 0.5;
  const out = Array.from(panel.querySelectorAll('*'))
    .filter(el => el.getBoundingClientRect().right > edge)
    .map(el => el.outerHTML.slice(0, 80));
  return {page: root.scrollWidth - root.clientWidth, side: side.scrollWidth - side.clientWidth,
          panel: panel.scrollWidth - panel.clientWidth, out: out};
}"""


async def test_booked_dishes_wrap_inside_the_panel_and_arrive_live(
        browser: Any, web: RunningProcess) -> None:
    tomorrow = next_slot(datetime.now(UTC) + timedelta(days=1))
    booked = await make_paid_order(scheduled_for=tomorrow, prep_minutes=15, items=[
        (LONG_NAME, 1500, 2, ""), ("Tiramisu", 650, 1, "x" * 90)])
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.set_viewport_size(TABLET_LANDSCAPE)
    panel = kitchen.locator("#scheduled-orders")
    entry = panel.locator(f"[data-scheduled='{booked.public_id}']")
    await expect(entry).to_contain_text(f"2{X} {LONG_NAME}")
    await expect(entry).to_contain_text(f"1{X} Tiramisu")

    dish = entry.locator(".scheduled-dish", has_text=LONG_NAME)
    assert (await dish.bounding_box() or {})["height"] > 40  # wrapped onto several lines
    side = await kitchen.locator(".side").bounding_box()
    assert side is not None
    assert box_inside(await dish.bounding_box(), {**side, "height": 10_000})
    overflow = await kitchen.evaluate(OVERFLOW)
    assert overflow == {"page": 0, "side": 0, "panel": 0, "out": []}, overflow

    # Booked and paid now, with the screen open: listed with its dishes, no reload.
    later = await make_paid_order(scheduled_for=tomorrow + timedelta(hours=1),
                                  prep_minutes=15,
                                  items=[("Margherita pizza", 1100, 3, "well done")])
    await announce_paid(later)
    arrived = panel.locator(f"[data-scheduled='{later.public_id}']")
    await expect(arrived).to_contain_text(f"3{X} Margherita pizza", timeout=15_000)
    await expect(arrived).to_contain_text("well done")
    await expect(entry).to_contain_text(f"2{X} {LONG_NAME}")  # the redrawn panel keeps the first
    overflow = await kitchen.evaluate(OVERFLOW)
    assert overflow == {"page": 0, "side": 0, "panel": 0, "out": []}, overflow
    assert errors == []
