"""An owner on a 390 px phone (outside try): the orders list and the staff page show every
row whole, as a card, without sideways scrolling, not even inside the table (Total, Status
and "Withdraw" were off-screen to the right, the order reference broken over three lines),
and the navigation is one row, not the top third of every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.restaurants.tables import RestaurantClosure
from tests.helpers.accounts import add_invitation
from tests.helpers.browser import logged_in_context
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
# Sideways scrolling of the page, or of any box of its content that scrolls (a wide table
# in an `overflow-x: auto` box keeps the page still and hides its right-hand columns).
SIDEWAYS = """() => [document.documentElement, ...document.querySelectorAll('main *')]
  .filter(el => el === document.documentElement
    || (getComputedStyle(el).overflowX !== 'visible' && el.clientWidth > 1))
  .filter(el => el.scrollWidth > el.clientWidth + 1)
  .map(el => el.id || el.className || el.tagName)"""
TEXT_LINES = """el => { const range = document.createRange(); range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""
# Inside the viewport's width, and what a tap at its centre reaches is the element itself.
REACHABLE = """el => { const r = el.getBoundingClientRect();
  if (r.width === 0 || r.left < 0 || r.right > window.innerWidth) return false;
  el.scrollIntoView({block: 'center'}); const s = el.getBoundingClientRect();
  const hit = document.elementFromPoint(s.left + s.width / 2, s.top + s.height / 2);
  return hit === el || el.contains(hit); }"""


async def _owner(browser: Any, web: RunningProcess) -> Any:
    context = await logged_in_context(browser, web.url, "owner@demo.test", viewport=PHONE)
    return context, await context.new_page()


async def test_the_orders_list_fits_a_phone(browser: Any, web: RunningProcess) -> None:
    # a reference two characters longer than a real one ("TEMP-" and 22)
    orders = [await make_paid_order(customer_name="Carla Mendes da Silva",
                                    customer_email="carla.mendes@trattorialuna.pt")
              for _ in range(2)]
    context, page = await _owner(browser, web)
    try:
        await page.goto("/manage/demo/orders")
        assert await page.evaluate(SIDEWAYS) == []
        for order in orders:
            row = page.locator(f"#order-{order.public_id}")
            for cell in ("td.num", ".badge", "a"):
                assert await row.locator(cell).first.evaluate(REACHABLE), (order.public_id, cell)
            # the reference reads as one word, not three broken lines
            assert await row.locator("code").evaluate(TEXT_LINES) == 1
            # each value says what it is, the header row being out of sight
            total = row.locator("td.num")
            assert await total.get_attribute("data-label") == "Total"
            assert await total.evaluate(
                "el => getComputedStyle(el, '::before').content") not in ("none", "normal")
    finally:
        await context.close()


async def test_the_staff_page_fits_a_phone(browser: Any, web: RunningProcess) -> None:
    await add_invitation("joao.pereira@trattorialuna.test")
    context, page = await _owner(browser, web)
    try:
        await page.goto("/manage/demo/staff")
        assert await page.evaluate(SIDEWAYS) == []
        invitation = page.locator("#invitations tbody tr", has_text="joao.pereira")
        assert await invitation.locator("td", has_text="open until").evaluate(REACHABLE)
        withdraw = invitation.get_by_role("button", name="Withdraw the invitation")
        assert await withdraw.evaluate(REACHABLE)
        cook = page.locator("#members tbody tr", has_text="kitchen@demo.test")
        assert await cook.get_by_role("button", name="Change role").evaluate(REACHABLE)
        assert await cook.locator("summary").evaluate(REACHABLE)  # "Remove…"
        await withdraw.click()  # and it still works
        await page.locator(".admin-outcome.is-ok").wait_for()
        assert await page.locator("#invitations tbody tr", has_text="joao.pereira").count() == 0
    finally:
        await context.close()


async def test_the_owner_navigation_is_one_row_on_a_phone(browser: Any,
                                                          web: RunningProcess) -> None:
    """It took the top ~330 px of every page: three rows of links and the logout button."""
    context, page = await _owner(browser, web)
    try:
        for path, current in (("/manage/demo/hours", "Hours"), ("/manage/demo/staff", "Staff")):
            await page.goto(path)
            header = await page.locator(".site-header").bounding_box()
            assert header is not None and header["height"] <= 140, (path, header)
            link = page.locator(".admin-nav a[aria-current=page]")
            assert (await link.inner_text()).strip() == current
            box = await link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
            assert await page.evaluate(
                "document.documentElement.scrollWidth <= window.innerWidth")
            # every section and the logout are still there
            for name in ("Overview", "Orders", "Menu", "Settings", "Kitchen screen"):
                assert await page.locator(".admin-nav a", has_text=name).count() == 1, name
            assert await page.get_by_role("button", name="Log out").count() == 1
    finally:
        await context.close()


async def test_the_dish_editor_shows_one_empty_option_group(browser: Any,
                                                            web: RunningProcess) -> None:
    """Six empty option groups made a new dish's form ~9,500 px tall on a phone (outside
    try): the groups filled so far and one empty show; "Add an option group" opens the next,
    without JavaScript too."""
    context = await browser.new_context(base_url=web.url, viewport=PHONE,
                                        java_script_enabled=False)
    try:
        await context.request.get("/login")
        token = next(cookie["value"] for cookie in await context.cookies()
                     if cookie["name"] == "csrftoken")
        await context.request.post("/login", form={
            "email": "owner@demo.test", "password": "demo", "_csrf_token": token})
        page = await context.new_page()
        await page.goto("/manage/demo/menu/items/new")
        assert await page.locator("#group-0-name").is_visible()
        assert not await page.locator("#group-1-name").is_visible()
        assert await page.evaluate("document.documentElement.scrollHeight") < 4000
        await page.get_by_text("Add an option group").first.click()
        assert await page.locator("#group-1-name").is_visible()
        assert not await page.locator("#group-2-name").is_visible()
        # a dish with two groups: both, and one empty
        await page.goto("/manage/demo/menu")
        await page.get_by_role("link", name="Pizza your way").click()
        for index, visible in ((0, True), (1, True), (2, True), (3, False)):
            assert await page.locator(f"#group-{index}-name").is_visible() is visible, index
    finally:
        await context.close()


async def test_the_closures_fit_a_small_phone(browser: Any, web: RunningProcess) -> None:
    """A closure of several days, its dates whole, pushed the hours page 11 px wide at 320 px:
    each closure is a card there too."""
    first = datetime.now(UTC).date() + timedelta(days=300)
    closure = RestaurantClosure(restaurant=1, starts_on=first, ends_on=first + timedelta(days=9),
                                reason="Renovation of the kitchen and the dining room")
    await closure.save()
    context = await logged_in_context(browser, web.url, "owner@demo.test",
                                      viewport={"width": 320, "height": 640})
    try:
        page = await context.new_page()
        await page.goto("/manage/demo/hours")
        assert await page.evaluate(SIDEWAYS) == []
        # the latest closure listed: this one
        remove = page.locator(".confirm-step > summary", has_text="Remove").last
        assert await remove.evaluate(REACHABLE)
    finally:
        await context.close()
        await RestaurantClosure.delete().where(RestaurantClosure.id == closure.id)


async def test_the_refund_form_fits_a_phone(browser: Any, web: RunningProcess) -> None:
    """An outside try: at 390 px the "Refund items" table scrolled sideways (372 px of it in
    324) and every quantity box sat past the right edge. Each item is a card of its own,
    its quantity box reachable, its figures named."""
    order = await make_paid_order(status="accepted")
    context, page = await _owner(browser, web)
    try:
        await page.goto(f"/manage/demo/orders/{order.public_id}")
        assert await page.evaluate(SIDEWAYS) == []
        boxes = page.locator("form.refund-items input[type=number]")
        assert await boxes.count() >= 1
        for index in range(await boxes.count()):
            assert await boxes.nth(index).evaluate(REACHABLE), index
        each = page.locator("form.refund-items td[data-label='Each']").first
        assert await each.evaluate(
            "el => getComputedStyle(el, '::before').content") not in ("none", "normal")
    finally:
        await context.close()


async def test_links_past_the_edge_of_the_owner_navigation_are_hinted(
        browser: Any, web: RunningProcess) -> None:
    """The row scrolls sideways with its scrollbar hidden: an outside try never found
    "Settings" right of the screen. The edge with links beyond it fades out, and stops
    fading once the row is scrolled to that end."""
    context, page = await _owner(browser, web)
    try:
        await page.goto("/manage/demo")
        row = page.locator(".admin-nav ul")
        assert await row.evaluate("el => el.scrollWidth > el.clientWidth")  # links hidden
        assert await row.evaluate("el => el.classList.contains('more-right')")
        assert await row.evaluate("el => getComputedStyle(el).maskImage") not in ("none", "")
        await row.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
        await page.wait_for_function(
            "() => !document.querySelector('.admin-nav ul').classList.contains('more-right')")
        assert await row.evaluate("el => el.classList.contains('more-left')")
    finally:
        await context.close()
