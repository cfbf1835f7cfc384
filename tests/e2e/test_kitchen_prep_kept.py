"""A prep time the cook typed on a new ticket, before pressing Accept, is the one promised to
the diner: no board update puts the default back under the cook's fingers. The `tickets`
patches (which replace the changed cards), whole boards (an 86, a busy time, a resync) and
htmx swaps of #board all keep the typed value, and the focus and caret in the field. A field
the cook did not touch follows the server: a busy time shows its new default. Real Chromium,
a real `orderpass web`, at 1024x768 (a kitchen tablet)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from redis.asyncio import Redis

from app.live.feed import publish_order_event
from app.orders.tables import PaidOrder
from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.browser import A_LOOK_MS, logged_in_context, open_kitchen
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
TABLET_LANDSCAPE = {"width": 1024, "height": 768}
KITCHEN = "kitchen@demo.test"

# Every live frame the screen receives, by type, and whether it names a ticket.
WATCH_FRAMES = """() => {
  window.__frames = [];
  document.getElementById('board').addEventListener('htmx:sseBeforeMessage', (event) => {
    window.__frames.push({type: event.detail.type, data: event.detail.data});
  });
}"""
FRAMES_SINCE = """([count, type, ref]) => window.__frames.slice(count).some(
  f => f.type === type && (!ref || f.data.includes(ref)))"""
SETTLED = "() => new Promise(done => setTimeout(done, 150))"  # past htmx's settle delay


class Staff:
    """Another screen of the same kitchen: its own logged-in session, posting the floor
    controls (86, busy) as the "Menu & pause" dialog does."""

    def __init__(self, context: Any, token: str) -> None:
        self.context, self.token = context, token

    @classmethod
    async def open(cls, browser: Any, web: RunningProcess) -> Staff:
        context = await logged_in_context(browser, web.url, KITCHEN)
        token = next(cookie["value"] for cookie in await context.cookies()
                     if cookie["name"] == "csrftoken")
        return cls(context, token)

    async def post(self, path: str, form: dict[str, str]) -> None:
        response = await self.context.request.post(path, form=form, headers={
            "x-csrftoken": self.token, "HX-Request": "true"})
        assert response.status == 200, await response.text()


async def open_screen(browser: Any, web: RunningProcess, errors: list[str]) -> Any:
    kitchen = await open_kitchen(browser, web.url, errors)
    await kitchen.set_viewport_size(TABLET_LANDSCAPE)
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.click("#start-service-button")
        await kitchen.wait_for_selector("#start-service", state="hidden")
    await kitchen.evaluate(WATCH_FRAMES)
    return kitchen


async def frame(kitchen: Any, type_: str, ref: str = "") -> None:
    """Wait for the next live frame of `type_` (naming `ref`), then for it to settle."""
    count = await kitchen.evaluate("window.__frames.length")
    return await frame_after(kitchen, count, type_, ref)


async def frame_after(kitchen: Any, count: int, type_: str, ref: str = "") -> None:
    await kitchen.wait_for_function(FRAMES_SINCE, arg=[count, type_, ref], timeout=10_000)
    await kitchen.evaluate(SETTLED)


async def publish(order: PaidOrder, event: str = "order.updated") -> None:
    """An order event naming `order`: the screens get a `tickets` patch with its card."""
    redis = Redis.from_url(os.environ["REDIS_URL"])
    try:
        await publish_order_event(redis, order.restaurant, order.public_id, event)
    finally:
        await redis.aclose()


def focused_in(ref: str) -> str:
    return (f"() => document.activeElement === "
            f"document.querySelector('#card-{ref} input[name=prep_minutes]')")


async def test_a_typed_prep_time_survives_every_board_update_and_is_the_one_promised(
        browser: Any, web: RunningProcess) -> None:
    order = await make_paid_order()
    other = await make_paid_order()
    errors: list[str] = []
    kitchen = await open_screen(browser, web, errors)
    prep = kitchen.locator(f"#card-{order.public_id} input[name=prep_minutes]")
    await prep.wait_for()
    default = await prep.input_value()
    assert default not in ("", "30")

    await prep.click(click_count=3)
    await kitchen.keyboard.type("3")
    assert await prep.input_value() == "3"

    # (a) a `tickets` patch that replaces this very card
    count = await kitchen.evaluate("window.__frames.length")
    await publish(order)
    await frame_after(kitchen, count, "tickets", order.public_id)
    assert await prep.input_value() == "3"
    assert await kitchen.evaluate(focused_in(order.public_id))
    await kitchen.keyboard.type("0")  # the caret is where the cook left it: "30", not "03"
    assert await prep.input_value() == "30"

    # (b) a whole board swapped into #board by htmx
    await kitchen.evaluate("""() => htmx.ajax('GET', '/kitchen/demo/board',
                                              {target: '#board', swap: 'innerHTML'})""")
    await kitchen.evaluate(SETTLED)
    assert await prep.input_value() == "30"
    assert await kitchen.evaluate(focused_in(order.public_id))

    # (c) another screen marks an unrelated dish sold out: a whole `board` frame
    staff = await Staff.open(browser, web)
    dish = await MenuItem.objects().get(MenuItem.name == "Burrata")
    assert dish is not None
    count = await kitchen.evaluate("window.__frames.length")
    await staff.post(f"/kitchen/demo/menu/{dish.id}/availability", {"available": "0"})
    await frame_after(kitchen, count, "board", order.public_id)
    assert await prep.input_value() == "30"
    assert await kitchen.evaluate(focused_in(order.public_id))
    assert await kitchen.evaluate("document.activeElement.tagName") == "INPUT"

    # (d) the cook looks at another ticket; this one's card is patched meanwhile
    await kitchen.locator(f"#card-{other.public_id} .ticket-no").click()
    assert not await kitchen.evaluate(focused_in(order.public_id))
    count = await kitchen.evaluate("window.__frames.length")
    await publish(order)
    await frame_after(kitchen, count, "tickets", order.public_id)
    assert await prep.input_value() == "30"
    await kitchen.evaluate("""() => htmx.ajax('GET', '/kitchen/demo/board',
                                              {target: '#board', swap: 'innerHTML'})""")
    await kitchen.evaluate(SETTLED)
    assert await prep.input_value() == "30"

    # Accept promises what the cook typed
    await kitchen.wait_for_timeout(A_LOOK_MS)  # the board may have moved with a frame
    await kitchen.locator(f"#card-{order.public_id} .act-accept button[type=submit]").click()
    await kitchen.wait_for_selector(f"#card-{order.public_id}[data-status=accepted]",
                                    timeout=10_000)
    saved = await PaidOrder.objects().get(PaidOrder.id == order.id)
    assert saved is not None and saved.status == "accepted"
    assert saved.prep_minutes == 30
    # the other ticket, never touched, still offers the default
    assert await kitchen.locator(
        f"#card-{other.public_id} input[name=prep_minutes]").input_value() == default
    assert errors == []
    await staff.context.close()


async def test_a_busy_time_shows_its_default_where_nothing_was_typed_and_keeps_typed_ones(
        browser: Any, web: RunningProcess) -> None:
    untouched = await make_paid_order()
    typed = await make_paid_order()
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    default = restaurant.default_prep_minutes + restaurant.busy_minutes
    errors: list[str] = []
    kitchen = await open_screen(browser, web, errors)
    plain = kitchen.locator(f"#card-{untouched.public_id} input[name=prep_minutes]")
    mine = kitchen.locator(f"#card-{typed.public_id} input[name=prep_minutes]")
    await mine.wait_for()
    assert await plain.input_value() == str(default)
    await mine.click(click_count=3)
    await kitchen.keyboard.type("45")

    staff = await Staff.open(browser, web)
    count = await kitchen.evaluate("window.__frames.length")
    await staff.post("/kitchen/demo/busy", {"minutes": "10"})
    await frame_after(kitchen, count, "board", typed.public_id)
    assert await plain.input_value() == str(default + 10)  # the server's new default shows
    assert await mine.input_value() == "45"  # what the cook typed stays
    assert await kitchen.evaluate(focused_in(typed.public_id))

    # a field the cook put back to the default follows the server again
    await mine.click(click_count=3)
    await kitchen.keyboard.type(str(default + 10))
    count = await kitchen.evaluate("window.__frames.length")
    await staff.post("/kitchen/demo/busy", {"minutes": "20"})
    await frame_after(kitchen, count, "board", typed.public_id)
    assert await plain.input_value() == str(default + 20)
    assert await mine.input_value() == str(default + 20)

    await kitchen.wait_for_timeout(A_LOOK_MS)  # the busy banner moved the tickets down
    await kitchen.locator(f"#card-{untouched.public_id} .act-accept button[type=submit]").click()
    await kitchen.wait_for_selector(f"#card-{untouched.public_id}[data-status=accepted]",
                                    timeout=10_000)
    saved = await PaidOrder.objects().get(PaidOrder.id == untouched.id)
    assert saved is not None and saved.prep_minutes == default + 20

    # the tester's path: typed, then "Busy" pressed in this screen's own "Menu & pause"
    await mine.click(click_count=3)
    await kitchen.keyboard.type("50")
    await kitchen.click("#controls-open")
    count = await kitchen.evaluate("window.__frames.length")
    await kitchen.locator("#controls button[name=minutes][value='30']").click()
    await frame_after(kitchen, count, "board", typed.public_id)
    await kitchen.click("#controls-close")
    assert await mine.input_value() == "50"
    await kitchen.wait_for_timeout(A_LOOK_MS)
    await kitchen.locator(f"#card-{typed.public_id} .act-accept button[type=submit]").click()
    await kitchen.wait_for_selector(f"#card-{typed.public_id}[data-status=accepted]",
                                    timeout=10_000)
    saved = await PaidOrder.objects().get(PaidOrder.id == typed.id)
    assert saved is not None and saved.prep_minutes == 50
    assert errors == []
    await staff.context.close()


async def test_a_typed_prep_time_survives_a_reload_of_the_page(
        browser: Any, web: RunningProcess) -> None:
    """The tablet's browser restarts, or a cook pulls to refresh, before Accept: the typed
    time is still there, and still the one promised; the other tickets keep the default."""
    order = await make_paid_order()
    other = await make_paid_order()
    errors: list[str] = []
    kitchen = await open_screen(browser, web, errors)
    prep = kitchen.locator(f"#card-{order.public_id} input[name=prep_minutes]")
    plain = kitchen.locator(f"#card-{other.public_id} input[name=prep_minutes]")
    await prep.wait_for()
    default = await prep.input_value()
    await prep.click(click_count=3)
    await kitchen.keyboard.type("35")

    await kitchen.reload()
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.click("#start-service-button")
    await kitchen.wait_for_function(
        "ref => document.querySelector(`#card-${ref} input[name=prep_minutes]`)?.value === '35'",
        arg=order.public_id, timeout=10_000)
    assert await plain.input_value() == default

    await kitchen.locator(f"#card-{order.public_id} .act-accept button[type=submit]").click()
    await kitchen.wait_for_selector(f"#card-{order.public_id}[data-status=accepted]",
                                    timeout=10_000)
    saved = await PaidOrder.objects().get(PaidOrder.id == order.id)
    assert saved is not None and saved.prep_minutes == 35
    kept = await kitchen.evaluate("() => JSON.stringify(sessionStorage)")
    assert order.public_id not in kept  # accepted: the tab forgets it
    assert errors == []
