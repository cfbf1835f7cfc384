"""axe-core (from the npm registry, `devDependencies` in package.json) on every page a diner,
a cook or an owner sees, in the states that matter (errors shown, dialogs open, live
tickets, notices): no serious or critical violation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.orders.tables import PaidOrder
from tests.helpers.accounts import add_invitation, add_password_reset
from tests.helpers.browser import logged_in_context
from tests.helpers.orders import announce_paid, back_from_stripe, make_paid_order, valid_order
from tests.helpers.server import ROOT, RunningProcess

pytestmark = pytest.mark.browser
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.impact + ' ' + v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' '))
    .join(' | '));
}"""


def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install` (npm ci installs axe-core)")
    return Path(AXE).read_text()


async def audit(page: Any, label: str, found: dict[str, list[str]]) -> None:
    """Run axe on the page as it is now; serious/critical violations are kept by label."""
    await page.evaluate(axe_source())  # through the devtools protocol: the page's CSP stays
    problems = await page.evaluate(RUN_AXE)
    if problems:
        found[label] = problems


async def test_diner_pages(browser: Any, web: RunningProcess) -> None:
    found: dict[str, list[str]] = {}
    async with httpx.AsyncClient(base_url=web.url) as client:
        unpaid = (await client.post("/api/orders", json=await valid_order(client))).json()
    paid = await make_paid_order(status="accepted", allergy="peanuts")
    context = await browser.new_context(base_url=web.url, viewport={"width": 390, "height": 844},
                                        has_touch=True, is_mobile=True)
    page = await context.new_page()
    for path in ("/", "/r/demo", f"/orders/{unpaid['id']}",
                 back_from_stripe(unpaid), f"/orders/{paid.public_id}",
                 "/login"):
        await page.goto(path)
        await audit(page, path, found)
    await page.goto("/r/demo")
    await page.locator("#add-1").tap()
    await page.locator("#inc-1").wait_for()
    await page.locator("label:has(#allergic-1)").tap()
    await page.locator("label[for=fulfillment-delivery]").tap()
    await page.evaluate("document.getElementById('order-form').noValidate = true")
    await page.locator("button.primary-action").tap()
    await page.wait_for_selector("#form-errors")
    await audit(page, "/r/demo with a basket and errors", found)
    await page.goto("/login")
    await page.fill("#email", "kitchen@demo.test")
    await page.fill("#password", "wrong")
    await page.click("button[type=submit]")
    await page.wait_for_selector(".form-errors")
    await audit(page, "/login with an error", found)
    await context.close()
    assert found == {}


async def test_kitchen_pages(browser: Any, web: RunningProcess) -> None:
    found: dict[str, list[str]] = {}
    now = datetime.now(UTC)
    new = await make_paid_order(items=[("Burrata", 1150, 1, "extra peaches")], allergy="nuts")
    await make_paid_order(status="preparing", promised_at=now - timedelta(minutes=3))
    rejected = await make_paid_order(status="refunded", auto_rejected=True,
                                     rejected_at=now, refunded_at=now)
    assert rejected.auto_rejected
    context = await logged_in_context(browser, web.url, "kitchen@demo.test",
                                      viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await page.goto("/kitchen/demo")
    await page.wait_for_selector("#connection.is-live")
    await audit(page, "/kitchen/demo start overlay", found)
    await page.click("#start-service-button")
    await page.locator(".notice-auto-reject").wait_for()
    await audit(page, "/kitchen/demo", found)
    await page.locator(f"#card-{new.public_id} .reject-open").click()
    await page.wait_for_selector("#reject-dialog[open]")
    await audit(page, "/kitchen/demo reject dialog", found)
    await page.click("#reject-cancel")
    await page.click("#controls-open")
    await page.locator("#controls section").first.wait_for()
    await audit(page, "/kitchen/demo menu & pause", found)
    await page.click("#controls-close")
    await page.keyboard.press("d")
    await audit(page, "/kitchen/demo dense", found)
    for _ in range(8):  # a portrait tablet with more tickets than fit: "+N more" at its foot
        await announce_paid(await make_paid_order())
    await page.set_viewport_size({"width": 768, "height": 1024})
    await page.locator("#more-below").wait_for()
    await audit(page, "/kitchen/demo portrait, +N more", found)
    ticket = await context.new_page()
    await ticket.add_init_script("window.print = () => {}")
    await ticket.goto(f"/kitchen/demo/orders/{new.public_id}/ticket")
    await audit(ticket, "printed ticket", found)
    await context.close()
    assert found == {}


async def test_admin_pages(browser: Any, web: RunningProcess) -> None:
    found: dict[str, list[str]] = {}
    order = await make_paid_order(status="completed", allergy="gluten")
    assert await PaidOrder.objects().get(PaidOrder.id == order.id)
    context = await logged_in_context(browser, web.url, "admin@orderpass.test",
                                      viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    for path in ("/admin/orders", f"/admin/orders?q=%23{order.ticket_number}",
                 f"/admin/orders/{order.public_id}", "/admin/discrepancies", "/admin/webhooks",
                 "/admin/emails", "/admin/emails?status=skipped", "/admin/restaurants",
                 "/admin/restaurants/new", "/admin/restaurants/demo",
                 "/admin/restaurants/demo/menu/1", "/admin/system", "/admin/analytics"):
        response = await page.goto(path)
        assert response is not None and response.status == 200, path
        await audit(page, path, found)
    await context.close()
    assert found == {}


# Every page an owner or manager uses to run the restaurant, and the pages an account email
# opens (no session): the forms with their errors shown where a mistake is easy.
OWNER_PAGES = ("/manage/demo", "/manage/demo/settings", "/manage/demo/staff",
               "/manage/demo/hours", "/manage/demo/menu", "/manage/demo/menu/items/new",
               "/manage/demo/menu/items/1")


async def test_owner_and_account_pages(browser: Any, web: RunningProcess) -> None:
    found: dict[str, list[str]] = {}
    _, invitation = await add_invitation("new-cook@demo.test")
    reset = await add_password_reset("kitchen@demo.test")
    anonymous = await browser.new_context(base_url=web.url, viewport={"width": 390, "height": 844})
    page = await anonymous.new_page()
    for path in (invitation, "/password-reset/", reset):
        response = await page.goto(path)
        assert response is not None and response.status == 200, path
        await audit(page, path, found)
    await page.goto(invitation)
    await page.evaluate("for (const f of document.forms) f.noValidate = true")
    await page.locator("form button[type=submit]").last.click()
    await page.wait_for_load_state()
    await audit(page, "invitation with errors", found)
    await anonymous.close()
    context = await logged_in_context(browser, web.url, "owner@demo.test",
                                      viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    for path in OWNER_PAGES:
        response = await page.goto(path)
        assert response is not None and response.status == 200, path
        await audit(page, path, found)
    await context.close()
    assert found == {}
