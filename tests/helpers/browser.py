"""Debian's chromium driven by Playwright: a browser fixture for end-to-end tests.

Skips with a clear reason on a laptop without /usr/bin/chromium; fails in CI, where the
browser is installed by `.ci/run`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.infra import TEST_ENV

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium to run browser tests)")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                    args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A fresh page (its own context: cookies are not shared between tests)."""
    context = await browser.new_context()
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def submit_login(page: Any, email: str) -> None:
    """Fill in and send the login form the page shows (the caller waits for where it leads)."""
    await page.fill("#email", email)
    await page.fill("#password", TEST_ENV["ORDERPASS_DEMO_PASSWORD"])
    await page.click("button[type=submit]")


async def logged_in_context(browser: Any, base_url: str, email: str, **options: Any) -> Any:
    """A new browser context already logged in as `email`, without touching a page: the
    login goes through the context's own HTTP client (same cookies), so the pages opened
    afterwards have seen no user gesture (as a screen switched on in the morning)."""
    context = await browser.new_context(base_url=base_url, **options)
    await context.request.get("/login")
    token = next(cookie["value"] for cookie in await context.cookies()
                 if cookie["name"] == "csrftoken")
    response = await context.request.post("/login", form={
        "email": email, "password": TEST_ENV["ORDERPASS_DEMO_PASSWORD"], "_csrf_token": token},
        max_redirects=0)
    assert response.status == 303, await response.text()
    return context


async def open_kitchen(browser: Any, base_url: str, errors: list[str],
                       slug: str = "demo") -> Any:
    """A kitchen screen a cook opened through the login form, connected to its live feed;
    script errors on it land in `errors`."""
    kitchen = await (await browser.new_context()).new_page()
    kitchen.on("pageerror", lambda error: errors.append(str(error)))
    await kitchen.goto(f"{base_url}/kitchen/{slug}")
    await submit_login(kitchen, f"kitchen@{slug}.test")
    await kitchen.wait_for_url(f"{base_url}/kitchen/{slug}")
    await kitchen.wait_for_selector("#connection.is-live", timeout=10_000)
    return kitchen


def box_inside(inner: dict[str, float], outer: dict[str, float], slack: float = 0.5) -> bool:
    return (inner["x"] >= outer["x"] - slack and inner["y"] >= outer["y"] - slack
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack)


@dataclass
class HeldRequests:
    """Requests the browser sends to a route, held until `release()`: what a page shows
    while its request is on its way (a slow network, a server riding out a hiccup)."""

    urls: list[str] = field(default_factory=list)
    sent: asyncio.Event = field(default_factory=asyncio.Event)
    answer: asyncio.Event = field(default_factory=asyncio.Event)

    async def first_sent(self, timeout: float = 10) -> None:
        await asyncio.wait_for(self.sent.wait(), timeout)

    def release(self) -> None:
        self.answer.set()


async def hold_requests(page: Any, pattern: str) -> HeldRequests:
    """Hold `page`'s requests to URLs matching `pattern` (Playwright's glob)."""
    held = HeldRequests()

    async def hold(route: Any) -> None:
        held.urls.append(route.request.url)
        held.sent.set()
        await held.answer.wait()
        await route.continue_()

    await page.route(pattern, hold)
    return held
