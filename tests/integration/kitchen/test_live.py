"""Live feed through a real server process: SSE snapshot, events published from a plain
Redis client (as the arq worker does) reaching a stream held by the web process, heartbeats,
and the customer's order status stream."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from app.infra.security_headers import CONTENT_SECURITY_POLICY
from app.live.feed import publish_order_event
from app.orders import lifecycle
from tests.helpers.orders import make_paid_order
from tests.helpers.server import RunningProcess, start_web
from tests.helpers.sse import events, logged_in, next_event


@pytest.fixture
async def plain_redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(os.environ["REDIS_URL"])
    yield client
    await client.aclose()


async def test_kitchen_stream_snapshot_then_events_from_another_process(
        web: RunningProcess, plain_redis: Redis) -> None:
    first = await make_paid_order()
    client = await logged_in(web, "kitchen@demo.test")
    try:
        async with client.stream("GET", "/kitchen/demo/events",
                                 headers={"accept": "text/event-stream"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            # The start went through every middleware, though frames go straight to the
            # server (app.live.sse.LiveEvents).
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["x-accel-buffering"] == "no"
            assert response.headers["x-request-id"]
            stream = events(response).__aiter__()
            snapshot = await next_event(stream, "board")
            assert snapshot.id and snapshot.retry
            assert first.public_id in snapshot.data
            # A new paid order, announced the way the webhook or the worker announces it.
            second = await make_paid_order()
            await publish_order_event(plain_redis, second.restaurant, second.public_id,
                                      "order.paid")
            update = await next_event(stream, "tickets")  # only what changed
            assert second.public_id in update.data and first.public_id not in update.data
            assert update.id and update.id != snapshot.id
            # Heartbeats keep flowing while nothing happens (SSE_HEARTBEAT_SECONDS=1).
            ping = await anext(stream)  # an event, not a comment: the page watches for it
            assert (ping.event, ping.data) == ("ping", "ping")
            # Another restaurant's events do not wake this stream.
            other = await make_paid_order("demo-2")
            await publish_order_event(plain_redis, other.restaurant, other.public_id,
                                      "order.paid")
            assert (await anext(stream)).event == "ping"
    finally:
        await client.aclose()


async def test_reconnect_with_last_event_id_starts_with_a_full_snapshot(
        web: RunningProcess) -> None:
    client = await logged_in(web, "kitchen@demo.test")
    try:
        async with client.stream("GET", "/kitchen/demo/events") as response:
            first = await next_event(events(response).__aiter__(), "board")
        missed = await make_paid_order()  # committed while the screen was disconnected
        async with client.stream("GET", "/kitchen/demo/events",
                                 headers={"last-event-id": first.id or ""}) as response:
            again = await next_event(events(response).__aiter__(), "board")
        assert missed.public_id in again.data
    finally:
        await client.aclose()


async def test_other_restaurants_stream_is_not_found(web: RunningProcess) -> None:
    client = await logged_in(web, "kitchen@demo-2.test")
    try:
        response = await client.get("/kitchen/demo/events")
        assert response.status_code == 404  # as for a restaurant that does not exist
        anonymous = await httpx.AsyncClient(base_url=web.url).get("/kitchen/demo/events")
        assert anonymous.status_code == 401
    finally:
        await client.aclose()


async def test_customer_stream_sends_order_updated(web: RunningProcess, redis: object) -> None:
    order = await make_paid_order()
    async with httpx.AsyncClient(base_url=web.url, timeout=httpx.Timeout(10, read=15)) as client:
        assert (await client.get("/orders/TEMP-doesnotexist0/events")).status_code == 404
        async with client.stream("GET", f"/orders/{order.public_id}/events") as response:
            assert response.status_code == 200
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert response.headers["referrer-policy"] == "same-origin"  # the ref is secret
            stream = events(response).__aiter__()
            first = await next_event(stream, "order-updated")
            assert json.loads(first.data)["status"] == "paid"
            await lifecycle.apply_action(order.public_id, "accept", actor="test",
                                         prep_minutes=12, redis=redis)  # type: ignore[arg-type]
            update = await next_event(stream, "order-updated")
            body = json.loads(update.data)
            assert body["status"] == "accepted" and body["prep_minutes"] == 12
            assert body["promised_at"]
            assert body["booked"] is False  # not an order for later waiting to be released
            assert set(body) <= {"id", "status", "booked", "ticket_number", "prep_minutes",
                                 "promised_at", "updated_at"}  # status info only


async def test_closed_streams_release_their_channel(web: RunningProcess,
                                                   plain_redis: Redis) -> None:
    import asyncio

    from app.live.feed import kitchen_channel

    order = await make_paid_order()
    channel = kitchen_channel(order.restaurant)
    client = await logged_in(web, "kitchen@demo.test")
    try:
        async with client.stream("GET", "/kitchen/demo/events") as response:
            # Held in a variable: a dropped iterator is closed when collected, and closing
            # it closes the connection, which would end the stream under test early.
            stream = events(response).__aiter__()
            await next_event(stream, "board")
            assert dict(await plain_redis.pubsub_numsub(channel))[channel.encode()] == 1
    finally:
        await client.aclose()
    for _ in range(150):  # generous: the server notices the disconnect asynchronously
        if dict(await plain_redis.pubsub_numsub(channel))[channel.encode()] == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the web process kept the channel subscribed after the client left")


async def test_publish_reports_failure_instead_of_raising() -> None:
    broken = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        assert await publish_order_event(broken, 1, "TEMP-x", "order.paid") is False
    finally:
        await broken.aclose()


async def test_publish_reports_success(plain_redis: Redis) -> None:
    assert await publish_order_event(plain_redis, 1, "TEMP-x", "order.paid") is True


async def test_a_kitchen_stream_pings_every_5_s_where_other_streams_wait_15() -> None:
    """The default periods on a real server: a stalled screen notices within ~12 s."""
    order = await make_paid_order()
    with start_web(env={"SSE_HEARTBEAT_SECONDS": "15"}) as server:  # the default
        client = await logged_in(server, "kitchen@demo.test")
        try:
            page = await client.get("/kitchen/demo")
            assert 'data-heartbeat-s="5.0"' in page.text
            status = await client.get(f"/orders/{order.public_id}")
            assert 'data-heartbeat-s="15.0"' in status.text
            async with client.stream("GET", "/kitchen/demo/events") as response:
                stream = events(response).__aiter__()
                await next_event(stream, "board")
                started = time.monotonic()
                pings = [await next_event(stream, "ping") for _ in range(2)]
                assert len(pings) == 2
                # the first ping comes at a random phase of the period, the second a
                # period later: two within 5 s + 5 s (and well under 15 s)
                assert time.monotonic() - started < 11
        finally:
            await client.aclose()
