"""A new owner sets up their restaurant on a phone (390x844) in a real browser: the overview
shows the setup checklist without sideways scrolling, each step's link a thumb-sized target;
"Go live" is disabled while steps are missing, the reason beside it; the hours step is fixed
through its link, the kitchen step by the owner saying they run it themselves; "Go live"
pressed on a page left open while a step was undone is sent back to the overview naming what
is missing (focused), nothing changed, and reloading it posts nothing again; with every step
done, "Go live" makes the restaurant live and listed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.restaurants.tables import Restaurant
from tests.helpers.accounts import add_member, login
from tests.helpers.admin import ADMIN
from tests.helpers.browser import logged_in_context
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
NEW = {"slug": "corner", "name": "Corner Kitchen", "currency": "eur",
       "timezone": "Europe/Berlin", "default_prep_minutes": "15", "auto_reject_minutes": "10",
       "capture_mode": "automatic"}


async def test_the_owner_sets_up_and_goes_live_on_a_phone(browser: Any,
                                                          web: RunningProcess) -> None:
    async with httpx.AsyncClient(base_url=web.url) as client:
        token = await login(client, ADMIN)
        created = await client.post("/admin/restaurants", data={**NEW, "_csrf_token": token})
        assert created.status_code == 303, created.text[:500]
        added = await client.post("/admin/restaurants/corner/menu", data={
            "_csrf_token": token, "name": "Currywurst", "category": "Mains",
            "price": "6.50", "available": "on"})
        assert added.status_code == 303, added.text[:500]
    await add_member("owner@corner.test", "owner", "corner")
    # VAT and the seller set in the settings already (a form of many fields, not the point)
    await Restaurant.update({Restaurant.default_tax_rate: 700, Restaurant.tax_confirmed: True,
                             Restaurant.legal_name: "Corner Kitchen UG",
                             Restaurant.legal_address: "Torstraße 9, 10119 Berlin",
                             Restaurant.tax_id: "DE111222333"}).where(
        Restaurant.slug == "corner")

    errors: list[str] = []
    context = await logged_in_context(browser, web.url, "owner@corner.test", viewport=PHONE)
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto("/manage/corner")
    assert "not live yet" in await page.inner_text("#orders-now")
    assert await page.evaluate(OVERFLOW) <= 0, "the overview scrolls sideways at 390 px"
    hours = page.locator("#setup-hours")
    assert await hours.get_attribute("data-done") == "no"
    for link in await page.locator(".setup-step a").all():
        box = await link.bounding_box()
        assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 390

    # Too early: "Go live" is disabled, and says why beside it (its description).
    go_live = page.get_by_role("button", name="Go live")
    assert await go_live.is_disabled()
    hint = page.locator("#" + str(await go_live.get_attribute("aria-describedby")))
    assert await hint.inner_text() == "Finish the steps above to go live: 2 steps still to do."
    for element in (go_live, hint):
        box = await element.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390

    await hours.locator("a").click()
    await page.wait_for_url(f"{web.url}/manage/corner/hours")
    assert await page.get_attribute("#day_0", "placeholder") == "open around the clock"
    await page.click("text=Save hours")
    await page.wait_for_selector("text=Hours saved.")
    await page.goto("/manage/corner")
    # No cook yet: the owner runs the kitchen screen themselves, on purpose.
    myself = page.get_by_role("button", name="I'll run the kitchen screen myself")
    box = await myself.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 390
    await myself.click()
    await page.wait_for_selector("#setup-kitchen[data-done=yes]")
    assert await page.evaluate(OVERFLOW) <= 0
    assert await page.locator(".setup-step[data-done=no]").count() == 0
    assert await go_live.is_enabled()

    # A second tab left open with "Go live" ready, while the first takes the kitchen back:
    # pressed there, refused and sent back to the overview, which names what is missing.
    stale = await context.new_page()
    stale.on("pageerror", lambda error: errors.append(str(error)))
    posts: list[str] = []
    stale.on("request", lambda request: posts.append(request.url)
             if request.method == "POST" else None)
    await stale.goto("/manage/corner")
    await page.get_by_role("button", name="I won't run it myself after all").click()
    await page.wait_for_selector("#setup-kitchen[data-done=no]")
    await stale.get_by_role("button", name="Go live").click()
    await stale.wait_for_url(f"{web.url}/manage/corner?refused=1")
    refused = stale.locator("#go-live-refused")
    assert "1 step still to do" in await refused.inner_text()
    assert "Someone to run the kitchen" in await refused.inner_text()  # the owner is no cook
    assert await stale.evaluate("document.activeElement.id") == "go-live-refused"
    assert await stale.get_by_role("button", name="Go live").is_disabled()
    assert await stale.evaluate(OVERFLOW) <= 0
    assert posts == [f"{web.url}/manage/corner/go-live"]
    await stale.reload()  # reads the overview again: no second post
    await refused.wait_for()
    assert posts == [f"{web.url}/manage/corner/go-live"]
    row = await Restaurant.select(Restaurant.live_since).where(
        Restaurant.slug == "corner").first()
    assert row == {"live_since": None}
    await stale.close()

    await page.get_by_role("button", name="I'll run the kitchen screen myself").click()
    await page.wait_for_selector("#setup-kitchen[data-done=yes]")
    await page.click("#go-live button")
    await page.wait_for_url(f"{web.url}/manage/corner?live=1")
    assert "Corner Kitchen is live" in await page.inner_text("#went-live")
    assert "accepting" in await page.inner_text("#orders-now")
    await page.goto("/")
    assert await page.locator('a[href="/r/corner"]').count() == 1
    assert errors == []
