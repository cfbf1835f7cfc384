"""Staff accounts in real browsers (Debian's chromium) against real `orderpass web` and
`orderpass worker` processes and the Resend sandbox: the platform admin creates a restaurant
and invites its owner; the owner opens the emailed link (read from the sandbox mailbox),
chooses a password, invites a cook; the cook accepts and sees the restaurant's live board;
the owner removes the cook, whose open screen goes offline and whose session is over."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.accounts import emails
from app.accounts.tables import PasswordReset
from tests.helpers.accounts import add_invitation, user_id
from tests.helpers.browser import submit_login
from tests.helpers.infra import TEST_ENV
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess, start_web, start_worker

pytestmark = pytest.mark.browser

PASSWORD = "a fine long password"


@pytest.fixture(scope="module")
def _heartbeat_web(sandbox: RunningSandbox) -> Iterator[RunningProcess]:
    # Heartbeats every second: an open screen notices its session ended within about that.
    # One process for the module: what a test leaves lives in Postgres and Redis, reset
    # before the next (tests/e2e/conftest.py).
    with start_web(env={"SSE_HEARTBEAT_SECONDS": "1"}) as server:
        yield server


@pytest.fixture
def web(_heartbeat_web: RunningProcess, sandbox: RunningSandbox) -> Iterator[RunningProcess]:
    sandbox.configure(resend_webhook_url=f"{_heartbeat_web.url}/webhooks/resend",
                      resend_webhook_secret=TEST_ENV["RESEND_WEBHOOK_SECRET"])
    try:
        yield _heartbeat_web
    finally:
        sandbox.configure(resend_webhook_url="")


@pytest.fixture
def worker(web: RunningProcess) -> Iterator[RunningProcess]:
    """The worker sends the emails; its links point at the web process under test."""
    with start_worker(env={"PUBLIC_BASE_URL": web.url}) as running:
        yield running


def emailed_link(sandbox: RunningSandbox, to: str, path: str) -> str:
    """The `path…` link in the newest email to `to` (GET /mail/api/messages?to=…)."""
    message = sandbox.wait_for(lambda: sandbox.messages(to=to), timeout=20)[0]
    match = re.search(rf"https?://\S+{re.escape(path)}\S+", message["text"])
    assert match, message["text"]
    return match.group(0)


async def new_page(browser: Any, errors: list[str]) -> Any:
    page = await (await browser.new_context()).new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    return page


async def test_admin_invites_owner_who_invites_and_removes_a_cook(
        browser: Any, web: RunningProcess, worker: RunningProcess,
        sandbox: RunningSandbox) -> None:
    errors: list[str] = []

    # The platform admin creates the restaurant and invites its owner.
    admin = await new_page(browser, errors)
    await admin.goto(f"{web.url}/admin/restaurants/new")
    await submit_login(admin, "admin@orderpass.test")
    await admin.wait_for_url(f"{web.url}/admin/restaurants/new")
    await admin.fill("#slug", "trattoria")
    await admin.fill("#name", "Trattoria Test")
    await admin.click("text=Create restaurant")
    await admin.wait_for_url(f"{web.url}/admin/restaurants/trattoria?saved=created")
    await admin.click("text=Staff and invitations")
    await admin.wait_for_url(f"{web.url}/manage/trattoria/staff")
    await admin.fill("#email", "owner@trattoria.test")
    await admin.select_option("#role", "owner")
    await admin.click("text=Send the invitation")
    await admin.wait_for_selector("text=Invitation sent.")
    assert "owner@trattoria.test" in await admin.inner_text("#invitations")

    # The owner opens the emailed link, chooses a password and is logged in.
    owner = await new_page(browser, errors)
    await owner.goto(emailed_link(sandbox, "owner@trattoria.test", "/invitations/"))
    assert "Join Trattoria Test" in await owner.inner_text("h1")
    await owner.fill("#password", PASSWORD)
    await owner.fill("#password_confirmation", PASSWORD + "?")
    await owner.click("text=Accept and log in")
    assert "differ" in await owner.inner_text("#password_confirmation-error")
    await owner.fill("#password", PASSWORD)
    await owner.fill("#password_confirmation", PASSWORD)
    await owner.click("text=Accept and log in")
    await owner.wait_for_url(f"{web.url}/manage/trattoria")

    # The owner invites a cook.
    await owner.click("nav >> text=Staff")
    await owner.wait_for_url(f"{web.url}/manage/trattoria/staff")
    assert await owner.locator("#role option[value=owner]").count() == 0
    await owner.fill("#email", "cook@trattoria.test")
    await owner.select_option("#role", "kitchen")
    await owner.click("text=Send the invitation")
    await owner.wait_for_selector("text=Invitation sent.")

    # The cook accepts and sees the restaurant's board, live.
    cook = await new_page(browser, errors)
    await cook.goto(emailed_link(sandbox, "cook@trattoria.test", "/invitations/"))
    await cook.fill("#password", PASSWORD)
    await cook.fill("#password_confirmation", PASSWORD)
    await cook.click("text=Accept and log in")
    await cook.wait_for_url(f"{web.url}/kitchen/trattoria")
    await cook.wait_for_selector("#connection.is-live", timeout=10_000)

    # The owner removes the cook: the open screen goes to the login, the session is over.
    await owner.reload()
    member = owner.locator("#members tr", has_text="cook@trattoria.test")
    await member.get_by_label("Remove cook@trattoria.test").click()  # the question opens
    await member.get_by_role("button", name="Yes, remove cook@trattoria.test").click()
    await owner.wait_for_selector("text=Removed; their sessions have ended.")
    assert "cook@trattoria.test" not in await owner.inner_text("#members")
    await cook.wait_for_url("**/login?next=*", timeout=15_000)  # by itself
    await cook.goto(f"{web.url}/kitchen/trattoria")
    assert "/login" in cook.url  # sent to log in, and the old password no longer works
    await cook.fill("#email", "cook@trattoria.test")
    await cook.fill("#password", PASSWORD)
    await cook.click("button[type=submit]")
    assert "Wrong email or password." in await cook.inner_text("main")
    assert errors == []


NARROW = {"width": 320, "height": 640}
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


async def test_account_emails_and_pages_fit_320px(browser: Any, web: RunningProcess) -> None:
    invitation_id, link = await add_invitation("a.rather.long.address@example.test")
    reset = PasswordReset(staff_user=await user_id("owner@demo.test"), nonce="n",
                          expires_at=datetime.now(UTC) + timedelta(minutes=30))
    await reset.save()
    page = await browser.new_page(viewport=NARROW)
    for kind, ref in [(emails.INVITATION, emails.invitation_ref(invitation_id)),
                      (emails.RESET, emails.reset_ref(int(reset.id)))]:
        composed = await emails.compose(kind, ref, web.url)
        assert not isinstance(composed, str), composed
        await page.set_content(composed.rendered.html)
        assert await page.evaluate(OVERFLOW) <= 0, f"{kind} email scrolls sideways at 320 px"
    for path in (link, "/password-reset", emails.reset_url("", int(reset.id), "n"), "/login"):
        await page.goto(web.url + path)
        assert await page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways at 320 px"
    await submit_login(page, "owner@demo.test")
    await page.wait_for_url(f"{web.url}/manage/demo")
    for path in ("/manage/demo", "/manage/demo/staff", "/manage/demo/settings"):
        await page.goto(web.url + path)
        assert await page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways at 320 px"
