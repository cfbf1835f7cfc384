""""+N more ↓" says tickets are below the fold: it sits at the foot of the screen in both
orientations of a tablet, over no ticket's button wherever the board is scrolled, and a tap
on it brings the next hidden ticket into view. In portrait (768x1024) it sat at the top of
the page, above the board, where it said nothing about what lay below and scrolled away
(an outside try). Real Chromium with touch, a real `orderpass web`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.browser import A_LOOK_MS, tablet_kitchen
from tests.helpers.orders import announce_paid, make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PORTRAIT, LANDSCAPE = {"width": 768, "height": 1024}, {"width": 1024, "height": 768}

# Where "+N more" is, and which ticket buttons are drawn where it lies: seen with it out of
# the way, a point of the button there is what a tap would reach (a button scrolled out of
# its scroller's view is not drawn, wherever its box is).
SEEN = """async () => {
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  const more = document.getElementById('more-below'), m = more.getBoundingClientRect();
  const problems = [];
  more.style.visibility = 'hidden';
  for (const el of document.querySelectorAll('#board .order-card .actions button')) {
    const r = el.getBoundingClientRect();
    const left = Math.max(r.left, m.left), right = Math.min(r.right, m.right);
    const top = Math.max(r.top, m.top), bottom = Math.min(r.bottom, m.bottom);
    if (more.hidden || left >= right || top >= bottom) continue;
    for (const fx of [0.1, 0.5, 0.9]) for (const fy of [0.1, 0.5, 0.9]) {
      const hit = document.elementFromPoint(left + (right - left) * fx, top + (bottom - top) * fy);
      if (hit && (hit === el || el.contains(hit))) {
        problems.push('#' + el.closest('.order-card').dataset.number + ' '
                      + el.textContent.trim() + ' under "+N more"');
      }
    }
  }
  more.style.visibility = '';
  return {shown: !more.hidden, top: m.top, bottom: m.bottom, screen: window.innerHeight,
          problems: [...new Set(problems)]};
}"""
# A ticket's foot if it is in view whole, not under "+N more"; else null.
FOOT = """card => {
  const more = document.getElementById('more-below'), m = more.getBoundingClientRect();
  const r = card.getBoundingClientRect();
  const under = !more.hidden && r.left < m.right && m.left < r.right;
  return r.bottom <= (under ? m.top : window.innerHeight) + 1 ? r.bottom : null;  // subpixels
}"""


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
async def test_more_below_sits_at_the_foot_of_the_screen_clear_of_every_button(
        browser: Any, web: RunningProcess, viewport: dict[str, int]) -> None:
    one_line = [("Margherita pizza", 1100, 1, "")]
    for index in range(14):  # new tickets (Accept, Reject) of different heights
        await make_paid_order(items=None if index % 3 else one_line)
    errors: list[str] = []
    kitchen = await tablet_kitchen(browser, web.url, errors, viewport=viewport, tickets=14)
    more = kitchen.locator("#more-below")
    await more.wait_for(state="visible")

    seen = await kitchen.evaluate(SEEN)
    assert seen["screen"] - 32 <= seen["bottom"] <= seen["screen"], seen  # at the foot
    assert seen["problems"] == [], seen["problems"]

    # A tap brings the first ticket below the fold into view, whole, above "+N more".
    hidden = await kitchen.evaluate(f"() => Array.from(document.querySelectorAll("
                                    f"'#board .order-card')).filter(c => ({FOOT})(c) === null)"
                                    ".map(c => c.id)")
    assert hidden
    await more.tap()
    await kitchen.wait_for_function(
        f"id => {{ const c = document.getElementById(id), foot = ({FOOT})(c);"
        "  return c.classList.contains('is-selected') && foot !== null"
        "    && c.getBoundingClientRect().top >= 0; }", arg=hidden[0], timeout=5_000)

    # Scrolled down the board step by step, it stays at the foot, over no button, until the
    # last ticket is in view.
    width = viewport["width"]
    steps = shown = 0
    while steps < 80:
        seen = await kitchen.evaluate(SEEN)
        assert seen["problems"] == [], (steps, seen["problems"])
        if not seen["shown"]:
            break
        shown += 1
        assert seen["screen"] - 32 <= seen["bottom"] <= seen["screen"], seen
        await kitchen.mouse.move(width * 0.25, viewport["height"] / 2)  # over the tickets
        await kitchen.mouse.wheel(0, 90)
        steps += 1
    assert shown > 3 and not seen["shown"], (steps, seen)
    assert errors == []


async def test_a_press_after_scrolling_the_portrait_board_goes_through(
        browser: Any, web: RunningProcess) -> None:
    """On one column the board scrolls in the body, not the page: the tickets scrolled by the
    cook have not moved under their finger (the guard against presses on tickets that just
    moved took every ticket for moved at the next frame, and refused the press)."""
    for _ in range(14):
        await make_paid_order()
    errors: list[str] = []
    kitchen = await tablet_kitchen(browser, web.url, errors, viewport=PORTRAIT, tickets=14)
    await kitchen.mouse.move(200, 500)
    await kitchen.mouse.wheel(0, 700)
    await kitchen.wait_for_timeout(A_LOOK_MS)
    scrolled = await kitchen.evaluate("window.scrollY + document.body.scrollTop")
    assert scrolled > 300, scrolled

    newcomer = await make_paid_order()  # the newest sorts last: no ticket on screen moves
    await announce_paid(newcomer)
    await kitchen.locator(f"#card-{newcomer.public_id}").wait_for(state="attached",
                                                                  timeout=10_000)
    ref = await kitchen.evaluate("""() => {  // a ticket whose Accept is in view, whole
      const more = document.getElementById('more-below').getBoundingClientRect();
      const card = Array.from(document.querySelectorAll('#board .order-card')).find(c => {
        const r = c.querySelector('.act-accept button[type=submit]').getBoundingClientRect();
        return r.top > 0 && r.bottom < more.top; });
      return card.dataset.ref; }""")
    await kitchen.locator(f"#card-{ref} .act-accept button[type=submit]").tap()
    await kitchen.wait_for_selector(f"#card-{ref}[data-status=accepted]", timeout=5_000)
    assert not await kitchen.locator("#toast").is_visible()
    assert errors == []
