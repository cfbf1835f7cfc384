"""The order's progress steps read as one sequence on a phone (outside try: at 390 px the last
step, "Collected", wrapped onto a row of its own and read like a separate thing). At 390x844
and 320x640, in English and in German (longer words: "In Zubereitung", "Karte autorisiert"),
the steps lie all on one row or all in one column, none past the screen's edge, and the
current step is marked for the eye and announced (aria-current="step")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Measured in one go: a live update may swap the block between two separate reads.
STEPS = """() => [...document.querySelectorAll('#order-progress .progress-steps li')].map(li => {
  const r = li.getBoundingClientRect(), style = getComputedStyle(li);
  return {text: li.innerText.trim(), current: li.getAttribute('aria-current'),
          left: r.left, right: r.right, top: r.top, weight: parseInt(style.fontWeight),
          ring: style.boxShadow + ' ' + style.outlineStyle}; })"""

LABELS = {"en": ("Card authorised", "Preparing"), "de": ("Karte autorisiert", "In Zubereitung")}


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844},
                                      {"width": 320, "height": 640}], ids=["390", "320"])
@pytest.mark.parametrize("lang", ["en", "de"])
async def test_the_progress_steps_read_as_one_sequence_on_a_phone(
        browser: Any, web: RunningProcess, viewport: dict[str, int], lang: str) -> None:
    # The longest labels: a card hold ("Karte autorisiert") and "In Zubereitung".
    held = await make_paid_order(status="paid", capture_mode="manual", fulfillment="dine_in",
                                 table_label="7")
    preparing = await make_paid_order(status="preparing")
    page = await browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    hold_label, preparing_label = LABELS[lang]
    for order, current, label in ((held, 1, hold_label), (preparing, 3, preparing_label)):
        await page.goto(f"{web.url}/orders/{order.public_id}?lang={lang}")
        assert await page.get_attribute("html", "lang") == lang
        await page.locator("#order-progress .progress-steps").wait_for()
        steps = await page.evaluate(STEPS)
        where = (lang, viewport["width"], order.status, steps)
        assert len(steps) == 5, where
        one_row = len({round(step["top"]) for step in steps}) == 1
        one_column = len({round(step["left"]) for step in steps}) == 1
        assert one_row or one_column, where
        for step in steps:
            assert step["left"] >= 0 and step["right"] <= viewport["width"], where
        assert await page.evaluate(OVERFLOW) <= 0, where
        # Announced: exactly the current step carries aria-current="step" ...
        assert [index for index, step in enumerate(steps, 1)
                if step["current"] == "step"] == [current], where
        # ... and marked for the eye apart from the other steps (done or still to come).
        mark = steps[current - 1]
        assert mark["text"] == label, where
        for step in steps[:current - 1] + steps[current:]:
            assert (step["weight"], step["ring"]) != (mark["weight"], mark["ring"]), where
    assert errors == []
