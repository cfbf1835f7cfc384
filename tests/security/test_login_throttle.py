"""Login guesses are limited per account as well as per client address (issue #14 item
8): fifteen addresses times fifteen guesses used to get through. After the account's
budget of failures even the right password is refused for a while, with a message that
says so; other accounts are untouched."""

from __future__ import annotations

from typing import Any, cast

import httpx
import pytest
from litestar import Litestar

from app.accounts.services import verify_password
from app.settings import get_settings
from tests.helpers.accounts import PASSWORD


def browser_at(app: Litestar, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=cast(Any, app),
                                                           client=(address, 40000)),
                             base_url="http://testserver")


async def attempt(app: Litestar, address: str, email: str, password: str) -> httpx.Response:
    async with browser_at(app, address) as browser:
        await browser.get("/login")
        return await browser.post("/login", data={
            "email": email, "password": password,
            "_csrf_token": browser.cookies["csrftoken"]})


async def test_guesses_from_many_addresses_lock_the_account(
        app: Litestar, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    budget = get_settings().login_failures_per_account
    assert budget > 0
    monkeypatch.setattr("app.accounts.services.verify_password", lambda *_: False)
    for guess in range(budget):  # one guess per address: no address limit is reached
        response = await attempt(app, f"10.0.{guess}.1", "kitchen@demo.test", f"guess{guess}")
        assert response.status_code == 401, response.text[:200]
    monkeypatch.undo()
    locked = await attempt(app, "10.9.9.9", "KITCHEN@demo.test", PASSWORD)
    assert locked.status_code == 429, locked.text[:300]
    assert "Too many failed logins for this account" in locked.text
    assert int(locked.headers["retry-after"]) > 0
    assert "orderpass_session" not in locked.headers.get("set-cookie", "")
    # Another account, from an address that guessed, is not affected.
    assert (await attempt(app, "10.0.0.1", "admin@orderpass.test", PASSWORD)).status_code == 303


async def test_a_successful_login_clears_the_failures(app: Litestar,
                                                      client: httpx.AsyncClient) -> None:
    budget = get_settings().login_failures_per_account
    for guess in range(budget - 1):
        assert (await attempt(app, f"10.1.{guess}.1", "kitchen@demo.test",
                              "wrong")).status_code == 401
    assert (await attempt(app, "10.1.99.1", "kitchen@demo.test", PASSWORD)).status_code == 303
    for guess in range(budget - 1):
        assert (await attempt(app, f"10.2.{guess}.1", "kitchen@demo.test",
                              "wrong")).status_code == 401
    assert (await attempt(app, "10.2.99.1", "kitchen@demo.test", PASSWORD)).status_code == 303


async def log_in_with(browser: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    await browser.get("/login")
    return await browser.post("/login", data={
        "email": email, "password": password, "_csrf_token": browser.cookies["csrftoken"]})


async def test_a_browser_the_account_used_before_is_not_locked_out_by_guessers(
        app: Litestar, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten wrong passwords from anywhere locked the kitchen's account for everyone: a way to
    shut a kitchen out at the start of service. The tablet that logged in before holds the
    account's device cookie and still logs in; an unknown browser, or a forged cookie, is
    still refused, also after the tablet got in; the tablet's own failures lock only itself
    (other accounts are untouched)."""
    budget = 3  # below the per-address limit of logins a minute, which the tablet also meets
    settings = get_settings().model_copy(update={"login_failures_per_account": budget})
    monkeypatch.setattr("app.accounts.controller.get_settings", lambda: settings)
    async with browser_at(app, "192.0.2.10") as tablet:
        assert (await log_in_with(tablet, "kitchen@demo.test", PASSWORD)).status_code == 303
        device = [name for name in tablet.cookies if name.startswith("orderpass_device_")]
        assert len(device) == 1, dict(tablet.cookies)

        monkeypatch.setattr("app.accounts.services.verify_password", lambda *_: False)
        for guess in range(budget):
            response = await attempt(app, f"10.3.{guess}.1", "kitchen@demo.test", "guess")
            assert response.status_code == 401
        monkeypatch.setattr("app.accounts.services.verify_password", verify_password)
        assert (await attempt(app, "10.3.99.1", "kitchen@demo.test",
                              PASSWORD)).status_code == 429  # an unknown browser
        async with browser_at(app, "10.3.98.1") as forger:
            forger.cookies.set(device[0], "made-up.0123456789abcdef0123456789abcdef",
                               path="/login")
            assert (await log_in_with(forger, "kitchen@demo.test",
                                      PASSWORD)).status_code == 429

        back = await log_in_with(tablet, "kitchen@demo.test", PASSWORD)
        assert back.status_code == 303, back.text[:300]
        assert (await tablet.get("/kitchen/demo")).status_code == 200
        # The tablet getting in does not lift the lock for the guessers' browsers.
        assert (await attempt(app, "10.3.97.1", "kitchen@demo.test",
                              PASSWORD)).status_code == 429

        # The tablet's own failures are its own: enough of them lock the tablet, not others.
        monkeypatch.setattr("app.accounts.services.verify_password", lambda *_: False)
        for _ in range(budget):
            assert (await log_in_with(tablet, "kitchen@demo.test",
                                      "wrong")).status_code == 401
        monkeypatch.setattr("app.accounts.services.verify_password", verify_password)
        assert (await log_in_with(tablet, "kitchen@demo.test", PASSWORD)).status_code == 429
    assert (await attempt(app, "10.4.0.1", "admin@orderpass.test", PASSWORD)).status_code == 303
