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
