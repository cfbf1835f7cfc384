"""A paid scheduled order waits under "Scheduled" and reaches the board at its slot minus
prep: the release sweep (run here with a chosen clock, as the worker's cron runs it) stamps it
and announces it through the outbox to an already-open kitchen stream of another process; on
the board it sorts and is late by its slot; auto-reject counts from its release."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from app import outbox_consumers
from app.kitchen import services
from app.orders import lifecycle
from app.orders.release import RELEASE_LEAD_MINUTES, release_due
from app.orders.tables import PaidOrder
from app.piccolo_conf import DB
from app.platform import outbox
from app.platform.tables import Outbox
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


@pytest.fixture
async def unreachable_redis() -> AsyncIterator[Redis]:
    """A Redis client for a port nobody listens on: the process "dies" right after commit."""
    broken = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    yield broken
    await broken.aclose()


async def demo() -> Restaurant:
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    return restaurant


async def test_scheduled_order_waits_then_reaches_an_open_screen_ahead_of_slot_minus_prep(
        web: RunningProcess, plain_redis: Redis) -> None:
    outbox_consumers.load()
    slot = next_slot(datetime.now(UTC) + timedelta(hours=2))
    asap = await make_paid_order()
    later = await make_paid_order(scheduled_for=slot, prep_minutes=20,
                                  paid_at=datetime.now(UTC) - timedelta(hours=1))
    release_at = slot - timedelta(minutes=20 + RELEASE_LEAD_MINUTES)

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
    next_day = next_slot(now + timedelta(days=1))
    today = await make_paid_order(scheduled_for=soon, prep_minutes=15)
    ahead = await make_paid_order(scheduled_for=later, prep_minutes=15)
    following = await make_paid_order(scheduled_for=next_day, prep_minutes=15)
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
    assert f"pickup on {far:%a} {far.day} {far:%b} at {far:%H:%M}" in entry(ahead.public_id)
    near = soon.astimezone(BERLIN)
    if near.date() == now.astimezone(BERLIN).date():
        assert re.search(rf"pickup at {near:%H:%M} \(", entry(today.public_id)), \
            entry(today.public_id)
    else:  # run in the last 45 minutes of the day
        assert f"pickup tomorrow at {near:%H:%M}" in entry(today.public_id)
    # Inside the sentence, lower case and in its order: "pickup tomorrow at 12:00 (…; on the
    # board tomorrow at 11:45)", not "pickup at tomorrow 12:00" (outside try).
    local_next = next_day.astimezone(BERLIN)
    if local_next.date() == now.astimezone(BERLIN).date() + timedelta(days=1):
        assert f"pickup tomorrow at {local_next:%H:%M}" in entry(following.public_id), (
            entry(following.public_id))
        assert re.search(r"on the board (tomorrow )?at \d\d:\d\d\)", entry(following.public_id))


BOOKED = "Payment received: your order is booked"
WAITING = "Payment received: waiting for the kitchen to accept"


@asynccontextmanager
async def status_frames(http: httpx.AsyncClient, ref: str
                        ) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
    """The order's status stream as the diner's page reads it (`/orders/{ref}/events`): its
    `order-updated` frames, decoded, in a queue (waiting on it with a timeout leaves the
    stream open)."""
    frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def read() -> None:
        async with http.stream("GET", f"/orders/{ref}/events") as response:
            assert response.status_code == 200
            async for event in events(response):
                if event.event == "order-updated":
                    frames.put_nowait(json.loads(event.data))

    reader = asyncio.create_task(read())
    try:
        yield frames
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def next_frame(frames: asyncio.Queue[dict[str, Any]], timeout: float = 10
                     ) -> dict[str, Any]:
    return await asyncio.wait_for(frames.get(), timeout)


async def progress_of(http: httpx.AsyncClient, ref: str) -> str:
    """What the status page swaps in on each frame (`hx-get` on `sse:order-updated`)."""
    response = await http.get(f"/orders/{ref}/progress", headers={"hx-request": "true"})
    assert response.status_code == 200
    return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())


async def test_the_release_reaches_the_diners_open_status_page_live(
        web: RunningProcess, plain_redis: Redis) -> None:
    """Booked, then released: the diner's open status stream hears of it at once and the page
    it re-renders says the kitchen is to accept it, without a reload, whatever the clock (the
    release decides, not the time of day: the sweep runs here with a chosen clock)."""
    outbox_consumers.load()
    slot = next_slot(datetime.now(UTC) + timedelta(hours=2))
    later = await make_paid_order(scheduled_for=slot, prep_minutes=20)
    release_at = slot - timedelta(minutes=20 + RELEASE_LEAD_MINUTES)
    async with httpx.AsyncClient(base_url=web.url, timeout=httpx.Timeout(10, read=15)) as http:
        assert BOOKED in await progress_of(http, later.public_id)
        async with status_frames(http, later.public_id) as frames:
            first = await next_frame(frames)
            assert await release_due(plain_redis, now=release_at) == [later.public_id]
            update = await next_frame(frames)  # the release's own frame, not a resync
            # what the page swaps in on that frame: the kitchen has it now
            page = await progress_of(http, later.public_id)
            assert WAITING in page and BOOKED not in page, page
            # and the frame itself says so (a page or client reading the stream's JSON)
            assert (first["status"], first.get("booked")) == ("paid", True), first
            assert (update["status"], update.get("booked")) == ("paid", False), update
            assert set(update) <= {"id", "status", "booked", "ticket_number", "prep_minutes",
                                   "promised_at", "updated_at"}  # status info only
        reloaded = " ".join(re.sub(
            r"<[^>]+>", " ", (await http.get(f"/orders/{later.public_id}")).text).split())
        assert WAITING in reloaded and BOOKED not in reloaded


async def test_a_release_whose_delivery_died_after_commit_reaches_the_page_by_the_relay(
        web: RunningProcess, plain_redis: Redis, unreachable_redis: Redis) -> None:
    """The sweep commits the release and its outbox row together; its process dies before
    delivering it (here: Redis unreachable right after commit). The row waits for the relay,
    which tells the diner's open page as the fast path would have."""
    outbox_consumers.load()
    slot = next_slot(datetime.now(UTC) + timedelta(hours=2))
    later = await make_paid_order(scheduled_for=slot, prep_minutes=20)
    release_at = slot - timedelta(minutes=20 + RELEASE_LEAD_MINUTES)
    key = f"kitchen:{later.public_id}:released"
    async with httpx.AsyncClient(base_url=web.url, timeout=httpx.Timeout(10, read=15)) as http, \
            status_frames(http, later.public_id) as frames:
        assert (await next_frame(frames)).get("booked") is True
        assert await release_due(unreachable_redis, now=release_at) == [
            later.public_id]
        row = await Outbox.select(Outbox.status, Outbox.kind).where(
            Outbox.dedupe_key == key).first()
        assert row == {"status": "pending", "kind": "kitchen.publish"}
        with pytest.raises(TimeoutError):  # nobody told the page
            await next_frame(frames, timeout=1.5)
        assert BOOKED not in await progress_of(http, later.public_id)  # it is released

        # The relay leaves fresh rows to the fast path for OUTBOX_GRACE_S; that passed.
        await DB.run_ddl("UPDATE outbox SET next_attempt_at = now() - interval '1 second' "
                         f"WHERE dedupe_key = '{key}'")
        counts = await outbox.relay(plain_redis)
        assert counts["done"] >= 1, counts
        update = await next_frame(frames)
        assert (update["status"], update.get("booked")) == ("paid", False), update
    done = await Outbox.select(Outbox.status).where(Outbox.dedupe_key == key).first()
    assert done == {"status": "done"}


async def test_a_booking_cannot_be_accepted_before_it_reaches_the_board(
        plain_redis: Redis) -> None:
    """An accept posted hours ahead (an outside try, through the route) took the ticket off
    "Scheduled" without putting it on the board, hidden until its release, and emailed the
    diner "being prepared" hours early. It is refused until the release."""
    slot = next_slot(datetime.now(UTC) + timedelta(hours=3))
    later = await make_paid_order(scheduled_for=slot, prep_minutes=20)
    release_at = slot - timedelta(minutes=20 + RELEASE_LEAD_MINUTES)
    with pytest.raises(lifecycle.IllegalTransition, match="booked for later"):
        await lifecycle.apply_action(later.public_id, "accept", actor="kitchen@demo.test",
                                     prep_minutes=20, restaurant_id=int((await demo()).id))
    assert (await reload(later.public_id)).status == "paid"
    await release_due(plain_redis, now=release_at)  # its time has come
    accepted = await lifecycle.apply_action(later.public_id, "accept",
                                            actor="kitchen@demo.test", prep_minutes=20)
    assert accepted.status == "accepted"
