"""The menu without JavaScript, in a real browser: the basket's buttons post the form to
`/cart` as plain submits, so they must not wait for the checkout's required fields (the
browser refused Add until Name and Email were filled, pointing at fields far from the
button); "Place order and pay" still checks them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
SHOW_TIMES = ".day-choice button"  # in <noscript>, which Playwright's text engine skips


async def test_without_javascript_the_basket_buttons_work_before_the_checkout_fields(
        browser: Any, web: RunningProcess) -> None:
    page = await (await browser.new_context(java_script_enabled=False)).new_page()
    await page.goto(f"{web.url}/r/demo")
    await page.click("#add-3")
    await page.wait_for_selector("#qty-3[value='1']")
    await page.click("#inc-3")
    await page.wait_for_selector("#qty-3[value='2']")
    await page.click("#dec-3")
    await page.wait_for_selector("#qty-3[value='1']")
    day = await page.eval_on_selector("#schedule_day", "s => s.options[1].value")
    await page.select_option("#schedule_day", day)
    await page.click(SHOW_TIMES)
    await page.wait_for_selector("#scheduled_for")
    await page.click("#add-1")  # with a day picked, the time is required too
    await page.wait_for_selector("#qty-1[value='1']")

    await page.click("button.primary-action")  # the checkout's own checks still hold
    assert await page.evaluate("document.querySelector('#name').validity.valueMissing")
    assert "/orders/" not in page.url
    await page.fill("#name", "Ada Lovelace")
    await page.fill("#email", "ada@example.com")
    await page.select_option("#schedule_day", "")  # as soon as possible after all
    await page.click(SHOW_TIMES)
    await page.wait_for_selector("#scheduled_for", state="detached")
    await page.click("button.primary-action")
    await page.wait_for_url(re.compile(r".*/orders/TEMP-[A-Za-z0-9]+$"))
