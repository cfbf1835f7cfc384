"""The admin queue in a real browser (Debian's chromium through Playwright): an admin logs
in, resolves a discrepancy in place (htmx swap, CSRF from the form) under the app's CSP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.payments.tables import Discrepancy
from tests.helpers.admin import ADMIN, make_discrepancy
from tests.helpers.browser import submit_login
from tests.helpers.server import RunningProcess, start_web

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def web() -> Iterator[RunningProcess]:
    with start_web() as server:
        yield server




async def test_admin_resolves_a_discrepancy_from_the_page(page: Any,
                                                          web: RunningProcess) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None)  # (CSP violations are console errors; a missing favicon is not ours)
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    discrepancy = await make_discrepancy("duplicate_payment", session_id="cs_test_browser",
                                         details={"reason": "paid twice"})

    await page.goto(f"{web.url}/admin/discrepancies")
    assert "/login" in page.url  # anonymous: sent to log in first
    await submit_login(page, ADMIN)
    await page.wait_for_url(f"{web.url}/admin/discrepancies")

    row = page.locator(f"#discrepancy-{discrepancy}")
    assert "paid twice" in await row.inner_text()
    await row.get_by_label("Resolution note").fill("Refunded by hand in the dashboard")
    await row.get_by_role("button", name="Resolve").click()
    resolved = page.locator(f"#discrepancy-{discrepancy}.status-resolved")
    await resolved.wait_for(timeout=10_000)
    assert f"Resolved by {ADMIN}" in await resolved.inner_text()
    assert page.url == f"{web.url}/admin/discrepancies"  # swapped in place, no reload

    stored = await Discrepancy.select().where(Discrepancy.id == discrepancy).first()
    assert stored is not None
    assert (stored["status"], stored["resolved_by"]) == ("resolved", ADMIN)
    assert stored["resolution_note"] == "Refunded by hand in the dashboard"

    # The live system page loads and polls without script errors.
    await page.click("nav.admin-nav >> text=System")
    await page.wait_for_selector("#system-status [data-component=postgres]")
    assert errors == []
