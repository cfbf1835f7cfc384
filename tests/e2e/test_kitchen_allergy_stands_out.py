"""On a late rush every ticket carried red pills ("late by 4 min", the late timer) in the
allergy badge's own white on red, so "⚠ ALLERGY: MILK" no longer stood out (an outside try
with a tablet). Nothing on the board but the allergy badge is filled with its red."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.browser import open_kitchen
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
# Every element on the board filled with the allergy badge's background, by class.
SAME_FILL = """() => {
  const badge = document.querySelector('#board .allergy');
  const red = getComputedStyle(badge).backgroundColor;
  return [red, Array.from(document.querySelectorAll('#board *'))
    .filter(el => getComputedStyle(el).backgroundColor === red)
    .map(el => el.className || el.tagName)];
}"""


async def test_nothing_but_the_allergy_badge_wears_its_red_on_a_late_ticket(
        browser: Any, web: RunningProcess) -> None:
    now = datetime.now(UTC)
    await make_paid_order(status="accepted", allergy="milk", paid_at=now - timedelta(minutes=30),
                          accepted_at=now - timedelta(minutes=29),
                          promised_at=now - timedelta(minutes=4), prep_minutes=25)
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.locator("#board .late", has_text="late by").wait_for()
    red, filled = await kitchen.evaluate(SAME_FILL)
    assert red == "rgb(224, 49, 49)"
    assert filled and all("allergy" in name for name in filled), filled
    # the late ticket still says so in red, as an outline and red text on the card
    late = await kitchen.locator("#board .late").evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(el).borderTopColor]")
    assert red in late, late
    assert errors == []
