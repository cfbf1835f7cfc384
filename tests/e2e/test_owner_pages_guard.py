"""The owner's pages guard against slips (real Chromium, real `orderpass web`): what
cannot be undone from the page (a dish deleted, a closure removed) takes two deliberate
presses, the first asking what will happen (a stray tap on a tablet used to delete a dish
at once); a refused save puts the focus on what is wrong (a keyboard user was left at the
top of the page, the message unheard)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from app.restaurants.tables import MenuItem, RestaurantClosure
from tests.helpers.browser import logged_in_context
from tests.helpers.hours import BERLIN
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser


async def test_a_dish_and_a_closure_go_only_on_the_second_press(
        browser: Any, web: RunningProcess) -> None:
    burrata = await MenuItem.objects().get(MenuItem.name == "Burrata")
    assert burrata is not None
    context = await logged_in_context(browser, web.url, "owner@demo.test")
    owner = await context.new_page()
    errors: list[str] = []
    owner.on("pageerror", lambda error: errors.append(str(error)))

    await owner.goto(f"/manage/demo/menu/items/{burrata.id}")
    confirm = owner.locator("button:has-text('Yes, delete it')")
    assert not await confirm.is_visible()
    await owner.click("summary:has-text('Delete this dish')")
    question = owner.locator(".confirm-step-form p")
    assert "Delete Burrata for good?" in (await question.text_content() or "")
    assert await MenuItem.exists().where(MenuItem.id == burrata.id)  # the first press asks
    await owner.click("summary:has-text('Delete this dish')")  # and closes again
    assert not await confirm.is_visible()
    await owner.click("summary:has-text('Delete this dish')")
    await confirm.click()
    await owner.wait_for_url("**/manage/demo/menu?saved=deleted*")
    assert not await MenuItem.exists().where(MenuItem.id == burrata.id)

    day = (datetime.now(BERLIN) + timedelta(days=3)).date()
    await owner.goto("/manage/demo/hours")
    await owner.fill("input[name='starts_on']", day.isoformat())
    await owner.fill("input[name='reason']", "Inventory")
    await owner.click("button:has-text('Add closure')")
    await owner.wait_for_load_state()
    [closure] = await RestaurantClosure.objects().where(RestaurantClosure.reason == "Inventory")
    await owner.goto("/manage/demo/hours")
    await owner.get_by_label(f"Remove the closure from {day:%a} {day.day} {day:%b %Y}").click()
    assert await RestaurantClosure.exists().where(RestaurantClosure.id == closure.id)
    assert "order for that day again" in await owner.inner_text(".confirm-step[open]")
    await owner.click(".confirm-step[open] button:has-text('Yes, remove it')")
    await owner.wait_for_load_state()
    assert not await RestaurantClosure.exists().where(RestaurantClosure.id == closure.id)
    assert errors == []
    await context.close()


async def test_a_save_refused_by_another_tab_brings_the_focus_to_why(
        browser: Any, web: RunningProcess) -> None:
    soup = await MenuItem.objects().get(MenuItem.name == "Tomato soup")
    assert soup is not None
    context = await logged_in_context(browser, web.url, "owner@demo.test")
    first, second = await context.new_page(), await context.new_page()
    for tab in (first, second):
        await tab.goto(f"/manage/demo/menu/items/{soup.id}")
    await first.fill("#price", "7.20")
    await first.click("button:has-text('Save dish')")
    await first.wait_for_url("**/manage/demo/menu?saved=item*")

    await second.fill("#description", "With basil")
    await second.click("button:has-text('Save dish')")
    await second.wait_for_function(
        "() => document.activeElement && document.activeElement.matches('.form-errors')")
    focused = await second.evaluate("() => document.activeElement.textContent")
    assert "price: 7.20" in focused, focused
    box = await second.locator(".form-errors").bounding_box()
    assert box is not None and 0 <= box["y"] < (second.viewport_size or {"height": 720})["height"]
    await context.close()
