"""Every basket line's allergy box was called "Allergy for this dish": a screen reader going
through a basket of three heard the same name three times and could not tell which dish a
box was for. Each box is named after its dish, a plain one on the menu and a line with
options in the basket alike, in the diner's language; its text field is named apart."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


async def _basket(page: Any) -> None:
    await page.goto("/r/demo")
    for count, dish in enumerate(("Tiramisu", "Tomato soup"), start=1):
        await page.locator(".menu-item", has_text=dish).locator(".add-button").tap()
        await page.locator(".cart-line").nth(count - 1).wait_for()
    pizza = page.locator(".menu-item", has_text="Pizza your way")
    await pizza.get_by_role("radio").nth(2).check()  # size L
    await pizza.locator(".add-button").tap()
    await page.locator(".cart-line").nth(2).wait_for()
    await page.wait_for_load_state("networkidle")


@pytest.mark.parametrize(("locale", "names", "field"), [
    ("en-GB", ["Allergy for Tiramisu", "Allergy for Tomato soup",
               "Allergy for Pizza your way (Size: L)"],
     "What should the kitchen keep out of Tiramisu?"),
    ("de-DE", ["Allergie bei Tiramisu", "Allergie bei Tomato soup",
               "Allergie bei Pizza your way (Size: L)"],
     "Was soll die Küche bei Tiramisu weglassen?"),
])
async def test_each_allergy_box_is_named_after_its_dish(
        browser: Any, web: RunningProcess, locale: str, names: list[str], field: str) -> None:
    context = await browser.new_context(base_url=web.url, locale=locale, **PHONE)
    page = await context.new_page()
    await _basket(page)
    boxes = page.locator("input[type=checkbox][id^=allergic-]")  # one per basket line
    said = sorted([await box.evaluate("el => el.labels[0].innerText.trim()")
                   for box in await boxes.all()])
    assert said == sorted(names)
    for name in names:  # the name as assistive technology computes it, one box each
        assert await page.get_by_role("checkbox", name=name, exact=True).count() == 1, name
    # ticked, its text field says what to write and does not repeat the box's name
    await page.get_by_role("checkbox", name=names[0], exact=True).tap()
    text = page.get_by_role("textbox", name=field, exact=True)
    await text.wait_for(state="visible")
    assert await page.get_by_role("textbox", name=names[0], exact=True).count() == 0
    await context.close()
