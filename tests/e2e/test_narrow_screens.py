"""Phones first: the menu, the status page and every email fit a 320 px wide screen
without sideways scrolling, in a real browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.notifications.compose import RestaurantContact, render_email
from app.notifications.service import EMAIL_KINDS
from app.orders.models import Customer, OrderLine, OrderView
from app.restaurants.tables import RestaurantClosure
from tests.helpers.browser import box_inside, logged_in_context
from tests.helpers.orders import make_paid_order, valid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
NARROW = {"width": 320, "height": 640}
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
HIT_AT_CENTRE = """el => { const r = el.getBoundingClientRect();
  return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === el; }"""


async def test_customer_pages_fit_320px(browser: Any, web: RunningProcess) -> None:
    async with httpx.AsyncClient(base_url=web.url) as client:
        response = await client.post("/api/orders", json=await valid_order(client))
        assert response.status_code == 201, response.text
        created = response.json()
    page = await browser.new_page(viewport=NARROW)
    for path in ("/", "/r/demo", f"/orders/{created['id']}"):
        await page.goto(web.url + path)
        assert await page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways at 320 px"
    # The pay button is big enough to hit with a thumb.
    # The live stream re-fetches the progress block once on connect; measure after that.
    await page.wait_for_load_state("networkidle")
    button = page.locator("a.pay-button")
    await button.wait_for(state="visible")
    box = await button.bounding_box()
    assert box is not None and box["height"] >= 44


async def test_every_email_fits_320px(browser: Any) -> None:
    now = datetime.now(UTC)
    order = OrderView(
        id="TEMP-narrowscreen123", status="awaiting_payment", restaurant_id=1,
        restaurant_slug="demo", restaurant_name="Demo Bistro with a rather long name",
        currency="eur",
        lines=[OrderLine(menu_item_id=1, name="Margherita pizza with extra everything",
                         unit_amount=1100, quantity=2, notes="no basil, well done, cut in 8"),
               # a long word in a note breaks inside its cell (an outside try on the pages)
               OrderLine(menu_item_id=2, name="Tiramisu", unit_amount=650, quantity=1,
                         notes="Glutenunverträglichkeitsbescheinigungsvorlage")],
        total_amount=2850, customer=Customer(name="Grace Hopper", email="grace@example.com"),
        fulfillment="pickup", submitted_at=now,
        payment_url="https://checkout.example/pay/cs_test_" + "x" * 60,
        expires_at=now + timedelta(hours=1), prep_minutes=15, reject_reason="Out of dough")
    contact = RestaurantContact(id=1, name="Demo Bistro", phone="+49 30 1234567",
                                email="hello@demo.test", address="Torstraße 1, 10119 Berlin",
                                timezone="Europe/Berlin", capture_mode="automatic")
    page = await browser.new_page(viewport=NARROW)
    for kind in sorted(EMAIL_KINDS):
        email = render_email(kind, order, contact, "http://127.0.0.1:8000")
        await page.set_content(email.html)
        assert await page.evaluate(OVERFLOW) <= 0, f"{kind} email scrolls sideways at 320 px"


async def test_on_a_phone_the_checkout_controls_are_thumb_sized(browser: Any,
                                                                web: RunningProcess) -> None:
    """The allergy box is a box beside its words (the text inputs' full-width rule made it a
    328 px square with the words pushed aside), and "When?" is a full-width control as tall
    as the others, not the browser's default 18 px select."""
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(web.url + "/r/demo")
    await page.click("#menu-item-1 .add-button")
    checkbox = page.locator("#has_allergy")
    await checkbox.wait_for(state="visible")
    await page.wait_for_load_state("networkidle")  # the basket's swap has settled
    box = await checkbox.bounding_box()
    label = await page.locator("label[for=has_allergy]").bounding_box()
    name = await page.locator("#name").bounding_box()
    assert box and label and name
    assert box["width"] <= 30 and box["height"] <= 30, box
    assert box["x"] - label["x"] <= 4, (box, label)  # the box starts the line, words after it
    # a live menu refresh may swap the form again under load: read the control once it is in
    when_select = page.locator("#schedule_day")
    await when_select.wait_for(state="visible")
    when = await when_select.bounding_box()
    name = await page.locator("#name").bounding_box()
    assert when is not None and name is not None
    assert when["height"] >= 44, when
    assert abs(when["width"] - name["width"]) <= 2, (when, name)
    await checkbox.check()
    await page.locator("#allergy").wait_for(state="visible")


async def test_on_a_phone_the_basket_minus_and_plus_are_thumb_sized(browser: Any,
                                                                     web: RunningProcess) -> None:
    """A dish with options changes its quantity on its basket line: its minus and plus were
    squeezed into the line's 2.5rem quantity column (18 px wide each); WCAG 2.5.5 asks for
    44x44 px."""
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(web.url + "/r/demo")
    dish = page.locator(".menu-item", has_text="Pizza your way")
    await dish.locator("input[type=radio]").first.check()
    await dish.locator(".add-button").click()
    await page.locator(".cart .quantity-controls button").first.wait_for(state="visible")
    await page.wait_for_load_state("networkidle")  # the basket's swap has settled
    line = page.locator(".cart .cart-line")
    await line.evaluate("el => el.scrollIntoView({block: 'center'})")
    line_box = await line.bounding_box()
    assert line_box is not None
    boxes = {}
    for button in await line.locator("button").all():
        box = await button.bounding_box()
        assert box is not None
        kind = (await button.get_attribute("id") or "").split("-")[0]  # dec, inc, remove
        boxes[kind] = box
        assert box_inside(box, line_box), (kind, box, line_box)  # the line holds its controls
        # nothing lies over it: a tap at its centre reaches the button itself
        assert await button.evaluate(HIT_AT_CENTRE), kind
    assert set(boxes) == {"dec", "inc", "remove"}, boxes
    for kind in ("dec", "inc"):
        assert boxes[kind]["width"] >= 44 and boxes[kind]["height"] >= 44, (kind, boxes[kind])
    assert await page.evaluate(OVERFLOW) <= 0
    await line.locator("[id^=inc-]").click()  # and they still work
    await page.locator(".cart input[name^=qty-][value='2']").wait_for(state="attached")


# Lines each text box of the element takes: a date or an amount broken mid-word takes two.
TEXT_LINES = """el => { const range = document.createRange(); range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""


async def test_an_owners_order_pages_fit_a_phone(browser: Any, web: RunningProcess) -> None:
    """An owner on the phone: the orders list, an order (its items and the refund form) and
    the hours page's closures do not scroll the page sideways, and no amount or date is
    broken over two lines (table cells broke anywhere: "€32. 50", "202 6-12-03",
    "2027- 01-04")."""
    order = await make_paid_order(status="accepted", items=[
        ("Tomato soup with a rather long name", 650, 2, "no cream"),
        ("Margherita pizza", 1100, 1, "")])
    # A closure of several days, far enough ahead to touch no other test's slots.
    first = datetime.now(UTC).date() + timedelta(days=300)
    closure = RestaurantClosure(restaurant=1, starts_on=first, ends_on=first + timedelta(days=9),
                                reason="Renovation of the kitchen and the dining room")
    await closure.save()
    context = await logged_in_context(browser, web.url, "owner@demo.test",
                                      viewport={"width": 390, "height": 844})
    page = await context.new_page()
    try:
        for path in ("/manage/demo/orders", f"/manage/demo/orders/{order.public_id}",
                     "/manage/demo/hours"):
            response = await page.goto(path)
            assert response is not None and response.status == 200, path
            assert await page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways at 390 px"
            cells = page.locator(".admin-table td.num, .admin-table time")
            assert await cells.count() > 0, path
            for cell in await cells.all():
                assert await cell.evaluate(TEXT_LINES) == 1, (path, await cell.inner_text())
    finally:
        await context.close()
        await RestaurantClosure.delete().where(RestaurantClosure.id == closure.id)


LONG_WORD = "Glutenunverträglichkeitsbescheinigungsvorlage"  # a German word: no break in it
PRICE_SHOWN = """el => { const r = el.getBoundingClientRect();
  return r.left >= 0 && r.right <= document.documentElement.clientWidth; }"""


async def test_a_long_word_in_a_dish_note_breaks_inside_its_line(browser: Any,
                                                                 web: RunningProcess) -> None:
    """An outside try: a 45-letter word in a dish's note made the menu 481 px wide on a
    390 px phone (the basket's Checkout bar cut off) and pushed the line's price off a 320 px
    status page. The note breaks inside its line; every price stays on the screen."""
    async with httpx.AsyncClient(base_url=web.url) as client:
        order = await valid_order(client)
        order["items"][0]["notes"] = LONG_WORD
        response = await client.post("/api/orders", json=order)
        assert response.status_code == 201, response.text
        created = response.json()
    for width in (320, 390):
        page = await browser.new_page(viewport={"width": width, "height": 800})
        await page.goto(f"{web.url}/orders/{created['id']}")
        await page.wait_for_load_state("networkidle")
        assert await page.evaluate(OVERFLOW) <= 0, f"the status page scrolls sideways at {width}"
        totals = page.locator("#order-progress .cart-line-total")
        assert await totals.count() >= 2
        for total in await totals.all():
            assert await total.evaluate(PRICE_SHOWN), (width, await total.inner_text())

        await page.goto(f"{web.url}/r/demo")
        await page.click("#menu-item-1 .add-button")
        await page.locator("#note-1").fill(LONG_WORD)
        await page.click("#menu-item-2 .add-button")  # the basket is drawn again, note shown
        await page.locator(".cart .cart-line-note").first.wait_for()
        await page.wait_for_load_state("networkidle")
        assert await page.evaluate(OVERFLOW) <= 0, f"the menu scrolls sideways at {width}"
        await page.close()
