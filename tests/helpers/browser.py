"""Debian's chromium driven by Playwright: a browser fixture for end-to-end tests. One
Chromium per test session (per xdist worker), launched by the first test that asks; each test
gets its own contexts, closed after it (`BrowserOfOneTest`).

Skips with a clear reason on a laptop without /usr/bin/chromium; fails in CI, where the
browser is installed by `.ci/run`."""

from __future__ import annotations

import asyncio
import contextlib
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
CLOSE_TIMEOUT_S = 15  # closing what a test opened; longer, and the browser is not reused


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium to run browser tests)")


class SharedChromium:
    """One Chromium per pytest session (per xdist worker), launched on first use: a worker
    that runs no browser test never starts one. A browser a test crashed is launched again."""

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None

    async def get(self) -> Any:
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        await self._close_browser()
        try:
            self._browser = await self._launch()
        except Exception:  # the Playwright driver itself went away: start it again, once
            await self._stop_playwright()
            self._browser = await self._launch()
        return self._browser

    async def _launch(self) -> Any:
        if self._playwright is None:
            from playwright.async_api import async_playwright

            self._playwright = await async_playwright().start()
        return await self._playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                      args=CHROMIUM_ARGS)

    async def discard(self) -> None:
        """Close the browser (a test left it in a state not worth reusing); the next test
        gets a new one."""
        await self._close_browser()

    async def _close_browser(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(browser.close(), CLOSE_TIMEOUT_S)

    async def _stop_playwright(self) -> None:
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            with contextlib.suppress(Exception):
                await playwright.stop()

    async def close(self) -> None:
        await self._close_browser()
        await self._stop_playwright()


class BrowserOfOneTest:
    """The shared Chromium as one test sees it: the contexts and pages the test opens are
    recorded and closed after it, so no cookies, storage or pages outlive the test (each
    context is a fresh profile of its own). Anything else goes to the browser itself."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self._contexts: list[Any] = []

    async def new_context(self, **options: Any) -> Any:
        context = await self._browser.new_context(**options)
        self._contexts.append(context)
        return context

    async def new_page(self, **options: Any) -> Any:
        """A page in a context of its own (closed with the page), as Browser.new_page."""
        page = await self._browser.new_page(**options)
        self._contexts.append(page.context)
        return page

    @property
    def contexts(self) -> list[Any]:
        """This test's open contexts (other tests' are closed, never shared)."""
        return [context for context in self._browser.contexts if context in self._contexts]

    async def close(self) -> None:
        """Close what this test opened (the browser itself stays up for the next tests)."""
        contexts, self._contexts = self._contexts, []
        await asyncio.wait_for(
            asyncio.gather(*(context.close() for context in contexts)), CLOSE_TIMEOUT_S)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
async def _shared_chromium() -> AsyncIterator[SharedChromium]:
    shared = SharedChromium()
    try:
        yield shared
    finally:
        await shared.close()


@pytest.fixture
async def browser(_shared_chromium: SharedChromium) -> AsyncIterator[BrowserOfOneTest]:
    """Chromium for one test: a browser shared by the worker's tests (launching one per test
    cost a second or more on a loaded machine), seen through `BrowserOfOneTest`, which closes
    every context the test opened once it ends."""
    require_chromium()
    scoped = BrowserOfOneTest(await _shared_chromium.get())
    try:
        yield scoped
    finally:
        try:
            await scoped.close()
        except Exception:  # a context that will not close: do not hand this browser on
            await _shared_chromium.discard()


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


# A ticket that arrived or moved on a kitchen screen less than 0.7 s ago takes no press
# (static/js/kitchen.js MOVED_MS: nobody aims at a button that was not there a moment ago):
# a test presses as a cook does, once the ticket has been seen.
A_LOOK_MS = 800


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


async def tablet_kitchen(browser: Any, base_url: str, errors: list[str], *,
                         viewport: dict[str, int], tickets: int) -> Any:
    """The demo kitchen on a touch tablet of `viewport`, live, its sound started as a cook
    starts service, once its board shows `tickets` tickets; script errors land in `errors`."""
    context = await logged_in_context(browser, base_url, "kitchen@demo.test",
                                      viewport=viewport, has_touch=True)
    kitchen = await context.new_page()
    kitchen.on("pageerror", lambda error: errors.append(str(error)))
    await kitchen.goto("/kitchen/demo")
    await kitchen.wait_for_selector("#connection.is-live", timeout=10_000)
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.locator("#start-service-button").tap()
    await kitchen.wait_for_function(
        f"() => document.querySelectorAll('#board .order-card').length === {tickets}")
    return kitchen


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


async def covered_tickets(kitchen: Any, message: Any) -> list[str]:
    """The ids of the kitchen board's tickets `message` (a locator) lies over."""
    box = await message.bounding_box()
    assert box is not None
    covered = []
    for card in await kitchen.locator("#board .order-card").all():
        card_box = await card.bounding_box()
        if card_box is not None and overlaps(box, card_box):
            covered.append(await card.get_attribute("id") or "?")
    return covered


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
