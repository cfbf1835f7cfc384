"""What an owner changes in the dish editor reaches the menus diners have open, live, as
the kitchen's 86 does: a dish made unavailable is shown sold out without a reload, and one
made available again can be added (real Chromium, real `orderpass web`)."""

from __future__ import annotations

from typing import Any

import pytest

from app.restaurants.tables import MenuItem
from tests.helpers.browser import logged_in_context
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


async def test_a_dish_the_owner_makes_unavailable_is_sold_out_on_open_menus(
        browser: Any, web: RunningProcess) -> None:
    burrata = await MenuItem.objects().get(MenuItem.name == "Burrata")
    assert burrata is not None
    diner_context = await browser.new_context(base_url=web.url, viewport=PHONE,
                                              has_touch=True, is_mobile=True)
    diner = await diner_context.new_page()
    errors: list[str] = []
    diner.on("pageerror", lambda error: errors.append(str(error)))
    await diner.goto("/r/demo")
    await diner.locator(f"#add-{burrata.id}").wait_for()
    await diner.evaluate("window.__sameDocument = true")
    await diner.wait_for_timeout(500)  # the menu's live feed is connected

    owner_context = await logged_in_context(browser, web.url, "owner@demo.test")
    owner = await owner_context.new_page()
    editor = f"/manage/demo/menu/items/{burrata.id}"
    await owner.goto(editor)
    await owner.uncheck("#available")
    await owner.click("button:has-text('Save dish')")
    await owner.wait_for_url("**/manage/demo/menu?saved=item*")
    await diner.locator(f"#menu-item-{burrata.id} .sold-out").wait_for(timeout=10_000)

    await owner.goto(editor)
    await owner.check("#available")
    await owner.click("button:has-text('Save dish')")
    await owner.wait_for_url("**/manage/demo/menu?saved=item*")
    await diner.locator(f"#add-{burrata.id}").wait_for(timeout=10_000)
    assert await diner.evaluate("window.__sameDocument === true")  # never reloaded
    assert errors == []
    await owner_context.close()
    await diner_context.close()


async def test_a_price_the_owner_changes_reaches_an_open_basket(
        browser: Any, web: RunningProcess) -> None:
    """The basket's total and the pay button follow the owner's new price without a reload
    (the diner used to press "pay €6.50" and be asked for €7.20); a menu nobody edits is
    not refreshed by its own live feed (the page's fingerprint and the feed's agree)."""
    soup = await MenuItem.objects().get(MenuItem.name == "Tomato soup")
    assert soup is not None
    diner_context = await browser.new_context(base_url=web.url, viewport=PHONE)
    diner = await diner_context.new_page()
    refreshes: list[str] = []
    diner.on("request", lambda request: refreshes.append(request.url)
             if request.url.endswith("/r/demo/cart") else None)
    await diner.goto("/r/demo")
    await diner.click(f"#menu-item-{soup.id} .add-button")
    button = diner.locator("button.primary-action")
    await diner.wait_for_function(
        "() => document.querySelector('button.primary-action')?.textContent.includes('6.50')")
    await diner.wait_for_timeout(800)  # the live feed's first state has arrived
    assert len(refreshes) == 1, refreshes  # the Add only: no refresh of an unchanged menu

    owner_context = await logged_in_context(browser, web.url, "owner@demo.test")
    owner = await owner_context.new_page()
    await owner.goto(f"/manage/demo/menu/items/{soup.id}")
    await owner.fill("#price", "7.20")
    await owner.click("button:has-text('Save dish')")
    await owner.wait_for_url("**/manage/demo/menu?saved=item*")
    await diner.wait_for_function(
        "() => document.querySelector('button.primary-action')?.textContent.includes('7.20')",
        timeout=10_000)
    assert "7.20" in (await button.text_content() or "")
    await owner_context.close()
    await diner_context.close()


async def test_a_dish_the_owner_deletes_stays_named_in_an_open_basket_and_is_never_dropped(
        browser: Any, web: RunningProcess) -> None:
    """The diner's basket held two dishes; the owner deleted one. The basket used to re-draw
    with the other alone, and "Place order and pay" placed it without a word. The deleted
    dish now stays, named and marked, the order waits for the diner to remove it."""
    soup = await MenuItem.objects().get(MenuItem.name == "Tomato soup")
    assert soup is not None
    doomed = MenuItem(restaurant=soup.restaurant, category=soup.category, name="Deleteme soup",
                      price_amount=700, available=True, position=99)
    await doomed.save()
    diner_context = await browser.new_context(base_url=web.url, viewport=PHONE)
    diner = await diner_context.new_page()
    orders: list[str] = []
    diner.on("request", lambda request: orders.append(request.url)
             if request.url.endswith("/checkout") else None)
    await diner.goto("/r/demo")
    await diner.click(f"#menu-item-{doomed.id} .add-button")
    await diner.click(f"#menu-item-{soup.id} .add-button")
    await diner.wait_for_function(
        "() => document.querySelector('button.primary-action')?.textContent.includes('13.50')")
    await diner.wait_for_timeout(800)  # the live feed's first state has arrived

    owner_context = await logged_in_context(browser, web.url, "owner@demo.test")
    owner = await owner_context.new_page()
    owner.on("dialog", lambda dialog: dialog.accept())
    await owner.goto(f"/manage/demo/menu/items/{doomed.id}")
    await owner.click("summary:has-text('Delete this dish')")  # the question, then the press
    await owner.click("button:has-text('Yes, delete it')")
    await owner.wait_for_url("**/manage/demo/menu?saved=deleted*")

    gone = diner.locator(f"#gone-{doomed.id}")
    await gone.wait_for(timeout=10_000)
    assert "Deleteme soup" in (await gone.text_content() or "")
    assert "no longer on the menu" in (await gone.text_content() or "")
    await diner.fill("#name", "Grace Hopper")
    await diner.fill("#email", "grace@example.com")
    await diner.click("button.primary-action")
    problem = diner.locator("#form-errors")
    await problem.wait_for(timeout=10_000)
    assert "Deleteme soup is no longer on the menu" in (await problem.text_content() or "")
    assert "/orders/" not in diner.url

    await diner.click(f"#remove-{doomed.id}")
    await gone.wait_for(state="detached", timeout=10_000)
    await diner.click("button.primary-action")
    await diner.wait_for_url("**/orders/*", timeout=15_000)
    assert len(orders) == 2
    await owner_context.close()
    await diner_context.close()
