"""Stripe slow to make the payment link: "Still setting up your payment…" was written at the
top of the form, out of view on a phone, while the diner looked at the grey "Place order and
pay" far below. It is said beside that button, in view, by a status region a screen reader
reads out (not an alert, and without taking the focus)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
IN_VIEW = """el => { const r = el.getBoundingClientRect();
  const bar = document.querySelector('.basket-bar');
  const bottom = bar ? bar.getBoundingClientRect().top : window.innerHeight;
  return r.height > 0 && r.top >= 0 && r.bottom <= Math.min(bottom, window.innerHeight); }"""


async def test_a_slow_payment_is_said_where_the_diner_is_looking(
        browser: Any, web: RunningProcess, sandbox: RunningSandbox) -> None:
    # (German: tests/e2e/test_checkout_problem_said.py, the same line on a slow network)
    context = await browser.new_context(base_url=web.url, **PHONE)
    page = await context.new_page()
    await page.goto("/r/demo")
    for count, dish in enumerate(("Tomato soup", "Tiramisu", "Lemonade"), start=1):
        await page.locator(".menu-item", has_text=dish).locator(".add-button").tap()
        await page.locator(".cart-line").nth(count - 1).wait_for()
    await page.wait_for_load_state("networkidle")
    await page.fill("#name", "Ada Lovelace")
    await page.fill("#email", "ada@example.com")
    button = page.locator("button.primary-action")
    await button.scroll_into_view_if_needed()
    sandbox.api_faults(service="stripe", latency_ms=6000)
    try:
        await button.tap()
        still = page.get_by_role("status").filter(has_text="Still setting up your payment")
        await still.wait_for(state="visible", timeout=8_000)
        assert await still.evaluate(IN_VIEW), await page.evaluate("window.scrollY")
        assert await button.evaluate(IN_VIEW)  # beside the button the diner tapped
        assert await still.evaluate("el => el.closest('[role=alert]')") is None
        assert await still.evaluate("el => !el.contains(document.activeElement)")
        await page.wait_for_url("**/orders/TEMP-*", timeout=30_000)  # the order goes on
    finally:
        sandbox.api_faults(service="stripe", latency_ms=0)
    await context.close()
