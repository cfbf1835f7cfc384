"""Real browser (Debian's chromium via Playwright) against a real `orderpass web`: every page
works under the Content-Security-Policy (no violation reported, htmx and SSE still work),
and hostile customer input renders as text: no script runs, no request htmx would make."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers.browser import submit_login
from tests.helpers.orders import make_paid_order
from tests.helpers.payloads import HOSTILE
from tests.helpers.routes import ROUTES
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser

ADMIN_PAGES = [*sorted(path for (method, path), kind in ROUTES.items()
                      if kind == "admin" and method == "GET" and "{" not in path
                      and not path.endswith(".csv")), "/admin/restaurants/demo"]

# Records violations from inside the page too (console wording differs between versions).
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


class Watched:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.requests.append(request.url))

        async def dismiss(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)

    async def assert_clean(self) -> None:
        in_page = await self.page.evaluate("window.__csp || []")
        violations = [line for line in self.console if "Content Security Policy" in line
                      or "Content-Security-Policy" in line]
        assert not violations and not in_page, (violations, in_page)
        assert not self.errors, self.errors
        assert not self.dialogs, self.dialogs


async def new_page(browser: Any) -> Watched:
    context = await browser.new_context()
    await context.add_init_script(WATCH_CSP)
    return Watched(await context.new_page())


def submit_order(web: RunningProcess, **customer: str) -> dict[str, Any]:
    menu = httpx.get(f"{web.url}/api/restaurants/demo/menu").json()["items"]
    body = {"restaurant": "demo",
            "items": [{"menu_item_id": menu[0]["id"], "quantity": 1,
                       "notes": customer.pop("item_notes", "")}],
            "customer": {"name": customer.pop("name", "Ada"), "email": "ada@example.com"},
            "fulfillment": "pickup", "notes": customer.pop("notes", "")}
    response = httpx.post(f"{web.url}/api/orders", json=body, timeout=20)
    assert response.status_code == 201, response.text
    return response.json()


async def test_every_page_works_under_the_csp(browser: Any, web: RunningProcess) -> None:
    watched = await new_page(browser)
    page = watched.page
    response = await page.goto(f"{web.url}/")
    assert response.headers["content-security-policy"].startswith("default-src 'self'")

    await page.goto(f"{web.url}/r/demo")
    await page.locator("button.add-button").first.click()  # htmx swap of the order form
    await page.locator(".quantity-controls").first.wait_for(timeout=5_000)

    unpaid = submit_order(web)
    await page.goto(f"{web.url}/orders/{unpaid['id']}")
    await page.locator(".pay-button").wait_for()
    await page.locator("[data-countdown]").filter(has_text="left").wait_for(timeout=5_000)

    paid = await make_paid_order()
    await page.goto(f"{web.url}/orders/{paid.public_id}")
    await page.locator(".progress-steps").wait_for()

    await page.goto(f"{web.url}/login")
    await submit_login(page, "kitchen@demo.test")
    await page.wait_for_url(f"{web.url}/kitchen/demo")
    await page.wait_for_selector("#connection.is-live", timeout=10_000)  # SSE: connect-src
    await page.locator(f"#card-{paid.public_id}").wait_for()
    await watched.assert_clean()


async def test_hostile_order_is_inert_in_the_browser(browser: Any, web: RunningProcess) -> None:
    payload = " ".join(HOSTILE)
    order = await make_paid_order(customer_name=payload[:120], notes=payload,
                                  items=[("Burrata", 1150, 1, payload)])
    watched = await new_page(browser)
    page = watched.page
    await page.goto(f"{web.url}/login")
    await submit_login(page, "kitchen@demo.test")
    await page.wait_for_url(f"{web.url}/kitchen/demo")
    await page.wait_for_selector("#connection.is-live", timeout=10_000)
    card = page.locator(f"#card-{order.public_id}")
    await card.wait_for()
    await page.wait_for_timeout(1_500)  # an SSE board swap happened; give htmx time to act
    text = await card.inner_text()
    assert "<script>alert(1)</script>" in text
    assert 'hx-get="/logout"' in text
    assert await card.locator("script, img, div[hx-get]").count() == 0

    await page.goto(f"{web.url}/orders/{order.public_id}")
    await page.locator(".progress-steps").wait_for()
    await page.wait_for_timeout(500)
    assert await page.locator("main script, main img, main [hx-get='/logout']").count() == 0
    assert not [url for url in watched.requests if url.endswith("/logout") or "/x" in url]
    await watched.assert_clean()


async def test_admin_pages_work_under_the_csp(browser: Any, web: RunningProcess) -> None:
    await make_paid_order()
    watched = await new_page(browser)
    page = watched.page
    await page.goto(f"{web.url}/login")
    await submit_login(page, "admin@orderpass.test")
    await page.wait_for_url(f"{web.url}/admin")
    for path in ADMIN_PAGES:
        response = await page.goto(f"{web.url}{path}")
        assert response.status == 200, path
        await page.wait_for_timeout(200)  # deferred scripts and first htmx requests
    await watched.assert_clean()
