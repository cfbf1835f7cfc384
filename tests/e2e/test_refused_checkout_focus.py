"""A refused checkout on a phone: the diner tapped "Place order and pay" at the bottom of a
long page; the answer names what is wrong at the top of the form. The error box comes into
view and takes the focus (a screen reader reads it out): the page stayed at the bottom
(scrollY ~3088, focus on the body) with "Margherita pizza is sold out." 3000 px above."""

from __future__ import annotations

from typing import Any

import pytest

from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
IN_VIEW = """el => { const r = el.getBoundingClientRect();
  return r.top >= 0 && r.top < window.innerHeight && r.height > 0; }"""


async def _86(name: str) -> None:
    demo = await Restaurant.select(Restaurant.id).where(Restaurant.slug == "demo").first()
    assert demo is not None
    await MenuItem.update({MenuItem.available: False}).where(
        (MenuItem.restaurant == demo["id"]) & (MenuItem.name == name))


async def _basket_at_the_bottom(page: Any, url: str) -> None:
    await page.goto(f"{url}/r/demo")
    for count, dish in enumerate(("Margherita pizza", "Tomato soup"), start=1):
        item = page.locator(".menu-item", has_text=dish).first
        await item.locator(".add-button").click()
        await page.locator(".cart-line").nth(count - 1).wait_for(state="attached")
    await page.wait_for_load_state("networkidle")
    await page.fill("#name", "Grace Hopper")
    await page.fill("#email", "grace@example.com")


async def _tap_place_order(page: Any, focus: str = "form-errors") -> Any:
    button = page.locator("button.primary-action")
    await button.scroll_into_view_if_needed()
    await button.tap()
    errors = page.locator("#form-errors")
    await errors.wait_for(state="visible")
    await page.wait_for_load_state("networkidle")  # the swap has settled
    for _ in range(50):  # the focus moves once htmx has settled the new form
        if await page.evaluate("() => document.activeElement.id") == focus:
            break
        await page.wait_for_timeout(100)
    assert await page.evaluate("() => document.activeElement.id") == focus, \
        await page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")
    return page.locator(f"#{focus}")


async def test_a_refused_checkout_brings_its_errors_into_view(browser: Any,
                                                              web: RunningProcess) -> None:
    context = await browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = await context.new_page()
    await _basket_at_the_bottom(page, web.url)
    await _86("Margherita pizza")  # the kitchen runs out meanwhile
    assert await page.evaluate("window.scrollY") > 0
    errors = await _tap_place_order(page)
    assert "Margherita pizza is sold out" in await errors.inner_text()
    assert await errors.evaluate(IN_VIEW), await page.evaluate("window.scrollY")
    assert await errors.get_attribute("role") == "alert"
    assert await errors.get_attribute("tabindex") == "-1"
    await context.close()


async def test_any_refused_checkout_brings_its_errors_into_view(browser: Any,
                                                                web: RunningProcess) -> None:
    """Not only a dish gone: a bad email address refused by the server comes into view too.
    It has a field of its own, marked with its message: the focus goes there (a mistake with
    no field, the dish above, focuses the box of errors)."""
    context = await browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = await context.new_page()
    await _basket_at_the_bottom(page, web.url)
    # the browser's own check would stop "x@y"; the server's stricter one refuses it
    await page.eval_on_selector("#order-form", "form => form.noValidate = true")
    await page.fill("#email", "not-an-email")
    field = await _tap_place_order(page, focus="email")
    assert await field.evaluate(IN_VIEW), await page.evaluate("window.scrollY")
    assert await page.locator("#email-error").evaluate(IN_VIEW)
    await context.close()


async def test_without_javascript_a_refused_checkout_focuses_its_errors(
        browser: Any, web: RunningProcess) -> None:
    """The plain form post: the refusal is a new page (422), its error box takes the focus."""
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{web.url}/r/demo")
    for dish in ("Margherita pizza", "Tomato soup"):
        async with page.expect_navigation():
            await page.locator(".menu-item", has_text=dish).first.locator(".add-button").click()
    await page.fill("#name", "Grace Hopper")
    await page.fill("#email", "grace@example.com")
    await _86("Margherita pizza")
    async with page.expect_navigation():
        await page.locator("button.primary-action").click()
    errors = page.locator("#form-errors")
    assert "Margherita pizza is sold out" in await errors.inner_text()
    assert await page.evaluate("() => document.activeElement.id") == "form-errors"
    assert await errors.evaluate(IN_VIEW)
    await context.close()


async def test_without_javascript_a_refused_checkout_focuses_its_first_wrong_field(
        browser: Any, web: RunningProcess) -> None:
    """Two mistakes in the plain form post: the new page puts the focus on the first wrong
    field (read out with its message), as static/js/menu.js does after an htmx swap; the box
    of errors links each message to its field (GOV.UK's error summary). It focused the box."""
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{web.url}/r/demo")
    async with page.expect_navigation():
        await page.locator(".menu-item", has_text="Tomato soup").first.locator(
            ".add-button").click()
    await page.fill("#name", "")
    await page.fill("#email", "ada@")
    async with page.expect_navigation():
        await page.locator("button.primary-action").click()
    assert await page.evaluate("() => document.activeElement.id") == "name", \
        await page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")
    field = page.locator("#name")
    assert await field.evaluate(IN_VIEW)
    assert await field.get_attribute("aria-invalid") == "true"
    assert await field.get_attribute("aria-describedby") == "name-error"
    assert await page.locator("#email").get_attribute("aria-invalid") == "true"
    links = page.locator("#form-errors a")
    assert [await link.get_attribute("href") for link in await links.all()] == [
        "#name", "#email"]
    await page.locator('#form-errors a[href="#email"]').click()  # the summary leads there
    assert await page.evaluate("() => document.activeElement.id") == "email"
    await context.close()


COVERED = """el => { const r = el.getBoundingClientRect();
  const bar = document.querySelector('.basket-bar');
  if (!bar || getComputedStyle(bar).display === 'none') return false;
  return r.bottom > bar.getBoundingClientRect().top; }"""


async def test_a_field_reached_with_tab_is_not_hidden_under_the_basket_bar(
        browser: Any, web: RunningProcess) -> None:
    """Tabbing through the checkout on a phone: "Place order and pay" and the allergy box
    ended under the sticky basket bar (an outside try), out of sight while focused."""
    context = await browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = await context.new_page()
    await _basket_at_the_bottom(page, web.url)
    await page.focus("#name")
    hidden = []
    for _ in range(40):
        await page.keyboard.press("Tab")
        focused = await page.evaluate_handle("() => document.activeElement")
        if await focused.evaluate(COVERED):
            hidden.append(await focused.evaluate("el => el.id || el.name || el.textContent"))
        if await focused.evaluate("el => el.matches('button.primary-action')"):
            break
    else:
        raise AssertionError("Tab never reached the order button")
    assert hidden == [], hidden
    await context.close()
