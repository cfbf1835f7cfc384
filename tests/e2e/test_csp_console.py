"""No Content-Security-Policy error in the console of the menu or the kitchen screen.

An outside tester saw about 24 "Refused to apply inline style" errors on /r/demo, all from
htmx.min.js. When htmx settles a swap it copies the `style` attribute of every old element
onto the new one with the same id (its default `attributesToSettle`), and `style-src 'self'`
blocks that. Our templates have no style attribute, but elements get one through the CSSOM,
which the CSP allows: kitchen.js sizes each ticket that way, and browser extensions (password
managers, form fillers) style form fields. The menu test styles the form's fields as such an
extension does before each basket change; a clean browser alone shows nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.browser import submit_login
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser

# Violations as the page sees them (the console's wording differs between Chrome versions).
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.sourceFile || e.blockedURI) + " "
                    + ((e.target && e.target.id) || ""));
});
"""
# What an extension does to the fields it fills: an inline style set through the CSSOM.
STYLE_FIELDS = """() => document.querySelectorAll('#order-form input[id]').forEach(
  el => { el.style.backgroundImage = 'none'; })"""


async def watched_page(browser: Any, **options: Any) -> tuple[Any, list[str]]:
    context = await browser.new_context(**options)
    await context.add_init_script(WATCH_CSP)
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: console.append(str(error)))
    return page, console


async def assert_no_violations(page: Any, console: list[str]) -> None:
    await page.wait_for_timeout(300)  # htmx settles 20 ms after a swap
    assert console == [] and await page.evaluate("window.__csp") == [], (
        console, await page.evaluate("window.__csp"))


async def test_no_csp_errors_on_the_menu_while_the_basket_changes(
        browser: Any, web: RunningProcess) -> None:
    page, console = await watched_page(browser, viewport={"width": 390, "height": 844})
    await page.goto(f"{web.url}/r/demo")
    soup = page.locator(".menu-item", has_text="Tomato soup")
    item = (await soup.get_attribute("id") or "").rsplit("-", 1)[1]
    steps = [(f"#add-{item}", f"#qty-{item}[value='1']"),
             (f"#inc-{item}", f"#qty-{item}[value='2']"),
             (f"#dec-{item}", f"#qty-{item}[value='1']")]
    for button, after in steps:
        await page.evaluate(STYLE_FIELDS)
        await page.click(button)
        await page.wait_for_selector(after)
    await page.evaluate(STYLE_FIELDS)
    await page.check("#tip-10")
    await page.wait_for_selector("#order-form [data-testid=tip]")
    await assert_no_violations(page, console)


async def test_no_csp_errors_on_the_kitchen_screen(browser: Any, web: RunningProcess) -> None:
    first = await make_paid_order()
    await make_paid_order()
    page, console = await watched_page(browser)
    await page.goto(f"{web.url}/kitchen/demo")
    await submit_login(page, "kitchen@demo.test")
    await page.wait_for_url(f"{web.url}/kitchen/demo")
    await page.wait_for_selector("#connection.is-live", timeout=10_000)  # board swapped in
    card = page.locator(f"#card-{first.public_id}")
    await card.locator("button[data-primary]").click()  # Accept: the ticket is swapped
    await page.wait_for_selector(f"#card-{first.public_id}[data-status=accepted]")
    assert await card.evaluate("el => el.style.gridRowEnd")  # sized through the CSSOM
    await assert_no_violations(page, console)
