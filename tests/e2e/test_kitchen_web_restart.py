"""A kitchen screen whose web process is stopped gracefully (SIGTERM: a deploy) says it is
offline at once: its stream ends cleanly as the process begins to stop
(`app.live.web_server`). It used to stay open, the screen "Live" against a server that
accepted nothing, until uvicorn gave up on it 10 s later (an outside try: the banner at
+10.5 s, every press failing meanwhile)."""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest

from tests.helpers.browser import open_kitchen
from tests.helpers.server import start_web

pytestmark = pytest.mark.browser
BANNER_WITHIN_S = 2.0


async def test_a_screen_says_offline_as_soon_as_its_server_begins_to_stop(
        browser: Any) -> None:
    errors: list[str] = []
    with start_web(env={"WEB_GRACEFUL_SHUTDOWN_SECONDS": "10"}) as web:
        kitchen = await open_kitchen(browser, web.url, errors)
        banner = kitchen.locator("#offline-banner")
        assert await banner.is_hidden()
        web.process.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        await banner.wait_for(state="visible", timeout=BANNER_WITHIN_S * 1000)
        print(f"offline banner {time.monotonic() - stopped:.2f} s after SIGTERM")
        assert await kitchen.locator("#connection").inner_text() != "Live"
    assert errors == []
