"""On a portrait tablet (one column) the screen's messages about no one ticket, the reject's
result and the toast, show where the cook is looking: at the foot of the screen, above
"+N more", wherever the board is scrolled. They sat above the board, at the top of a page
the cook had scrolled down: a reject's "#12 rejected; refunded" was never seen (a helper's
note after the "+N more" fix). A tap on the toast puts it away. Real Chromium with touch."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.browser import A_LOOK_MS, tablet_kitchen
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PORTRAIT = {"width": 768, "height": 1024}
IN_VIEW = """id => { const r = document.getElementById(id).getBoundingClientRect();
  const more = document.getElementById('more-below');
  const floor = more.hidden ? window.innerHeight : more.getBoundingClientRect().top;
  return {top: r.top, bottom: r.bottom, floor: floor, screen: window.innerHeight}; }"""


async def test_a_rejects_result_and_the_toast_show_at_the_foot_of_a_scrolled_board(
        browser: Any, web: RunningProcess) -> None:
    orders = [await make_paid_order() for _ in range(14)]
    errors: list[str] = []
    kitchen = await tablet_kitchen(browser, web.url, errors, viewport=PORTRAIT, tickets=14)
    await kitchen.mouse.move(200, 500)
    await kitchen.mouse.wheel(0, 1500)
    await kitchen.wait_for_timeout(A_LOOK_MS)
    assert await kitchen.evaluate("window.scrollY + document.body.scrollTop") > 600

    # A ticket whose Reject is in view, far down the board.
    ref = await kitchen.evaluate("""() => {
      const more = document.getElementById('more-below');
      const floor = more.hidden ? window.innerHeight : more.getBoundingClientRect().top;
      const card = Array.from(document.querySelectorAll('#board .order-card')).reverse().find(c => {
        const r = c.querySelector('.reject-open').getBoundingClientRect();
        return r.top > 0 && r.bottom < floor; });
      return card.dataset.ref; }""")
    number = next(order.ticket_number for order in orders if order.public_id == ref)
    await kitchen.locator(f"#card-{ref} .reject-open").tap()
    await kitchen.wait_for_selector("#reject-dialog[open]")
    await kitchen.fill("#reject-other", "Out of dough")
    await kitchen.click("#reject-confirm")
    result = kitchen.locator("#result")
    await result.wait_for(state="visible", timeout=15_000)
    assert f"#{number} rejected" in await result.inner_text()
    seen = await kitchen.evaluate(IN_VIEW, "result")
    assert seen["top"] >= 0 and seen["bottom"] <= seen["floor"] + 1, seen
    assert seen["bottom"] >= seen["screen"] * 0.6, seen  # at the foot, not the top
    await kitchen.locator("#result-close").tap()
    await result.wait_for(state="hidden")

    # The toast (a press held back: the ticket moved under the finger) shows there too.
    await kitchen.evaluate("""() => { const t = document.getElementById('toast');
      t.textContent = 'a message'; t.hidden = false; }""")
    seen = await kitchen.evaluate(IN_VIEW, "toast")
    assert seen["top"] >= 0 and seen["bottom"] <= seen["floor"] + 1, seen
    assert seen["bottom"] >= seen["screen"] * 0.6, seen
    await kitchen.locator("#toast").tap()
    await kitchen.locator("#toast").wait_for(state="hidden", timeout=2_000)
    assert errors == []
