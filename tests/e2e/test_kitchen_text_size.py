"""A ticket is read at arm's length: no text on it is smaller than 16 px, nor in the
"Scheduled" panel beside it, on a 1024x768 tablet and in dense mode too. The table label
("Terrasse hinten, Tisch 14"), the fulfilment badge and the order note's label were 12.8 px;
a line's "Contains: Milk, Nuts" 14.4 px, and the Scheduled panel's customer and "on the
board at" 15 px (outside tries with a tablet)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.restaurants.tables import MenuItem
from tests.helpers.browser import tablet_kitchen
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
# Each shown text inside the element `selector` smaller than 16 px, with its size.
SMALL_TEXT = """selector => {
  const root = document.querySelector(selector);
  const small = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 16) small.push(node.textContent.trim().slice(0, 30) + ' ' + size + 'px');
  }
  return small;
}"""


async def test_no_text_on_a_ticket_or_the_scheduled_panel_is_below_16_px(
        browser: Any, web: RunningProcess) -> None:
    # every kind of text a ticket can carry: a table, notes, an allergy with each line's
    # "Contains:", a line's own allergy, a sold-out mark, a tip
    order = await make_paid_order(
        fulfillment="dine_in", table_label="Terrasse hinten, Tisch 14", notes="No onions at all",
        allergy="tree nuts, severe", tip_amount=200, link_menu=True,
        line_allergies={"Burrata": "hazelnuts"},
        items=[("Burrata", 1150, 1, "no peaches"), ("Tiramisu", 700, 1, "")])
    await MenuItem.update({MenuItem.available: False}).where(MenuItem.name == "Tiramisu")
    slot = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    booked = await make_paid_order(scheduled_for=slot, prep_minutes=15, allergy="peanuts",
                                   notes="ring twice")
    errors: list[str] = []
    kitchen = await tablet_kitchen(browser, web.url, errors,
                                   viewport={"width": 1024, "height": 768}, tickets=1)
    await kitchen.locator(f"#card-{order.public_id} .line-sold-out").wait_for()
    await kitchen.locator(f'[data-scheduled="{booked.public_id}"] small').wait_for()
    # "D" works once service has started (the overlay goes when the audio has resumed)
    await kitchen.locator("#start-service").wait_for(state="hidden")
    for dense in (False, True):
        for selector in (f"#card-{order.public_id}", "#scheduled-orders"):
            assert await kitchen.evaluate(SMALL_TEXT, selector) == [], (selector, dense)
        if not dense:
            await kitchen.keyboard.press("d")
            await kitchen.wait_for_selector("body.is-dense")
    ticket = await kitchen.context.new_page()
    await ticket.add_init_script("window.print = () => {}")
    await ticket.goto(f"/kitchen/demo/orders/{order.public_id}/ticket")
    assert await ticket.evaluate(SMALL_TEXT, ".print-ticket") == []
    assert errors == []
