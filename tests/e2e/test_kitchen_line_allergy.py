"""On a 1024x768 tablet a line's allergy reads as its line's: inside the line's box, right
under its dish's name, naming the dish. Outside try: Burrata's "⚠ ALLERGY: HAZELNUTS" sat at
the foot of its line, just above "1 x Margherita pizza", and a cook could give it to the
pizza. On the board, in dense mode and on the printed ticket."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.browser import box_inside, tablet_kitchen
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
TABLET = {"width": 1024, "height": 768}
# The Burrata line's and its allergy badge's boxes, the dish name's, the next line's, and the
# badge's words and accessible name.
GEOMETRY = """([list, badge, dish]) => {
  const box = el => { const r = el.getBoundingClientRect();
    return {x: r.x, y: r.y, width: r.width, height: r.height}; };
  const lines = Array.from(document.querySelectorAll(list + ' > li'));
  const own = lines.find(li => li.textContent.includes('Burrata'));
  const next = lines[lines.indexOf(own) + 1];
  const mark = own.querySelector(badge);
  const name = own.querySelector(dish);
  return {line: box(own), badge: box(mark), name: box(name), next: box(next),
          words: mark.textContent.replace(/\\s+/g, ' ').trim(),
          label: mark.getAttribute('aria-label') || ''};
}"""


def check(found: dict[str, Any], where: str) -> None:
    assert box_inside(found["badge"], found["line"]), (where, found)
    # right under the dish's name, not at the line's foot by the next dish
    gap = found["badge"]["y"] - (found["name"]["y"] + found["name"]["height"])
    assert -1 <= gap <= 8, (where, found)
    assert found["badge"]["y"] + found["badge"]["height"] < found["next"]["y"] - 8, (where, found)
    assert "Burrata: hazelnuts" in found["words"], (where, found)
    assert found["label"] == "Allergy for Burrata: hazelnuts", (where, found)


async def test_a_line_allergy_sits_in_its_line_and_names_its_dish(
        browser: Any, web: RunningProcess) -> None:
    order = await make_paid_order(
        allergy="tree nuts, severe", link_menu=True, line_allergies={"Burrata": "hazelnuts"},
        items=[("Burrata", 1150, 1, "no peaches"), ("Margherita pizza", 1100, 1, "")])
    errors: list[str] = []
    kitchen = await tablet_kitchen(browser, web.url, errors, viewport=TABLET, tickets=1)
    lines = f"#card-{order.public_id} .lines"
    # "D" works once service has started (the overlay goes when the audio has resumed)
    await kitchen.locator("#start-service").wait_for(state="hidden")
    for dense in (False, True):
        check(await kitchen.evaluate(GEOMETRY, [lines, ".allergy", ".item"]),
              "dense" if dense else "board")
        if not dense:
            await kitchen.keyboard.press("d")
            await kitchen.wait_for_selector("body.is-dense")

    ticket = await kitchen.context.new_page()
    await ticket.add_init_script("window.print = () => {}")
    await ticket.set_viewport_size(TABLET)
    await ticket.goto(f"/kitchen/demo/orders/{order.public_id}/ticket")
    # on paper the dish's row starts with its quantity in bold
    check(await ticket.evaluate(GEOMETRY, [".print-ticket ul", ".print-allergy",
                                           ":scope > strong"]), "ticket")
    assert errors == []
