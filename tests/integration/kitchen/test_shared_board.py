"""Kitchen board SSE cost: every stream of one restaurant in one process shares one board
render per burst of events (instead of one render per connected screen), and each screen
still gets the new order, with its own CSRF token in the forms."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from asgi_lifespan import LifespanManager
from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.response import ServerSentEventMessage

from app.kitchen import controller, services
from app.kitchen.feed import kitchen_channel, publish_order_event
from app.kitchen.shared_render import SharedRender, tick
from app.restaurants.tables import Restaurant
from tests.helpers.orders import make_paid_order

SCREENS = 25


@pytest.fixture
async def running_app(app: Litestar) -> AsyncIterator[Litestar]:
    async with LifespanManager(app):
        yield app


async def next_board(stream: AsyncIterator[ServerSentEventMessage]) -> str:
    while True:
        item = await asyncio.wait_for(anext(stream), 10)
        wire = item.encode().decode()  # what the screen receives (boards are pre-encoded)
        if f"event: {controller.BOARD_EVENT}" in wire:
            return wire


async def test_concurrent_screens_share_one_board_render_per_burst(
        running_app: Litestar, redis: ArqRedis) -> None:
    channels = running_app.plugins.get(ChannelsPlugin)
    engine = running_app.template_engine
    assert engine is not None
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    first = await make_paid_order()
    streams = [controller.board_stream(channels, restaurant, engine, csrf=f"token-{i}",
                                       heartbeat_s=30)
               for i in range(SCREENS)]
    try:
        snapshots = await asyncio.gather(*(next_board(stream) for stream in streams))
        for i, html in enumerate(snapshots):
            assert first.public_id in html
            assert f'value="token-{i}"' in html and "<!--csrf-->" not in html
        for _burst in range(3):
            before = controller.BOARDS.renders
            order = await make_paid_order()
            await publish_order_event(redis, order.restaurant, order.public_id, "order.paid")
            boards = await asyncio.gather(*(next_board(stream) for stream in streams))
            assert all(order.public_id in html for html in boards)
            assert all(f'value="token-{i}"' in html for i, html in enumerate(boards))
            # One board query for all the screens of this process (was one per screen).
            assert controller.BOARDS.renders - before == 1
    finally:
        for stream in streams:
            await stream.aclose()  # type: ignore[attr-defined]


async def test_a_render_started_before_an_event_is_not_served_for_it() -> None:
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
    assert await early == "A"
    assert set(await asyncio.gather(*late)) == {"AB"}  # a new render, shared by all five
    assert shared.renders == 2


async def test_a_failed_render_is_not_reused() -> None:
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
    assert await shared.get("r", after, flaky) == "board"



async def test_a_screen_reconnecting_as_the_last_one_leaves_keeps_its_subscription(
        running_app: Litestar, redis: ArqRedis) -> None:
    """The browser of a screen reconnects while its old stream is still being torn down: the
    old stream's late UNSUBSCRIBE must not cut the new one off from Redis."""
    channels = running_app.plugins.get(ChannelsPlugin)
    engine = running_app.template_engine
    assert engine is not None
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    channel = kitchen_channel(services.row_id(restaurant))
    old = controller.board_stream(channels, restaurant, engine, csrf="old", heartbeat_s=30)
    await next_board(old)
    closing = asyncio.create_task(old.aclose())  # type: ignore[attr-defined]
    for _ in range(3):
        await asyncio.sleep(0)  # the old stream is half-way through leaving
    new = controller.board_stream(channels, restaurant, engine, csrf="new", heartbeat_s=30)
    try:
        await next_board(new)
        await closing
        assert dict(await redis.pubsub_numsub(channel))[channel.encode()] == 1
        order = await make_paid_order()
        await publish_order_event(redis, order.restaurant, order.public_id, "order.paid")
        assert order.public_id in await next_board(new)
    finally:
        await new.aclose()  # type: ignore[attr-defined]
