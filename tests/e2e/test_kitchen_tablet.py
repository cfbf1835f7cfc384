"""A kitchen tablet in landscape (1024x768): the "+N more" control never lies over a ticket's
buttons (it sat on top of an Accept button, so a cook tapped "more" instead of Accept), and
the header stays on one line when "Acknowledge new order" appears (it wrapped to two), and
the side column's last entry can be read clear of it, also when notices push the column
down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.browser import open_kitchen
from tests.helpers.hours import next_slot
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
TABLET_LANDSCAPE = {"width": 1024, "height": 768}

# At one scroll position: every ticket button on screen is clear of "+N more" and is itself
# what a tap at its centre reaches.
COVERED_BUTTONS = """async (y) => {
  window.scrollTo(0, y);
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  const more = document.getElementById('more-below');
  if (more.hidden) return {more: false, problems: []};
  const m = more.getBoundingClientRect();
  const problems = [];
  for (const el of document.querySelectorAll('#board .order-card .actions button')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.bottom <= 0 || r.top >= window.innerHeight) continue;
    const name = el.closest('.order-card').dataset.number + ' ' + el.textContent.trim();
    if (r.left < m.right && m.left < r.right && r.top < m.bottom && m.top < r.bottom)
      problems.push(name + ' under "+N more" at scroll ' + window.scrollY);
    if (r.top < 0 || r.bottom > window.innerHeight) continue;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!(hit === el || el.contains(hit)))
      problems.push(name + ' covered by ' + (hit ? hit.outerHTML.slice(0, 60) : 'nothing'));
  }
  return {more: true, problems: problems};
}"""
# How far apart the middles of the header's items are: 0 on one line.
HEADER_SPREAD = """() => {
  const middles = Array.from(document.querySelectorAll('.site-header > *, .kitchen-bar > *'))
    .filter(el => el.offsetParent !== null)
    .map(el => { const r = el.getBoundingClientRect(); return r.top + r.height / 2; });
  return Math.max(...middles) - Math.min(...middles);
}"""


async def test_more_below_never_covers_a_ticket_button_at_1024(browser: Any,
                                                              web: RunningProcess) -> None:
    one_line = [("Margherita pizza", 1100, 1, "")]
    for index in range(12):  # new tickets (Accept, Reject) of different heights
        await make_paid_order(items=None if index % 3 else one_line)
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.set_viewport_size(TABLET_LANDSCAPE)
    await kitchen.wait_for_function(
        "() => document.querySelectorAll('#board .order-card').length === 12")
    await kitchen.locator("#more-below").wait_for(state="visible")
    end = await kitchen.evaluate(
        "document.documentElement.scrollHeight - window.innerHeight")
    assert end > 0
    seen_more = 0
    for y in range(0, end + 1, 24):  # every ticket passes the bottom of the screen
        at = await kitchen.evaluate(COVERED_BUTTONS, y)
        assert at["problems"] == [], at["problems"]
        seen_more += at["more"]
    assert seen_more > 5  # the control was on screen while the tickets moved under it
    assert errors == []


async def test_the_header_stays_one_line_with_acknowledge_at_1024(browser: Any,
                                                                  web: RunningProcess) -> None:
    await make_paid_order()
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.set_viewport_size(TABLET_LANDSCAPE)
    ack = kitchen.locator("#alarm-ack")
    await ack.wait_for(state="visible")  # a new order asks for attention
    header = kitchen.locator(".site-header")
    with_ack = await header.bounding_box()
    assert with_ack is not None
    assert await kitchen.evaluate(HEADER_SPREAD) <= 2
    await ack.click()
    await ack.wait_for(state="hidden")
    without_ack = await header.bounding_box()
    assert without_ack is not None
    assert with_ack["height"] <= without_ack["height"] + 0.5, (with_ack, without_ack)
    assert await kitchen.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    assert errors == []


async def test_the_last_scheduled_order_can_be_read_clear_of_more_below(
        browser: Any, web: RunningProcess) -> None:
    """"+N more" sits over the side column's foot: with a long "Scheduled" list its last
    entry lay under the button. The column scrolls on its own and ends with room for it."""
    for index in range(10):
        await make_paid_order()
        await make_paid_order(scheduled_for=next_slot(
            datetime.now(UTC) + timedelta(days=1, hours=index)), prep_minutes=15)
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.set_viewport_size(TABLET_LANDSCAPE)
    await kitchen.wait_for_function(
        "() => document.querySelectorAll('#scheduled-orders li').length === 10")
    await kitchen.locator("#more-below").wait_for(state="visible")
    clear_of_more = """async () => {
      await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
      const more = document.getElementById('more-below');
      const entries = document.querySelectorAll('#scheduled-orders li');
      const r = entries[entries.length - 1].getBoundingClientRect();
      const m = more.getBoundingClientRect();
      return !more.hidden && r.bottom <= window.innerHeight
        && (r.bottom <= m.top || r.top >= m.bottom);
    }"""
    await kitchen.evaluate("""() => {
      window.scrollTo(0, 120);  // the cook has scrolled the board a little: the side sticks
      const side = document.querySelector('.side');
      side.scrollTop = side.scrollHeight;
    }""")
    assert await kitchen.evaluate(clear_of_more)
    # A whole board (a resync after a reconnect; the one sent on connect may come now too)
    # keeps the cook's place in the list.
    generated = await kitchen.evaluate("() => document.querySelector('.board').dataset.generatedAt")
    await kitchen.evaluate("() => htmx.ajax('GET', '/kitchen/demo/board', "
                           "{target: '#board', swap: 'innerHTML'})")
    await kitchen.wait_for_function(
        f"() => document.querySelector('.board').dataset.generatedAt !== '{generated}'")
    assert await kitchen.evaluate(clear_of_more)
    assert errors == []


async def test_notices_above_the_board_leave_the_side_column_on_screen(
        browser: Any, web: RunningProcess) -> None:
    """Notices push the board down; the side column kept the screen's height below them,
    so its foot (the last scheduled order) lay below the screen and the cook had to scroll
    the page and then the column. Now it ends at the screen's foot, and follows when the
    notices go."""
    now = datetime.now(UTC)
    for index in range(3):
        await make_paid_order(status="refunded", auto_rejected=True,
                              rejected_at=now - timedelta(minutes=index), refunded_at=now)
    for index in range(10):
        await make_paid_order(scheduled_for=next_slot(
            now + timedelta(days=1, hours=index)), prep_minutes=15)
    await make_paid_order()
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.set_viewport_size(TABLET_LANDSCAPE)
    await kitchen.wait_for_function(
        "() => document.querySelectorAll('#scheduled-orders li').length === 10"
        " && document.querySelectorAll('.notice-auto-reject').length === 3")
    # A whole-board frame (on connect, after an acknowledgement) replaces the column while it
    # is measured: measured again on the fresh one, never on a detached copy (all zeros).
    last_entry_on_screen = """async () => {
      for (;;) {
        window.scrollTo(0, 0);
        await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
        const side = document.querySelector('.side');
        side.scrollTop = side.scrollHeight;
        await new Promise(done => requestAnimationFrame(done));
        const entries = document.querySelectorAll('#scheduled-orders li');
        const last = entries[entries.length - 1];
        if (!side.isConnected || !last.isConnected) continue;
        return {side: side.getBoundingClientRect().bottom,
                last: last.getBoundingClientRect().bottom,
                top: side.getBoundingClientRect().top, screen: window.innerHeight};
      }
    }"""
    seen = await kitchen.evaluate(last_entry_on_screen)
    assert seen["top"] > 200, seen  # three notices above the board
    assert seen["side"] <= seen["screen"] and seen["last"] <= seen["screen"], seen
    # Acknowledged, the notices go: the column starts higher and grows to the foot again.
    drawn = await kitchen.evaluate("() => document.querySelector('.board').dataset.generatedAt")
    await kitchen.locator(".notice-ack").first.click()
    # the press removes the notice at once; the whole board every screen is sent follows
    await kitchen.wait_for_function(
        "drawn => document.querySelectorAll('.notice-auto-reject').length === 2"
        " && document.querySelector('.board').dataset.generatedAt !== drawn", arg=drawn)
    after = await kitchen.evaluate(last_entry_on_screen)
    assert after["top"] < seen["top"], (seen, after)
    assert seen["screen"] - 24 <= after["side"] <= after["screen"], after
    assert errors == []


HEADER_BUTTONS = """() => ['controls-open', 'sound-toggle', 'dense-toggle'].map(id => {
  const r = document.getElementById(id).getBoundingClientRect();
  return [id, Math.round(r.left), Math.round(r.top)];
})"""


@pytest.mark.parametrize("viewport", [{"width": 768, "height": 1024}, TABLET_LANDSCAPE],
                         ids=["portrait", "landscape"])
async def test_the_header_buttons_stay_put_when_acknowledge_comes_and_goes(
        browser: Any, web: RunningProcess, viewport: dict[str, int]) -> None:
    """In portrait "Acknowledge new order" appearing pushed "Menu & pause" along: a tap
    meant for the menu silenced the alarm on every screen (an outside try). Its place in
    the header is kept while it is hidden."""
    await make_paid_order()
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.set_viewport_size(viewport)
    ack = kitchen.locator("#alarm-ack")
    await ack.wait_for(state="visible")  # a new order asks for attention
    with_ack = await kitchen.evaluate(HEADER_BUTTONS)
    await ack.click()
    await ack.wait_for(state="hidden")
    assert await kitchen.evaluate(HEADER_BUTTONS) == with_ack
    # hidden, it is no button: not tabbable, not read out, not hit by a tap
    assert await kitchen.evaluate(
        "() => getComputedStyle(document.getElementById('alarm-ack')).visibility") == "hidden"
    assert errors == []
