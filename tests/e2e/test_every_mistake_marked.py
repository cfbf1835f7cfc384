"""A refused checkout on a phone marks every wrong field at once, and the focus goes to the
first of them, in view with its message: a diner met an empty name, then (fixed) the email,
then the phone, one tap of "Place order and pay" each."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
IN_VIEW = """el => { const r = el.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }"""


async def _focused(page: Any) -> str:
    for _ in range(50):  # the focus moves once htmx has settled the new form
        focused = str(await page.evaluate("() => document.activeElement.id"))
        if focused not in ("", "order-form"):
            return focused
        await page.wait_for_timeout(100)
    return str(await page.evaluate("() => document.activeElement.id"))


@pytest.mark.parametrize(("locale", "email_says"), [
    ("en-GB", "There must be something after the @-sign."),
    ("de-DE", "Nach dem @-Zeichen muss etwas stehen."),
])
async def test_every_wrong_field_is_marked_and_the_first_has_the_focus(
        browser: Any, web: RunningProcess, locale: str, email_says: str) -> None:
    context = await browser.new_context(base_url=web.url, locale=locale, **PHONE)
    page = await context.new_page()
    await page.goto("/r/demo")
    await page.locator("#add-1").tap()
    await page.wait_for_selector("#qty-1[value='1']")
    await page.fill("#email", "ada@")
    await page.fill("#phone", "12")
    button = page.locator("button.primary-action")
    await button.scroll_into_view_if_needed()
    await button.tap()
    await page.wait_for_selector("#form-errors")
    await page.wait_for_load_state("networkidle")
    marked = await page.eval_on_selector_all(
        "#order-form [aria-invalid=true]", "els => els.map(el => el.id)")
    assert marked == ["name", "email", "phone"]
    assert await page.inner_text("#email-error") == email_says
    assert await _focused(page) == "name"
    assert await page.locator("#name").evaluate(IN_VIEW)
    assert await page.locator("#name-error").evaluate(IN_VIEW)  # its message beside it
    # fixing the name leaves the others marked, and the focus goes to the first of them
    await page.fill("#name", "Ada Lovelace")
    await button.tap()
    await page.wait_for_function(
        "() => !document.getElementById('name').hasAttribute('aria-invalid')")
    await page.wait_for_load_state("networkidle")
    assert await _focused(page) == "email"
    assert await page.locator("#email").evaluate(IN_VIEW)
    assert "/orders/" not in page.url
    await context.close()
