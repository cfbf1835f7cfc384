"""On a phone, a diner who tapped an extra in an optional one-choice group ("Extras", 0 to 1)
goes back to no extra by tapping None (a radio once ticked cannot be unticked: Parmesan stayed
ticked, and in the basket, in an outside try)."""

from __future__ import annotations

from typing import Any

import pytest

from app.restaurants.tables import ModifierGroup
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser


async def test_a_diner_taps_an_extra_then_none_and_adds_the_dish_without_it(
        browser: Any, web: RunningProcess) -> None:
    await ModifierGroup.update({ModifierGroup.max_choices: 1}).where(
        ModifierGroup.name == "Extras")
    errors: list[str] = []
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{web.url}/r/demo")
    pizza = page.locator(".menu-item", has_text="Pizza your way")
    extras = pizza.locator("fieldset.modifier-choice", has_text="Extras")
    none = extras.get_by_label("None")
    assert await none.is_checked()
    await pizza.get_by_label("S", exact=True).check()
    await extras.get_by_label("Cheese").check()
    assert not await none.is_checked()
    await none.check()
    assert not await extras.get_by_label("Cheese").is_checked()
    await pizza.locator(".add-button").click()
    line = page.locator(".cart-line", has_text="Pizza your way")
    await line.wait_for()
    assert "Size: S" in await line.inner_text()
    assert "Cheese" not in await line.inner_text()
    assert await none.is_checked()  # the next Add starts on None too
    assert errors == []
