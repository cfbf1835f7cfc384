"""What a diner types on the menu page is never lost to a refresh of the order form. Every
cart refresh (plus, minus, Add, the tip and day choices, a live menu change from the kitchen)
replaces the whole form with one rendered from the values as they were when the request was
sent; what was typed while it was on its way stays, with the focus and the caret where they
were, while the fields the server changes on purpose (the quantity after +) follow it.

Deterministic: the refresh is held in the browser (tests/helpers/browser.py
`hold_requests`) while the diner types, then let through mid-word. Real Chromium, a real
`orderpass web`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.restaurants.tables import MenuItem
from tests.helpers.browser import HeldRequests, hold_requests, logged_in_context
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
CART = "**/r/demo/cart"
SETTLED = "() => new Promise(done => setTimeout(done, 150))"  # past htmx's settle delay
CARET = """(id) => {
  const field = document.getElementById(id);
  return [document.activeElement && document.activeElement.id,
          field.selectionStart, field.selectionEnd];
}"""


async def item_id(name: str) -> int:
    item = await MenuItem.objects().get(MenuItem.name == name)
    assert item is not None
    return int(item.id)


async def open_menu(browser: Any, web: RunningProcess, errors: list[str]) -> Any:
    context = await browser.new_context(base_url=web.url, viewport=PHONE)
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    await page.goto("/r/demo")
    return page


async def mark_form(page: Any) -> None:
    await page.evaluate("document.getElementById('order-form').__old = true")


async def let_through(page: Any, held: HeldRequests) -> None:
    """Let the held refresh through and wait until its form is in and settled."""
    held.release()
    await page.wait_for_function("() => !document.getElementById('order-form').__old",
                                 timeout=10_000)
    await page.evaluate(SETTLED)


async def soup_in_basket(browser: Any, web: RunningProcess, errors: list[str]
                         ) -> tuple[Any, int]:
    """The menu open with one tomato soup in the basket: (the page, the soup's id)."""
    soup = await item_id("Tomato soup")
    page = await open_menu(browser, web, errors)
    await page.click(f"#add-{soup}")
    await page.wait_for_selector(f"#qty-{soup}[value='1']")
    return page, soup


async def test_an_address_typed_while_the_kitchen_86es_a_dish_is_kept(
        browser: Any, web: RunningProcess) -> None:
    """The kitchen marks an unrelated dish sold out while the diner types their address:
    nothing typed is lost, the caret stays where the diner put it, the delivery they chose
    meanwhile stays chosen, and the sold-out dish shows."""
    errors: list[str] = []
    soup, burrata = await item_id("Tomato soup"), await item_id("Burrata")
    page = await open_menu(browser, web, errors)
    await page.click(f"#add-{soup}")
    await page.wait_for_selector(f"#qty-{soup}[value='1']")
    await page.fill("#name", "Grace")
    await page.wait_for_timeout(500)  # the menu's live feed is connected

    held = await hold_requests(page, CART)
    staff = await logged_in_context(browser, web.url, "kitchen@demo.test")
    token = next(cookie["value"] for cookie in await staff.cookies()
                 if cookie["name"] == "csrftoken")
    response = await staff.request.post(
        f"/kitchen/demo/menu/{burrata}/availability", form={"available": "0"},
        headers={"x-csrftoken": token, "HX-Request": "true"})
    assert response.status == 200, await response.text()
    await held.first_sent()  # the live refresh is on its way, with an empty address
    await mark_form(page)

    await page.locator("label[for=fulfillment-delivery]").click()
    await page.click("#delivery_address")
    await page.keyboard.type("Kastanienallee 12, H", delay=50)
    await page.keyboard.type("interhaus", delay=50)
    for _ in range(len("interhaus")):
        await page.keyboard.press("ArrowLeft")
    await let_through(page, held)

    assert await page.locator(f"#menu-item-{burrata} .sold-out").count() == 1
    assert await page.is_checked("#fulfillment-delivery")
    assert await page.locator("#delivery_address").is_visible()
    assert await page.input_value("#delivery_address") == "Kastanienallee 12, Hinterhaus"
    at = len("Kastanienallee 12, H")
    assert await page.evaluate(CARET, "delivery_address") == ["delivery_address", at, at]
    await page.keyboard.press("End")
    await page.keyboard.type(", 3. OG", delay=50)
    assert await page.input_value("#delivery_address") == (
        "Kastanienallee 12, Hinterhaus, 3. OG")
    assert await page.input_value("#name") == "Grace"
    assert errors == []
    await staff.close()
    await page.context.close()


async def test_typing_right_after_plus_keeps_the_name_and_the_notes(
        browser: Any, web: RunningProcess) -> None:
    """+ then straight into Name: the quantity follows the server, the name is whole and the
    focus stays in it (not back on +); the same for notes, and for typing that goes on
    while the new form comes in."""
    errors: list[str] = []
    page, soup = await soup_in_basket(browser, web, errors)

    held = await hold_requests(page, CART)
    await page.click(f"#inc-{soup}")
    await held.first_sent()
    await mark_form(page)
    await page.click("#name")
    await page.keyboard.type("Jür", delay=50)
    await let_through(page, held)
    assert await page.evaluate(f"document.getElementById('qty-{soup}').value") == "2"
    assert await page.input_value("#name") == "Jür"
    assert await page.evaluate(CARET, "name") == ["name", 3, 3]
    await page.keyboard.type("gen", delay=50)
    assert await page.input_value("#name") == "Jürgen"

    # The new form arrives while the diner is still typing the notes.
    held.answer.clear()
    held.sent.clear()
    await page.click(f"#inc-{soup}")
    await held.first_sent()
    await mark_form(page)
    await page.click("#notes")
    note = "Bitte ohne Zwiebeln, danke"
    task = asyncio.ensure_future(page.keyboard.type(note, delay=50))
    await page.wait_for_timeout(400)
    await let_through(page, held)
    await task
    await page.evaluate(SETTLED)
    assert await page.evaluate(f"document.getElementById('qty-{soup}').value") == "3"
    assert await page.input_value("#notes") == note
    assert await page.evaluate(CARET, "notes") == ["notes", len(note), len(note)]
    assert await page.input_value("#name") == "Jürgen"
    assert errors == []
    await page.context.close()


async def test_an_other_amount_typed_right_after_choosing_it_is_kept_and_counted(
        browser: Any, web: RunningProcess) -> None:
    errors: list[str] = []
    page, _soup = await soup_in_basket(browser, web, errors)

    held = await hold_requests(page, CART)
    await page.check("#tip-custom")
    await held.first_sent()
    await mark_form(page)
    await page.click("#tip_custom")
    await page.keyboard.type("2,", delay=50)
    await let_through(page, held)
    assert await page.is_checked("#tip-custom")
    assert await page.input_value("#tip_custom") == "2,"
    assert await page.evaluate(CARET, "tip_custom") == ["tip_custom", 2, 2]
    await page.keyboard.type("50", delay=50)
    assert await page.input_value("#tip_custom") == "2,50"

    # Leaving the field refreshes the total with the tip in it.
    await page.unroute(CART)
    held.release()
    await page.keyboard.press("Tab")
    await page.wait_for_function(
        "() => document.querySelector('#order-form [data-testid=tip]')?.textContent"
        ".includes('2.50')", timeout=10_000)
    assert await page.input_value("#tip_custom") == "2,50"
    assert errors == []
    await page.context.close()
