"""A kitchen screen's clocks run on their own: a ticket's age and its auto-reject countdown
move every second on a quiet board, with no frame from the server (they used to move only
when a frame redrew the board, so the countdown could be a minute behind)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.browser import open_kitchen
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser


async def test_age_and_auto_reject_countdown_tick_without_frames(
        browser: Any, web: RunningProcess) -> None:
    # the demo restaurant auto-rejects after 10 min; paid 8.5 min ago: the countdown shows
    order = await make_paid_order(paid_at=datetime.now(UTC) - timedelta(minutes=8, seconds=30))
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    card = kitchen.locator(f"#card-{order.public_id}")
    countdown = card.locator("[data-auto-reject]")
    await countdown.wait_for(state="visible")
    age = card.locator("[data-age]")
    first_age, first_left = await age.text_content(), await countdown.text_content()
    await asyncio.sleep(2.2)
    assert await age.text_content() != first_age
    assert await countdown.text_content() != first_left
    assert (await countdown.text_content() or "").startswith("Auto-reject in 1:")
    assert errors == []
