"""Kitchen SSE in one process: every screen of a restaurant shares one render per burst of
events (the hub) and gets only the tickets that changed, as the same bytes; a snapshot
is never followed by an update older than itself; a stalled screen is resynced, not
buffered; the channel subscription survives screens coming and going."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from asgi_lifespan import LifespanManager
from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.response import ServerSentEventMessage

from app.kitchen import board_feed, services
from app.live import hub
from app.live.feed import kitchen_channel, publish_order_event
from app.live.shared_render import SharedRender, tick
from app.live.sse import channel_stream, encoded
from app.orders.lifecycle import apply_action
from app.restaurants.tables import Restaurant
from tests.helpers.orders import make_paid_order

SCREENS = 25
Stream = AsyncIterator[ServerSentEventMessage]


@pytest.fixture
async def running_app(app: Litestar) -> AsyncIterator[Litestar]:
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def demo() -> Restaurant:
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    return restaurant


def screen(app: Litestar, restaurant: Restaurant) -> Stream:
    channels = app.plugins.get(ChannelsPlugin)
    return board_feed.board_stream(channels, restaurant, heartbeat_s=30)


async def next_event(stream: Stream, name: str) -> str:
    """The wire text of the next message carrying event `name` (pings are skipped)."""
    while True:
        item = await asyncio.wait_for(anext(stream), 10)
        wire = item.encode().decode()
        if f"event: {name}" in wire:
            return wire


async def close(streams: list[Stream]) -> None:
    for stream in streams:
        await stream.aclose()  # type: ignore[attr-defined]


async def test_screens_share_one_render_per_burst_and_get_only_the_changes(
        running_app: Litestar, redis: ArqRedis, demo: Restaurant) -> None:
    first = await make_paid_order()
    streams = [screen(running_app, demo) for _ in range(SCREENS)]
    try:
        snapshots = await asyncio.gather(*(next_event(s, board_feed.BOARD_EVENT)
                                           for s in streams))
        # The first screen starts the channel's hub; the 24 that wait for it share a render.
        assert len(set(snapshots)) <= 2
        assert all(first.public_id in html for html in snapshots)
        assert not any("_csrf_token" in html for html in snapshots)  # no session's token
        feed = hub.hub_of(running_app.plugins.get(ChannelsPlugin),
                          kitchen_channel(services.row_id(demo)))
        assert feed is not None and len(feed.inboxes) == SCREENS
        for _burst in range(3):
            before = feed.renders
            order = await make_paid_order()
            await publish_order_event(redis, order.restaurant, order.public_id, "order.paid")
            updates = await asyncio.gather(*(next_event(s, board_feed.TICKETS_EVENT)
                                             for s in streams))
            assert len(set(updates)) == 1
            html = updates[0]
            assert f'data-ticket="{order.public_id}"' in html
            assert first.public_id not in html  # unchanged tickets are not resent
            assert "_csrf_token" not in html
            assert "All day" in html  # the side panels come along
            assert feed.renders - before == 1  # one render for all the screens
    finally:
        await close(streams)


async def test_a_ticket_that_leaves_the_board_is_sent_as_gone(
        running_app: Litestar, redis: ArqRedis, demo: Restaurant) -> None:
    order = await make_paid_order()
    stream = screen(running_app, demo)
    try:
        await next_event(stream, board_feed.BOARD_EVENT)
        for action in ("accept", "start", "ready", "complete"):
            await apply_action(order.public_id, action, actor="test", prep_minutes=10,
                               restaurant_id=services.row_id(demo), redis=redis)
            html = await next_event(stream, board_feed.TICKETS_EVENT)
        assert f'data-ticket="{order.public_id}" data-gone' in html
        assert f"Recall #{order.ticket_number}" in html  # the recall panel offers it
    finally:
        await close([stream])


async def test_an_update_rendered_before_a_snapshot_is_not_sent_after_it(
        running_app: Litestar, redis: ArqRedis) -> None:
    channels = running_app.plugins.get(ChannelsPlugin)
    channel = "orderpass:test:ordering"
    state = {"version": "v1"}
    composing, release = asyncio.Event(), asyncio.Event()

    async def snapshot(_after: int) -> tuple[int, ServerSentEventMessage]:
        started = tick()
        return started, encoded("board", state["version"])

    async def compose(_batch: list[bytes]) -> ServerSentEventMessage:
        seen = state["version"]  # what the render read, before it was held up
        composing.set()
        await release.wait()
        return encoded("tickets", f"update read {seen}")

    early = channel_stream(channels, channel, snapshot, compose, heartbeat_s=30)
    assert "v1" in (await anext(early)).encode().decode()
    await redis.publish(channel, b'{"order_ref": "A"}')
    await asyncio.wait_for(composing.wait(), 5)  # the hub is rendering v1 …
    state["version"] = "v2"  # … when the next change commits and a screen connects
    late = channel_stream(channels, channel, snapshot, compose, heartbeat_s=30)
    try:
        assert "v2" in (await anext(late)).encode().decode()
        release.set()
        assert "update read v1" in (await asyncio.wait_for(anext(early), 5)).encode().decode()
        late_next = asyncio.ensure_future(anext(late))
        await asyncio.sleep(0.3)
        assert not late_next.done(), "the v1 update went to a screen already showing v2"
        late_next.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await late_next
    finally:
        await close([early, late])


async def test_a_stalled_screen_is_resynced_not_buffered() -> None:
    inbox = hub.Inbox()
    for number in range(hub.INBOX_LIMIT + 5):
        inbox.push(hub.Update(tick(), encoded("tickets", str(number))))
    await asyncio.wait_for(inbox.wait(), 1)
    assert inbox.resync_after > 0
    assert len(inbox.take()) < hub.INBOX_LIMIT  # what came after the reset, not all 37


async def test_shared_snapshot_started_before_a_change_is_not_served_for_it() -> None:
    shared: SharedRender[str] = SharedRender()
    started, release = asyncio.Event(), asyncio.Event()
    state = {"orders": "A"}

    async def slow_render() -> str:
        seen = state["orders"]  # what Postgres held when the render read it
        started.set()
        await release.wait()
        return seen

    early = asyncio.create_task(shared.get("r", tick(), slow_render))
    await started.wait()
    state["orders"] = "AB"  # committed, then announced:
    event = tick()
    late = [asyncio.create_task(shared.get("r", event, slow_render)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert (await early)[1] == "A"
    results = await asyncio.gather(*late)
    assert {value for _, value in results} == {"AB"}  # a new render, shared by all five
    assert all(moment > event for moment, _ in results)
    assert shared.renders == 2


async def test_a_failed_snapshot_render_is_not_reused() -> None:
    shared: SharedRender[str] = SharedRender()
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database blip")
        return "board"

    after = tick()
    with pytest.raises(RuntimeError):
        await shared.get("r", after, flaky)
    assert (await shared.get("r", after, flaky))[1] == "board"


async def test_a_screen_reconnecting_as_the_last_one_leaves_keeps_its_subscription(
        running_app: Litestar, redis: ArqRedis, demo: Restaurant) -> None:
    """The browser of a screen reconnects while its old stream is still being torn down: the
    old stream's late UNSUBSCRIBE must not cut the new one off from Redis."""
    channel = kitchen_channel(services.row_id(demo))
    old = screen(running_app, demo)
    await next_event(old, board_feed.BOARD_EVENT)
    closing = asyncio.create_task(old.aclose())  # type: ignore[attr-defined]
    for _ in range(3):
        await asyncio.sleep(0)  # the old stream is half-way through leaving
    new = screen(running_app, demo)
    try:
        await next_event(new, board_feed.BOARD_EVENT)
        await closing
        assert dict(await redis.pubsub_numsub(channel))[channel.encode()] == 1
        order = await make_paid_order()
        await publish_order_event(redis, order.restaurant, order.public_id, "order.paid")
        assert order.public_id in await next_event(new, board_feed.TICKETS_EVENT)
    finally:
        await close([new])
