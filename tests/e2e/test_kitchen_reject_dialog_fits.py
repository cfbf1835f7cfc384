"""The reject dialog fits the screen it opens on: on a phone (390 and 320 px wide) the reason
boxes and the "Other" field ran past the dialog's right edge, cut off; on a tablet and a
1280 px screen it keeps its look. Real Chromium, a real `orderpass web`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.browser import open_kitchen
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser

# What of the open dialog lies outside its content box (inside its border), and whether it
# scrolls sideways.
OVERFLOW = """() => {
  const dialog = document.getElementById('reject-dialog');
  const box = dialog.getBoundingClientRect(), style = getComputedStyle(dialog);
  const left = box.left + parseFloat(style.borderLeftWidth);
  const right = box.right - parseFloat(style.borderRightWidth);
  const problems = [];
  const parts = dialog.querySelectorAll('h2, p, fieldset, legend, label, input, button');
  for (const el of parts) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // hidden (the error line)
    const name = el.tagName + (el.id ? '#' + el.id : '') + ' ' + (el.textContent.trim()
      || el.type || '').slice(0, 24);
    if (r.left < left - .5 || r.right > right + .5)
      problems.push(name + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right)
                    + ' outside ' + Math.round(left) + '..' + Math.round(right));
  }
  return {problems, scrollWidth: dialog.scrollWidth, clientWidth: dialog.clientWidth,
          page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          right: box.right, viewport: window.innerWidth};
}"""


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 320, "height": 640},
                                      {"width": 1024, "height": 768},
                                      {"width": 1280, "height": 800}],
                         ids=lambda v: f"{v['width']}x{v['height']}")
async def test_the_reject_dialog_fits_inside_itself_and_the_screen(
        browser: Any, web: RunningProcess, viewport: dict[str, int]) -> None:
    order = await make_paid_order()
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.set_viewport_size(viewport)
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.click("#start-service-button")
        await kitchen.wait_for_selector("#start-service", state="hidden")
    await kitchen.locator(f"#card-{order.public_id} .reject-open").click()
    await kitchen.wait_for_selector("#reject-dialog[open]")
    # the "Other" reason chosen and a long one typed: its field shows, still inside
    await kitchen.locator("#reject-other").fill("The oven broke down and the technician "
                                                "cannot come before tomorrow morning")
    # and a reason the server would refuse: the message line shows too
    await kitchen.locator("#reject-other").fill("x" * 400)
    await kitchen.click("#reject-confirm")
    await kitchen.locator("#reject-error").wait_for()

    seen = await kitchen.evaluate(OVERFLOW)
    assert seen["problems"] == [], seen
    assert seen["scrollWidth"] <= seen["clientWidth"], seen
    assert seen["right"] <= seen["viewport"], seen
    # the controls stay big enough to tap, and the choices readable on one or more lines
    for reason in await kitchen.locator("#reject-dialog .reason").all():
        box = await reason.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 200, box
    other = await kitchen.locator("#reject-other").bounding_box()
    assert other is not None and other["width"] >= 120, other
    if viewport["width"] >= 1024:  # the dialog keeps its width on a tablet and up
        width = await kitchen.evaluate(
            "document.getElementById('reject-dialog').getBoundingClientRect().width")
        assert width >= 560, width
    assert errors == []
