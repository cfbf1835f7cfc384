"""A paid scheduled order waits under "Scheduled" and reaches the board at its slot minus
prep: the release sweep (run here with a chosen clock, as the worker's cron runs it) stamps it
and announces it through the outbox to an already-open kitchen stream of another process; on
the board it sorts and is late by its slot; auto-reject counts from its release."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from app import outbox_consumers
from app.kitchen import services
from app.orders import lifecycle
from app.orders.release import release_due
from app.orders.tables import PaidOrder
from app.restaurants.tables import Restaurant
from tests.helpers.hours import BERLIN, next_slot
from tests.helpers.orders import make_paid_order
from tests.helpers.payments import reload
from tests.helpers.server import RunningProcess
from tests.helpers.sse import events, logged_in, next_event


@pytest.fixture
async def plain_redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(os.environ["REDIS_URL"])
    yield client
    await client.aclose()


async def demo() -> Restaurant:
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    return restaurant


async def test_scheduled_order_waits_then_reaches_an_open_screen_at_slot_minus_prep(
        web: RunningProcess, plain_redis: Redis) -> None:
    outbox_consumers.load()
    slot = next_slot(datetime.now(UTC) + timedelta(hours=2))
    asap = await make_paid_order()
    later = await make_paid_order(scheduled_for=slot, prep_minutes=20,
                                  paid_at=datetime.now(UTC) - timedelta(hours=1))
    release_at = slot - timedelta(minutes=20)

    board = await services.board(await demo())
    assert [card.ref for card in board.cards] == [asap.public_id]
    assert [(item.ref, item.release_at) for item in board.scheduled] == [
        (later.public_id, release_at)]
    assert board.new_count == 1
    # An hour after payment, still waiting: not auto-rejected (its clock has not started).
    assert await lifecycle.auto_reject_overdue(redis=plain_redis) == []

    client = await logged_in(web, "kitchen@demo.test")
    try:
        async with client.stream("GET", "/kitchen/demo/events",
                                 headers={"accept": "text/event-stream"}) as response:
            stream = events(response).__aiter__()
            snapshot = await next_event(stream, "board")
            assert f'data-scheduled="{later.public_id}"' in snapshot.data
            assert f'id="card-{later.public_id}"' not in snapshot.data
            assert f'id="card-{asap.public_id}"' in snapshot.data

            early = await release_due(plain_redis,
                                      now=release_at - timedelta(seconds=1))
            assert early == []
            assert await release_due(plain_redis, now=release_at) == [
                later.public_id]
            update = await next_event(stream, "tickets")
            assert f'id="card-{later.public_id}"' in update.data  # live, no reload
            assert f'data-scheduled="{later.public_id}"' not in update.data
            assert await release_due(plain_redis, now=release_at) == []  # once
    finally:
        await client.aclose()

    board = await services.board(await demo(), now=release_at)
    released = next(card for card in board.cards if card.ref == later.public_id)
    assert released.due_at == slot  # late is measured against the slot
    assert released.auto_reject_at == release_at + timedelta(minutes=10)
    assert board.scheduled == [] and board.new_count == 2
    late = await services.board(await demo(), now=slot + timedelta(minutes=3))
    assert next(card for card in late.cards if card.ref == later.public_id).late_minutes == 3

    # Auto-reject counts from the release, not from payment.
    assert await lifecycle.auto_reject_overdue(redis=plain_redis) == []
    await make_released_long_ago(later.public_id)
    assert later.public_id in await lifecycle.auto_reject_overdue(
        redis=plain_redis)
    assert (await reload(later.public_id)).auto_rejected


async def make_released_long_ago(ref: str) -> None:
    await PaidOrder.update({PaidOrder.released_at: datetime.now(UTC) - timedelta(minutes=11)}
                           ).where(PaidOrder.public_id == ref)


async def test_scheduled_orders_on_another_day_name_their_day(web: RunningProcess) -> None:
    """Orders can be scheduled up to 60 days ahead: "pickup at 12:00" for today, tomorrow
    and Saturday read as three pickups today. A slot on another day names it."""
    now = datetime.now(UTC)
    soon = next_slot(now + timedelta(minutes=45))
    later = next_slot(now + timedelta(days=3))
    today = await make_paid_order(scheduled_for=soon, prep_minutes=15)
    ahead = await make_paid_order(scheduled_for=later, prep_minutes=15)
    client = await logged_in(web, "kitchen@demo.test")
    try:
        page = (await client.get("/kitchen/demo")).text
    finally:
        await client.aclose()

    def entry(ref: str) -> str:
        found = re.search(rf'data-scheduled="{ref}">(.*?)</li>', page, re.S)
        assert found, ref
        return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())

    far = later.astimezone(BERLIN)
    assert f"at {far:%a} {far.day} {far:%b} {far:%H:%M}" in entry(ahead.public_id)
    near = soon.astimezone(BERLIN)
    if near.date() == now.astimezone(BERLIN).date():
        assert re.search(rf"at {near:%H:%M} \(", entry(today.public_id)), entry(today.public_id)
    else:  # run in the last 45 minutes of the day
        assert f"at Tomorrow {near:%H:%M}" in entry(today.public_id)
