"""A cook's press that takes its time (a slow network, a server riding out a Postgres
hiccup) shows that it is on its way, and a second tap sends nothing: real Chromium, a real
`orderpass web`, the press's request held in the browser until the test lets it go."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.orders.tables import PaidOrder
from tests.helpers.browser import hold_requests, open_kitchen
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser


async def _screen_with(browser: Any, web: RunningProcess, order: PaidOrder,
                       errors: list[str]) -> tuple[Any, Any]:
    """A kitchen screen in service (past "Start service") and the order's card on it."""
    kitchen = await open_kitchen(browser, web.url, errors)
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.click("#start-service-button")
    return kitchen, kitchen.locator(f"#card-{order.public_id}")


async def test_an_accept_on_its_way_shows_it_and_a_second_tap_sends_nothing(
        browser: Any, web: RunningProcess) -> None:
    order = await make_paid_order()
    errors: list[str] = []
    kitchen, card = await _screen_with(browser, web, order, errors)
    accept = card.locator(".act-accept button[type=submit]")
    await accept.wait_for()

    held = await hold_requests(kitchen, f"**/orders/{order.public_id}/accept")
    presses = held.urls
    await accept.click()
    await held.first_sent()
    # on its way: the button is disabled and its form busy (dimmed, "Accept…")
    assert await accept.is_disabled()
    assert await card.locator(".act-accept").get_attribute("aria-busy") == "true"
    assert (await accept.evaluate(
        "b => getComputedStyle(b, '::after').content")) == '"\u2026"'
    await accept.click(force=True)  # the double tap: a disabled button sends nothing
    await asyncio.sleep(0.3)
    assert len(presses) == 1

    held.release()
    await kitchen.wait_for_selector(f"#card-{order.public_id}[data-status=accepted]",
                                    timeout=10_000)
    assert not await kitchen.locator("#toast").is_visible()  # no "already accepted" error
    saved = await PaidOrder.select(PaidOrder.status).where(PaidOrder.id == order.id).first()
    assert saved is not None and saved["status"] == "accepted"
    assert len(presses) == 1
    assert errors == []


async def test_a_busy_time_on_its_way_holds_every_control_and_marks_the_one_pressed(
        browser: Any, web: RunningProcess) -> None:
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.click("#start-service-button")
    await kitchen.click("#controls-open")
    plus = kitchen.locator("#controls button[name=minutes]:not([value='0'])").first
    await plus.wait_for()
    held = await hold_requests(kitchen, "**/kitchen/demo/busy")
    await plus.click()
    await held.first_sent()
    enabled = await kitchen.locator("#controls button:enabled").count()
    assert enabled == 0  # pause, busy and 86 wait for the answer that replaces them
    assert await plus.get_attribute("data-pressed") == ""
    assert await kitchen.locator("#controls [data-pressed]").count() == 1
    held.release()
    await kitchen.wait_for_selector("#controls button[aria-pressed=true]:not([value='0'])",
                                    timeout=10_000)
    assert await kitchen.locator("#controls button:enabled").count() > 0
    # the level now on looks on: filled, where the others stay outlined
    background = "b => getComputedStyle(b).backgroundColor"
    on = await kitchen.locator("#controls button[aria-pressed=true]").evaluate(background)
    off = await kitchen.locator("#controls button[name=minutes][aria-pressed=false]").first \
        .evaluate(background)
    assert on != off, (on, off)
    assert errors == []


async def _status(order_id: int) -> str:
    saved = await PaidOrder.select(PaidOrder.status).where(PaidOrder.id == order_id).first()
    assert saved is not None
    return str(saved["status"])


# Once the ticket shows `status`, press again after `delay` ms: a tap at (x, y) or Enter on
# the focused ticket, as a double tap or a double Enter would. `window.__again` is then the
# ms between the change and the second press.
AGAIN_AFTER_CHANGE = """([ref, status, delay, how, x, y]) => {
  window.__again = undefined;
  const shown = () => document.querySelector(`#card-${ref}[data-status=${status}]`);
  const observer = new MutationObserver(() => {
    if (!shown()) return;
    observer.disconnect();
    const changed = performance.now();
    setTimeout(() => {
      if (how === "tap") document.elementFromPoint(x, y).click();
      else (document.activeElement || document.body).dispatchEvent(
        new KeyboardEvent("keydown", {key: "Enter", bubbles: true, cancelable: true}));
      window.__again = performance.now() - changed;
    }, delay);
  });
  observer.observe(document.body, {subtree: true, childList: true, attributes: true,
                                   attributeFilter: ["data-status"]});
}"""


async def test_a_double_tap_after_the_answer_moves_the_ticket_one_step(
        browser: Any, web: RunningProcess) -> None:
    """The first press's answer comes back in a few tens of milliseconds and puts the next
    button (Ready after Start) under the finger: a double tap, or Enter pressed twice, must
    not move the order a second step and tell the diner "ready" while it is being made."""
    order = await make_paid_order()
    errors: list[str] = []
    kitchen, card = await _screen_with(browser, web, order, errors)
    await card.locator(".act-accept button[type=submit]").wait_for()
    await asyncio.sleep(1)  # the ticket has been on the screen a while

    await card.locator(".act-accept button[type=submit]").click()
    await kitchen.wait_for_selector(f"#card-{order.public_id}[data-status=accepted]",
                                    timeout=10_000)
    await asyncio.sleep(1)
    start = card.locator(".act-start button[type=submit]")
    box = await start.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # Start, then the same spot 150 ms after the answer changed the ticket. The second tap
    # is timed in the page, from the change itself: timed from here, a loaded machine's
    # round trips put it past the settling time, where a press rightly goes through.
    await kitchen.evaluate(AGAIN_AFTER_CHANGE, [order.public_id, "preparing", 150,
                                                "tap", x, y])
    await kitchen.mouse.click(x, y)
    await kitchen.wait_for_function("() => window.__again !== undefined", timeout=10_000)
    await asyncio.sleep(1)
    assert await _status(order.id) == "preparing"

    # Enter twice on the selected ticket: one step (ready), not two (completed).
    await card.focus()
    await kitchen.evaluate(AGAIN_AFTER_CHANGE, [order.public_id, "ready", 100, "enter", 0, 0])
    await kitchen.keyboard.press("Enter")
    await kitchen.wait_for_function("() => window.__again !== undefined", timeout=10_000)
    await asyncio.sleep(1)
    assert await _status(order.id) == "ready"
    # A press after the ticket has settled goes through as ever.
    await card.focus()
    await kitchen.keyboard.press("Enter")
    await asyncio.sleep(1)
    assert await _status(order.id) == "completed"
    assert errors == []
