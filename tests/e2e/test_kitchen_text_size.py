"""A ticket is read at arm's length: no text on it is smaller than 16 px. The table label
("Terrasse hinten, Tisch 14"), the fulfilment badge and the order note's label were 12.8 px
(an outside try with a tablet)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.browser import open_kitchen
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
SMALL_TEXT = """ref => {
  const card = document.getElementById('card-' + ref);
  const small = [];
  const walker = document.createTreeWalker(card, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el.offsetParent) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 16) small.push(node.textContent.trim().slice(0, 30) + ' ' + size + 'px');
  }
  return small;
}"""


async def test_no_text_on_a_ticket_is_below_16_px(browser: Any, web: RunningProcess) -> None:
    order = await make_paid_order(fulfillment="dine_in", table_label="Terrasse hinten, Tisch 14",
                                  notes="No onions at all")
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.locator(f"#card-{order.public_id}").wait_for()
    assert await kitchen.evaluate(SMALL_TEXT, order.public_id) == []
    assert errors == []
