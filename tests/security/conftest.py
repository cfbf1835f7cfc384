"""Security suite fixtures: the integration fixtures (sandbox, migrated database, clean
seeded state per test, `client`), plus logged-in helpers and a browser page."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.server import RunningProcess, start_web
from tests.integration.conftest import *  # noqa: F403

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@pytest.fixture(scope="module")
def web() -> Iterator[RunningProcess]:
    """The web app as a real server process (browsers, SSE)."""
    with start_web(env={"SSE_HEARTBEAT_SECONDS": "1"}) as server:
        yield server


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium to run browser tests)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
