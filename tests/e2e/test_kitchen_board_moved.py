"""A tap aimed at one ticket does not press another that a new order just put under the
finger. A new ticket sorting first pushed the others along as the cook reached for the
top ticket's button, and the tap accepted the newcomer with the default prep time (an
outside try with a tablet: the diner was told "accepted"). So a ticket that arrived or
moved less than a moment ago takes no press, and the screen says so. Real Chromium, a
real web process; the presses land where the buttons are right after the move."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.orders.tables import PaidOrder
from tests.helpers.browser import open_kitchen
from tests.helpers.orders import announce_paid, make_paid_order
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser


async def _status(order: PaidOrder) -> str:
    row = await PaidOrder.select(PaidOrder.status).where(PaidOrder.id == order.id).first()
    assert row is not None
    return str(row["status"])


async def _centre(button: Any) -> tuple[float, float]:
    box = await button.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def test_a_press_on_a_ticket_that_just_arrived_or_moved_is_not_sent_and_is_said(
        browser: Any, web: RunningProcess) -> None:
    later = datetime.now(UTC) + timedelta(minutes=45)
    waiting = await make_paid_order(status="accepted", prep_minutes=45, promised_at=later)
    errors: list[str] = []
    kitchen = await open_kitchen(browser, web.url, errors)
    if await kitchen.locator("#start-service").is_visible():
        await kitchen.click("#start-service-button")
    start = kitchen.locator(f"#card-{waiting.public_id} .act-start button[type=submit]")
    await start.wait_for()
    await asyncio.sleep(1)  # the board has been on the screen a while
    was = await _centre(start)

    newcomer = await make_paid_order()  # new: it sorts before the accepted ticket
    await announce_paid(newcomer)
    accept = kitchen.locator(f"#card-{newcomer.public_id} .act-accept button[type=submit]")
    await accept.wait_for(timeout=10_000)
    toast = kitchen.locator("#toast")
    # the accepted ticket was pushed along: its Start is no longer where it was
    assert await _centre(start) != was, "the new ticket did not move the board: no test"
    await kitchen.mouse.click(*await _centre(accept))  # the newcomer, just arrived
    await toast.wait_for(state="visible", timeout=5_000)
    assert (await toast.inner_text()).startswith(
        f"#{newcomer.ticket_number} just moved under your finger: nothing was done.")
    await asyncio.sleep(1)
    assert (await _status(waiting), await _status(newcomer)) == ("accepted", "paid")

    # Once they have sat still a moment, presses go through as ever.
    await kitchen.mouse.click(*await _centre(accept))
    await kitchen.wait_for_selector(f"#card-{newcomer.public_id}[data-status=accepted]",
                                    timeout=10_000)
    assert await _status(newcomer) == "accepted"
    assert errors == []
