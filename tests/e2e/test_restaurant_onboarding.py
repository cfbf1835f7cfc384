"""A new restaurant from nothing to its first paid order, through web pages only (#16 item 8):
the platform admin creates it and invites its owner (the email read from the sandbox mailbox);
the owner accepts, sets VAT, the seller's legal details and opening hours, builds the menu (a
category, a dish with a required size and extras, another at its own VAT rate), goes live from
the overview's checklist; a diner orders and pays in the sandbox;
the order reaches the restaurant's kitchen screen with its options."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.browser import submit_login
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess, start_worker

pytestmark = pytest.mark.browser
PASSWORD = "a fine long password"


@pytest.fixture
def worker(web: RunningProcess) -> Iterator[RunningProcess]:
    """The worker sends the invitation; its link points at the web process under test."""
    with start_worker(env={"PUBLIC_BASE_URL": web.url}) as running:
        yield running


async def new_page(browser: Any, errors: list[str]) -> Any:
    page = await (await browser.new_context()).new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


async def test_admin_creates_owner_builds_menu_first_paid_order_reaches_the_kitchen(
        browser: Any, web: RunningProcess, worker: RunningProcess,
        sandbox: RunningSandbox) -> None:
    errors: list[str] = []
    admin = await new_page(browser, errors)
    await admin.goto(f"{web.url}/admin/restaurants/new")
    await submit_login(admin, "admin@orderpass.test")
    await admin.wait_for_url(f"{web.url}/admin/restaurants/new")
    await admin.fill("#slug", "osteria")
    await admin.fill("#name", "Osteria Nuova")
    await admin.click("text=Create restaurant")
    await admin.wait_for_url(f"{web.url}/admin/restaurants/osteria?saved=created")
    await admin.wait_for_selector("text=Osteria Nuova is created, not live yet")
    await admin.click("text=Staff and invitations")
    await admin.wait_for_url(f"{web.url}/manage/osteria/staff")
    await admin.fill("#email", "owner@osteria.test")
    await admin.select_option("#role", "owner")
    await admin.click("text=Send the invitation")
    await admin.wait_for_selector("text=Invitation sent.")

    owner = await new_page(browser, errors)
    message = sandbox.wait_for(lambda: sandbox.messages(to="owner@osteria.test"), timeout=20)[0]
    link = re.search(r"https?://\S+/invitations/\S+", message["text"])
    assert link, message["text"]
    await owner.goto(link.group(0))
    await owner.fill("#password", PASSWORD)
    await owner.fill("#password_confirmation", PASSWORD)
    await owner.click("text=Accept and log in")
    await owner.wait_for_url(f"{web.url}/manage/osteria")

    # VAT: prices include it, 7 % by default.
    await owner.click("nav >> text=Settings")
    await owner.wait_for_url(f"{web.url}/manage/osteria/settings")
    await owner.select_option("#tax_mode", "included")
    await owner.fill("#default_tax_rate", "7")
    await owner.fill("#legal_name", "Osteria Nuova S.r.l.")
    await owner.fill("#legal_address", "Via Roma 1, 00100 Roma")
    await owner.fill("#tax_id", "IT12345678901")
    await owner.click("text=Save settings")
    await owner.wait_for_selector("text=Saved.")

    # Hours: open all day every day, up to 4 orders per 15-minute slot.
    await owner.click("nav >> text=Hours")
    await owner.wait_for_url(f"{web.url}/manage/osteria/hours")
    for day in range(7):
        await owner.fill(f"#day_{day}", "00:00-24:00")
    await owner.fill("#slot_capacity", "4")
    await owner.click("text=Save hours")
    await owner.wait_for_selector("text=Hours saved.")
    # not live yet: the page says so rather than "Open now"
    assert "not taking orders yet" in await owner.inner_text("#hours-now")

    # The menu: a category, a pizza with a required size and extras, a drink at 19 %.
    await owner.click("nav >> text=Menu")
    await owner.wait_for_url(f"{web.url}/manage/osteria/menu")
    await owner.fill("#new-category", "Pizze")
    await owner.click("text=Add category")
    await owner.wait_for_selector("text=Categories saved.")
    await owner.click("text=Add a dish")
    await owner.fill("#name", "Diavola")
    await owner.fill("#category", "Pizze")
    await owner.fill("#price", "11.00")
    await owner.fill("#group-0-name", "Size")
    await owner.check("#group-0-required")
    await owner.fill("#group-0-min", "1")
    await owner.fill("#group-0-max", "1")
    await owner.fill("#group-0-options", "Normal\nLarge | 3.50")
    await owner.fill("#group-1-name", "Extras")
    await owner.fill("#group-1-max", "2")
    await owner.fill("#group-1-options", "Burrata | 2.00\nChili")
    await owner.click("text=Save dish")
    await owner.wait_for_selector("text=Dish saved.")
    await owner.click("text=Add a dish")
    await owner.fill("#name", "Chinotto")
    await owner.fill("#category", "Bevande")  # a new category, made with the dish
    await owner.fill("#price", "3.50")
    await owner.fill("#tax_rate", "19")
    await owner.click("text=Save dish")
    await owner.wait_for_selector("text=Dish saved.")
    assert "Bevande" in await owner.inner_text("main")

    # Every step of the setup checklist done: the owner goes live.
    await owner.click("nav >> text=Overview")
    await owner.wait_for_url(f"{web.url}/manage/osteria")
    # No cook invited: the owner says they run the kitchen screen themselves.
    await owner.click("text=I'll run the kitchen screen myself")
    await owner.wait_for_selector("#setup-kitchen[data-done=yes]")
    assert await owner.locator(".setup-step[data-done=no]").count() == 0
    await owner.click("text=Go live")
    await owner.wait_for_selector("text=Osteria Nuova is live")

    kitchen = await owner.context.new_page()  # the owner opens the kitchen screen too
    await kitchen.goto(f"{web.url}/kitchen/osteria")
    await kitchen.wait_for_selector("#connection.is-live", timeout=10_000)

    diner = await new_page(browser, errors)
    await diner.goto(f"{web.url}/r/osteria")
    pizza = diner.locator(".menu-item", has_text="Diavola")
    await pizza.get_by_label("Large").check()
    await pizza.get_by_label("Burrata").check()
    await pizza.locator(".add-button").click()
    await diner.wait_for_selector("text=Size: Large; Extras: Burrata")
    await diner.locator(".menu-item", has_text="Chinotto").locator(".add-button").click()
    await diner.wait_for_selector("[data-testid=cart-total]:has-text('€20.00')")
    text = await diner.inner_text(".cart")
    assert "VAT 7%" in text and "VAT 19%" in text
    await diner.fill("#name", "Ada Lovelace")
    await diner.fill("#email", "ada@example.com")
    await diner.click("button.primary-action")
    await diner.wait_for_url(re.compile(r".*/orders/TEMP-[A-Za-z0-9]+$"))
    order_ref = diner.url.rsplit("/", 1)[1]
    await diner.locator("a.pay-button").click()
    await diner.wait_for_url(re.compile(r".*/pay/cs_test_.*"))
    await diner.click("button[value=succeeded]")
    await diner.wait_for_url(re.compile(rf".*/orders/{order_ref}\?checkout=success.*"))

    card = kitchen.locator(f"#card-{order_ref}")
    await card.wait_for(timeout=15_000)
    text = await card.inner_text()
    assert "Diavola" in text and "Size: Large; Extras: Burrata" in text and "Chinotto" in text
    assert errors == []
