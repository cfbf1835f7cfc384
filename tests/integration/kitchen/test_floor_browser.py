"""The kitchen screen a cook trusts on a Friday night, in Debian's chromium at the sizes
kitchens use (800 px pass tablet, 1280x800 tablet, 1920x1080 wall screen): controls inside
their ticket, keys acting where the cook is, the auto-reject countdown and its notice, sound
and the screen kept on, a wall of tickets, "late by", 86 / pause / busy reaching diners,
reject with undo and its refund result, login and touch targets."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from arq.connections import ArqRedis

from app.kitchen.priority import screen_thresholds
from app.orders import lifecycle
from app.orders.tables import PaidOrder
from app.restaurants.tables import MenuItem, Restaurant
from app.templating import format_money
from tests.helpers.browser import logged_in_context
from tests.helpers.orders import make_paid_order, paid_order_via_sandbox
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
KITCHEN = "kitchen@demo.test"
TABLET = {"width": 1280, "height": 800}
WALL = {"width": 1920, "height": 1080}

# Every control of every ticket: inside its card, and the control itself at its centre
# (not another ticket's button painted over it).
CONTROLS_INSIDE_CARDS = """() => {
  const problems = [];
  for (const card of document.querySelectorAll('#board .order-card')) {
    card.scrollIntoView({block: 'center'});
    const box = card.getBoundingClientRect();
    const controls = card.querySelectorAll('button, a.button, input:not([type=hidden]), summary');
    for (const el of controls) {
      const r = el.getBoundingClientRect();
      const name = card.dataset.number + ' ' + (el.textContent.trim() || el.name);
      if (r.width === 0 || r.height === 0) { problems.push(name + ': not shown'); continue; }
      if (r.left < box.left - .5 || r.top < box.top - .5 || r.right > box.right + .5
          || r.bottom > box.bottom + .5) { problems.push(name + ': outside its card'); continue; }
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      const label = hit && hit.closest && hit.closest('label');
      if (!(hit === el || el.contains(hit) || (label && label.contains(el))))
        problems.push(name + ': covered by ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing'));
    }
  }
  return problems;
}"""
HITS_AT_CENTRE = """(selector) => Array.from(document.querySelectorAll(selector)).map(el => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {text: el.textContent.trim(), height: r.height, hit: hit === el || el.contains(hit)};
})"""
FULLY_VISIBLE = """() => Array.from(document.querySelectorAll('#board .order-card')).filter(c => {
  const r = c.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight;
}).length"""


async def open_kitchen(browser: Any, web: RunningProcess, viewport: dict[str, int],
                       start: bool = True, context: Any = None) -> Any:
    context = context or await logged_in_context(browser, web.url, KITCHEN, viewport=viewport,
                                                 has_touch=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    await page.goto("/kitchen/demo")
    await page.wait_for_selector("#connection.is-live", timeout=10_000)
    if start and await page.locator("#start-service").is_visible():
        await page.click("#start-service-button")
        await page.wait_for_selector("#start-service", state="hidden")
    return page


async def reload(page: Any) -> None:
    """Reload the screen; a reload is no touch, so service starts again with one tap."""
    await page.reload()
    await page.wait_for_selector("#connection.is-live", timeout=10_000)
    if await page.locator("#start-service").is_visible():
        await page.click("#start-service-button")
        await page.wait_for_selector("#start-service", state="hidden")


async def test_every_control_lies_inside_its_ticket_at_800_1280_and_1920(
        browser: Any, web: RunningProcess) -> None:
    long_lines = [("Margherita pizza with extra everything", 1100, 2, "extra basil, cut in 8"),
                  ("Steak frites", 2350, 1, "medium rare, sauce on the side"),
                  ("Sparkling water", 350, 3, "")]
    await make_paid_order(items=long_lines, fulfillment="dine_in", table_label="12",
                          notes="birthday: candle on the tiramisu")
    await make_paid_order(items=long_lines[:1], fulfillment="delivery",
                          delivery_address="Kastanienallee 2, 10435 Berlin, back door")
    await make_paid_order(status="accepted", items=long_lines[1:])
    await make_paid_order(status="preparing")
    await make_paid_order(status="ready")
    for width in (800, 1280, 1920):
        page = await open_kitchen(browser, web, {"width": width, "height": 900})
        assert await page.locator("#board .order-card").count() == 5
        assert await page.evaluate(CONTROLS_INSIDE_CARDS) == [], f"at {width} px"

        # Reject confirms in a modal: its large buttons answer at their centre.
        await page.locator("#board .order-card.status-paid .reject-open").first.click()
        await page.wait_for_selector("#reject-dialog[open]")
        await page.locator("#reject-dialog .reason").first.click()
        buttons = await page.evaluate(HITS_AT_CENTRE, "#reject-dialog .dialog-actions button")
        assert [button["text"] for button in buttons] == ["Keep order", "Reject & refund"]
        assert all(button["hit"] and button["height"] >= 56 for button in buttons), buttons
        await page.click("#reject-cancel")
        await page.wait_for_selector("#reject-dialog", state="hidden")
        assert page.errors == []
        await page.context.close()


async def test_keys_act_on_the_ticket_where_the_cook_is(browser: Any,
                                                        web: RunningProcess) -> None:
    now = datetime.now(UTC)
    first = await make_paid_order(status="accepted", promised_at=now + timedelta(minutes=5))
    second = await make_paid_order(status="accepted", promised_at=now + timedelta(minutes=9))
    third = await make_paid_order()  # new, waiting to be accepted
    page = await open_kitchen(browser, web, TABLET)

    # A number key jumps to that ticket: it is selected AND focused (one marker).
    await page.keyboard.press(str(second.ticket_number))
    selected = page.locator("#board .order-card.is-selected")
    await page.wait_for_function(
        "ref => document.activeElement && document.activeElement.id === 'card-' + ref",
        arg=second.public_id)
    assert await selected.count() == 1
    assert await selected.get_attribute("data-ref") == second.public_id

    # Enter advances the ticket the cook is on, not another one.
    await page.keyboard.press("Enter")
    await page.wait_for_selector(f"#card-{second.public_id}.status-preparing", timeout=10_000)
    assert (await PaidOrder.objects().get(PaidOrder.public_id == first.public_id)).status \
        == "accepted"

    # Focus moves to another ticket's button: the selection follows; Enter presses THAT
    # button (Accept on the new ticket), and nothing happens to the ticket selected before.
    accept = page.locator(f"#card-{third.public_id} form.act-accept button")
    await accept.focus()
    assert await page.locator("#board .order-card.is-selected").count() == 1
    assert await selected.get_attribute("data-ref") == third.public_id
    await page.keyboard.press("Enter")
    await page.wait_for_selector(f"#card-{third.public_id}.status-accepted", timeout=10_000)
    assert (await PaidOrder.objects().get(PaidOrder.public_id == second.public_id)).status \
        == "preparing"

    # The focus ring on a control and the selection marker are not the same colour.
    await page.locator(f"#card-{third.public_id} .print").focus()
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Tab")
    ring = await page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    marker = await selected.evaluate("el => getComputedStyle(el).borderTopColor")
    assert ring != marker
    assert page.errors == []


async def test_auto_reject_counts_down_escalates_and_leaves_a_notice_until_acknowledged(
        browser: Any, web: RunningProcess, client: httpx.AsyncClient,
        sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    await PaidOrder.update({PaidOrder.paid_at: datetime.now(UTC) - timedelta(minutes=8.5)}).where(
        PaidOrder.id == order.id)
    page = await open_kitchen(browser, web, TABLET)
    countdown = page.locator(f"#card-{order.public_id} [data-auto-reject]")
    await countdown.wait_for(state="visible", timeout=5_000)
    assert re.match(r"Auto-reject in 1:\d\d", await countdown.inner_text())
    await page.wait_for_function("() => document.body.dataset.alarm === 'urgent'")
    await page.keyboard.press("a")  # acknowledging the new order does not silence this
    await page.wait_for_timeout(300)
    assert await page.evaluate("document.body.dataset.alarm") == "urgent"

    # Nobody accepts: the worker's job rejects and refunds it.
    await PaidOrder.update({PaidOrder.paid_at: datetime.now(UTC) - timedelta(minutes=11)}).where(
        PaidOrder.id == order.id)
    assert order.public_id in await lifecycle.auto_reject_overdue(redis=redis)
    rejected = await PaidOrder.objects().get(PaidOrder.id == order.id)
    assert rejected is not None and rejected.status == "refunded" and rejected.rejected_at
    local = rejected.rejected_at.astimezone(ZoneInfo("Europe/Berlin"))
    notice = page.locator(f".notice-auto-reject[data-notice='{order.public_id}']")
    await notice.wait_for(timeout=10_000)
    # The rejection's frame can come first ("refund of €24.00 pending"), the refund's right
    # after it: wait for the second.
    await page.wait_for_function(
        "ref => (document.querySelector(`.notice-auto-reject[data-notice='${ref}']`)"
        " || {}).innerText?.includes('refunded')", arg=order.public_id, timeout=10_000)
    text = await notice.inner_text()
    assert f"#{order.ticket_number} auto-rejected {local:%H:%M}" in text
    assert "refunded" in text
    await page.locator(f"#card-{order.public_id}").wait_for(state="detached")

    await reload(page)  # still there after a reload: it waits for a cook
    await notice.wait_for()
    await notice.locator("button").click()
    await notice.wait_for(state="detached")
    await reload(page)
    assert await page.locator(".notice-auto-reject").count() == 0
    acknowledged = await PaidOrder.objects().get(PaidOrder.id == order.id)
    assert acknowledged is not None and acknowledged.notice_acknowledged_at is not None
    assert page.errors == []


async def test_sound_remembered_start_service_title_wake_lock_and_acknowledge(
        browser: Any, web: RunningProcess) -> None:
    order = await make_paid_order()
    # A screen switched on in the morning: logged in, nobody touched the page.
    context = await logged_in_context(browser, web.url, KITCHEN, viewport=TABLET,
                                      has_touch=True)
    page = await open_kitchen(browser, web, TABLET, start=False, context=context)
    overlay = page.locator("#start-service")
    await overlay.wait_for(state="visible")  # the browser blocked audio: one tap starts it
    assert await page.evaluate("document.body.dataset.audio") == "suspended"
    assert (await page.title()).startswith("(1 new) ")
    await page.locator("#start-service-button").tap()
    await overlay.wait_for(state="hidden")
    assert await page.evaluate("document.body.dataset.audio") == "running"
    await page.wait_for_function("() => document.body.dataset.wakeLock === 'on'")
    await page.wait_for_function("() => Number(document.body.dataset.beeps || 0) > 0")

    card = page.locator(f"#card-{order.public_id}")
    assert "is-alarming" in (await card.get_attribute("class") or "")
    await page.click("#alarm-ack")  # Acknowledge stops the flashing (the order stays new)
    await page.wait_for_function(
        "ref => !document.getElementById('card-' + ref).classList.contains('is-alarming')",
        arg=order.public_id)
    assert await page.locator("#alarm-ack").is_hidden()

    # Muting is remembered on this device: no overlay, still muted after a reload.
    await page.click("#sound-toggle")
    assert await page.inner_text("#sound-toggle") == "Sound off"
    await page.reload()
    await page.wait_for_selector("#connection.is-live")
    assert await page.inner_text("#sound-toggle") == "Sound off"
    assert await overlay.is_hidden()
    assert page.errors == []
    await context.close()


async def test_wall_screen_shows_twelve_tickets_sized_to_content_and_counts_the_rest(
        browser: Any, web: RunningProcess) -> None:
    menu = [("Tomato soup", 650), ("Burrata", 1150), ("Margherita pizza", 1100),
            ("Mushroom risotto", 1450), ("Steak frites", 2350), ("Tiramisu", 700)]
    now = datetime.now(UTC)
    statuses = ["paid", "accepted", "preparing", "accepted", "ready", "paid", "preparing"]
    for index in range(20):  # typical tickets: 1 to 3 lines, a note now and then
        lines = [(name, price, 1 + (index + offset) % 2, "no onions" if offset == 0 and
                  index % 4 == 0 else "")
                 for offset, (name, price) in enumerate(menu[index % 4:index % 4 + 1 + index % 3])]
        status = statuses[index % len(statuses)]
        fields: dict[str, Any] = {"fulfillment": ["pickup", "delivery", "dine_in"][index % 3]}
        if status != "paid":
            fields["promised_at"] = now + timedelta(minutes=5 + index)
        if fields["fulfillment"] == "dine_in":
            fields["table_label"] = str(index)
        if fields["fulfillment"] == "delivery":
            fields["delivery_address"] = "Torstraße 1"
        await make_paid_order(status=status, items=lines, **fields)
    page = await open_kitchen(browser, web, WALL)
    await page.wait_for_function(
        "() => document.querySelectorAll('#board .order-card').length === 20")
    await page.wait_for_timeout(300)  # layout settles after the fonts
    visible = await page.evaluate(FULLY_VISIBLE)
    assert visible >= 12, f"only {visible} whole tickets on a 1920x1080 screen"
    more = page.locator("#more-below")
    below = await page.evaluate("""() => Array.from(document.querySelectorAll('#board .order-card'))
        .filter(c => c.getBoundingClientRect().bottom > window.innerHeight + 1).length""")
    assert below > 0 and await more.inner_text() == f"+{below} more ↓"

    # Cards keep their own height: a one-line ticket is shorter than a three-line one.
    heights = await page.evaluate("""() => Array.from(
        document.querySelectorAll('#board .order-card')).map(
        c => [c.querySelectorAll('.lines li').length, c.getBoundingClientRect().height])""")
    one = min(height for lines, height in heights if lines == 1)
    three = max(height for lines, height in heights if lines == 3)
    assert one < three - 40

    await page.keyboard.press("d")  # dense mode: more of the rush at a glance
    await page.wait_for_function(f"() => ({FULLY_VISIBLE})() > {visible}", timeout=5_000)
    await reload(page)  # remembered on this screen
    assert await page.evaluate("document.body.classList.contains('is-dense')")
    assert await page.evaluate(CONTROLS_INSIDE_CARDS) == []
    assert page.errors == []


async def test_late_tickets_say_by_how_much_with_the_servers_thresholds(
        browser: Any, web: RunningProcess) -> None:
    now = datetime.now(UTC)
    late = await make_paid_order(status="preparing", prep_minutes=15,
                                 promised_at=now - timedelta(minutes=3, seconds=30))
    risky = await make_paid_order(status="accepted", prep_minutes=15,
                                  promised_at=now + timedelta(minutes=2, seconds=30))
    fine = await make_paid_order(status="accepted", prep_minutes=15,
                                 promised_at=now + timedelta(minutes=14))
    page = await open_kitchen(browser, web, TABLET)
    thresholds = await page.get_attribute(".kitchen-page", "data-thresholds")
    assert json.loads(thresholds or "{}") == screen_thresholds()  # one source for both
    late_card = page.locator(f"#card-{late.public_id}")
    assert (await late_card.locator("[data-late]").inner_text()).strip() == "late by 4 min"
    assert "timing-late" in (await late_card.get_attribute("class") or "")
    # the script re-grades every second
    await page.locator(f"#card-{risky.public_id}.timing-at_risk").wait_for(timeout=5_000)
    assert "timing-on_time" in (await page.locator(f"#card-{fine.public_id}")
                                .get_attribute("class") or "")
    assert (await page.locator(f"#card-{fine.public_id} [data-late]").inner_text()) == ""
    assert page.errors == []


async def test_86_pause_and_busy_from_the_kitchen_reach_the_diners_menu_live(
        browser: Any, web: RunningProcess) -> None:
    burrata = await MenuItem.objects().get(MenuItem.name == "Burrata")
    assert burrata is not None
    kitchen = await open_kitchen(browser, web, TABLET)
    diner_context = await browser.new_context(base_url=web.url, viewport={
        "width": 390, "height": 844}, has_touch=True, is_mobile=True)
    diner = await diner_context.new_page()
    await diner.goto("/r/demo")
    await diner.wait_for_function("() => window.htmx !== undefined")
    await diner.evaluate("window.__sameDocument = true")
    await diner.wait_for_timeout(500)  # the menu's live feed is connected

    await kitchen.click("#controls-open")
    await kitchen.locator("#controls button", has_text="86 Burrata").click()
    await diner.locator(f"#menu-item-{burrata.id} .sold-out").wait_for(timeout=10_000)
    assert await diner.evaluate("window.__sameDocument === true")  # no reload
    await kitchen.locator(".chip-86", has_text="Burrata").wait_for()
    await kitchen.locator("#controls button", has_text="Back on: Burrata").click()
    await diner.locator(f"#add-{burrata.id}").wait_for(timeout=10_000)

    await kitchen.locator("#controls button", has_text="Pause 15 min").click()
    await diner.locator("#paused-notice").wait_for(timeout=10_000)
    # Paused: no "as soon as possible"; the diner may only pick a later time (hours #16).
    assert await diner.locator("#scheduled_for option[value='']").get_attribute(
        "disabled") is not None
    assert "order now for a later time" in await diner.inner_text("#paused-notice")
    await kitchen.locator(".chip-paused").wait_for()
    async with httpx.AsyncClient(base_url=web.url) as api:
        menu = (await api.get("/api/restaurants/demo/menu")).json()["items"]
        refused = await api.post("/api/orders", json={
            "restaurant": "demo", "items": [{"menu_item_id": menu[0]["id"], "quantity": 1}],
            "customer": {"name": "Ada", "email": "ada@example.com"}, "fulfillment": "pickup"})
    assert refused.status_code == 409 and "paused new orders" in refused.text
    await kitchen.locator("#controls button", has_text="Resume orders").click()
    await diner.locator("#paused-notice").wait_for(state="detached", timeout=10_000)

    await kitchen.locator("#controls button", has_text="+20 min").click()
    busy = diner.locator("#busy-notice")
    await busy.wait_for(timeout=10_000)
    assert "about 35 minutes" in await busy.inner_text()
    await kitchen.click("#controls-close")
    order = await make_paid_order()
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None and restaurant.busy_minutes == 20
    await reload(kitchen)
    prep = kitchen.locator(f"#card-{order.public_id} input[name=prep_minutes]")
    assert await prep.input_value() == "35"  # the Accept offers the busy prep time
    assert kitchen.errors == []
    await diner_context.close()


async def test_reject_can_be_undone_then_shows_the_refund(
        browser: Any, web: RunningProcess, client: httpx.AsyncClient,
        sandbox: RunningSandbox) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    page = await open_kitchen(browser, web, TABLET)
    card = page.locator(f"#card-{order.public_id}")

    async def confirm_reject() -> None:
        await card.locator(".reject-open").click()
        await page.locator("#reject-dialog .reason", has_text="Too busy").click()
        await page.click("#reject-confirm")

    await confirm_reject()
    undo = card.locator(".undo-bar")
    await undo.wait_for()
    assert re.search(rf"Rejecting #{order.ticket_number} in \d s", await undo.inner_text())
    await undo.locator("button", has_text="Undo").click()
    await undo.wait_for(state="detached")
    await asyncio.sleep(6)  # past the undo window: nothing was sent
    kept = await PaidOrder.objects().get(PaidOrder.id == order.id)
    assert kept is not None and kept.status == "paid"

    await confirm_reject()
    result = page.locator("#result")
    await result.wait_for(state="visible", timeout=15_000)
    text = await result.inner_text()
    assert f"#{order.ticket_number} rejected" in text
    assert f"{format_money(order.total_amount, 'eur')} refunded to the customer" in text, text
    refunded = await PaidOrder.objects().get(PaidOrder.id == order.id)
    assert refunded is not None and refunded.status == "refunded"
    assert refunded.reject_reason == "Too busy right now"
    assert page.errors == []


async def test_login_errors_look_like_errors_and_targets_are_44px(
        browser: Any, web: RunningProcess) -> None:
    context = await browser.new_context(base_url=web.url, viewport=TABLET, has_touch=True)
    page = await context.new_page()
    await page.goto("/login")
    await page.fill("#email", KITCHEN)
    await page.fill("#password", "not-the-password")
    async with page.expect_response(lambda r: r.url.endswith("/login")
                                    and r.request.method == "POST") as answer:
        await page.click("button[type=submit]")
    assert (await answer.value).status == 401
    error = page.locator(".form-errors[role=alert]")
    assert "Wrong email or password" in await error.inner_text()
    assert await page.locator(".notice").count() == 0
    color = await error.evaluate("el => getComputedStyle(el).color")
    red, green, blue = (int(value) for value in re.findall(r"\d+", color)[:3])
    assert red > 120 and green < 80 and blue < 80, color
    assert await page.get_attribute("#password", "aria-invalid") == "true"
    small = await page.evaluate("""() => Array.from(document.querySelectorAll(
        'main input:not([type=hidden]), main button')).map(el => el.getBoundingClientRect())
        .filter(r => r.height < 44).length""")
    assert small == 0
    await context.close()

    await make_paid_order()
    kitchen = await open_kitchen(browser, web, TABLET)
    small = await kitchen.evaluate("""() => Array.from(document.querySelectorAll(
        'button, a.button, input:not([type=hidden])')).filter(el => {
          const r = el.getBoundingClientRect();
          return r.width > 0 && (r.height < 44 || r.width < 44);
        }).map(el => el.outerHTML.slice(0, 60))""")
    assert small == []
