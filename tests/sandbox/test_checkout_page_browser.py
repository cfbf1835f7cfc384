"""The hosted checkout page in a real browser (Debian's chromium through Playwright)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import stripe

from tests.helpers.sandbox import RunningSandbox
from tests.helpers.webhook_receiver import Receiver, session_params, verify_stripe

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_page():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium to run browser tests)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_pay_through_hosted_page(
    browser_page,  # type: ignore[no-untyped-def]
    sandbox: RunningSandbox,
    client: stripe.StripeClient,
    stripe_receiver: Receiver,
) -> None:
    page = browser_page
    session = client.v1.checkout.sessions.create(
        params=session_params(
            success_url=f"{sandbox.url}/mail?paid={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{sandbox.url}/mail?cancelled={{CHECKOUT_SESSION_ID}}",
        )
    )
    page.goto(session.url)
    assert page.locator("tr.line-item").count() == 2
    assert "Margherita" in page.inner_text("tbody")
    assert page.inner_text("#total") == "28.00 EUR"

    page.click("#pay-declined")
    assert "declined" in page.inner_text("#error")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"

    page.click("#pay")
    page.wait_for_url(f"**/mail?paid={session.id}")
    sandbox.wait_for(lambda: stripe_receiver.events_of_type("checkout.session.completed"))
    completed = [
        e for e in verify_stripe(stripe_receiver) if e.type == "checkout.session.completed"
    ]
    assert completed[0].data.object["id"] == session.id
    assert completed[0].data.object["payment_status"] == "paid"

    page.goto(session.url)
    assert "already complete" in page.inner_text("#state")

    other = client.v1.checkout.sessions.create(
        params=session_params(cancel_url=f"{sandbox.url}/mail?cancelled={{CHECKOUT_SESSION_ID}}")
    )
    page.goto(other.url)
    page.click("#cancel")
    page.wait_for_url(f"**/mail?cancelled={other.id}")
    client.v1.checkout.sessions.expire(other.id)
    page.goto(other.url)
    assert "expired" in page.inner_text("#state")
