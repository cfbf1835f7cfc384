"""Scheduled orders through the public API, the real stripe SDK and the sandbox: ASAP at a
closed restaurant is refused before any payment with when it opens; a slot is checked (grid,
hours, lead time, days ahead, per-slot cap over paid and pending orders); the payment link
never outlives the slot's start minus prep; the slot survives a rebuild from Stripe."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from arq.connections import ArqRedis

from app.orders.tables import PaidOrder
from app.restaurants.opening import PAY_WINDOW_MINUTES
from app.restaurants.tables import Restaurant
from tests.helpers.hours import BERLIN, close_now, next_slot
from tests.helpers.orders import (
    PREP,
    earliest_slot,
    order_for,
    pay_and_post_webhook,
    temp_keys,
)
from tests.helpers.sandbox import RunningSandbox, stripe_client
from tests.helpers.stripe_events import paid_events, post_event


def error_keys(response: httpx.Response) -> dict[str, str]:
    return {entry["key"]: entry["message"] for entry in response.json().get("extra") or []}


async def test_asap_at_a_closed_restaurant_is_refused_with_when_it_opens(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    opening = await close_now("demo")
    restaurant = (await client.get("/api/restaurants/demo/menu")).json()["restaurant"]
    assert restaurant["open_now"] is False
    assert f"at {opening.astimezone(BERLIN):%H:%M}" in restaurant["notice"]
    assert restaurant["next_slots"][0] == opening.isoformat()
    response = await client.post("/api/orders", json=await order_for(client, None))
    assert response.status_code == 409, response.text
    message = error_keys(response)["scheduled_for"]
    assert f"at {opening.astimezone(BERLIN):%H:%M}" in message
    assert "Opens" in message and "Choose a time" in message
    assert await temp_keys(redis) == []  # nothing stored, no payment link made

    # The same order for the opening slot is taken.
    response = await client.post("/api/orders", json=await order_for(client, opening))
    assert response.status_code == 201, response.text
    assert response.json()["scheduled_for"] == opening.isoformat()


def too_soon() -> datetime:
    """The grid slot just before the earliest the server can take: inside the lead time
    whenever the order arrives after this reading (earliest_slot() - 15 min is not, within
    a minute before a grid boundary, where its margin moves it one slot later)."""
    return next_slot(datetime.now(UTC) + timedelta(minutes=PREP + PAY_WINDOW_MINUTES)) \
        - timedelta(minutes=15)


@pytest.mark.parametrize(("slot", "fragment"), [
    (lambda: earliest_slot() + timedelta(minutes=5), "grid"),  # 19:05 is not a slot
    (too_soon, "at least"),  # inside the lead time
    (lambda: earliest_slot() + timedelta(days=8), "at most 7 days"),
])
async def test_a_slot_off_the_grid_too_soon_or_too_far_is_refused(
    client: httpx.AsyncClient, redis: ArqRedis, slot: Callable[[], datetime], fragment: str
) -> None:
    response = await client.post("/api/orders", json=await order_for(client, slot()))
    assert response.status_code == 422, response.text
    assert fragment in error_keys(response)["scheduled_for"]
    assert await temp_keys(redis) == []


async def test_the_last_day_ahead_is_a_whole_day_on_the_restaurants_clock(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    """Seven days ahead ended at this minute a week from now: later that evening was refused
    (and not offered). It ends at the restaurant's midnight after the seventh day."""
    last_day = datetime.now(UTC).astimezone(BERLIN).date() + timedelta(days=7)
    late = datetime.combine(last_day, time(23, 45), tzinfo=BERLIN)
    response = await client.post("/api/orders", json=await order_for(client, late))
    assert response.status_code == 201, response.text
    assert response.json()["scheduled_for"] == late.astimezone(UTC).isoformat()
    beyond = await client.post("/api/orders",
                               json=await order_for(client, late + timedelta(minutes=15)))
    assert beyond.status_code == 422, beyond.text
    assert "at most 7 days" in error_keys(beyond)["scheduled_for"]


async def test_a_slot_outside_hours_and_a_time_without_offset_are_refused(
    client: httpx.AsyncClient
) -> None:
    opening = await close_now("demo")
    response = await client.post("/api/orders",
                                 json=await order_for(client, opening - timedelta(minutes=30)))
    assert response.status_code == 422
    assert "closed at that time" in error_keys(response)["scheduled_for"]
    naive = opening.astimezone(BERLIN).replace(tzinfo=None).isoformat()
    response = await client.post("/api/orders", json=await order_for(client, naive))
    assert response.status_code == 422
    assert "offset" in error_keys(response)["scheduled_for"]
    response = await client.post("/api/orders", json=await order_for(client, "tomorrow"))
    assert response.status_code == 400  # not a time at all
    for edge in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):  # not in UTC
        response = await client.post("/api/orders", json=await order_for(client, edge))
        assert response.status_code == 422, response.text


async def test_the_per_slot_cap_counts_paid_and_pending_orders(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    await Restaurant.update({Restaurant.slot_capacity: 2}).where(Restaurant.slug == "demo")
    slot = earliest_slot() + timedelta(hours=1)
    paid = (await client.post("/api/orders", json=await order_for(client, slot))).json()
    assert await pay_and_post_webhook(client, sandbox, paid) == "created"
    pending = await client.post("/api/orders", json=await order_for(client, slot))
    assert pending.status_code == 201, pending.text
    full = await client.post("/api/orders", json=await order_for(client, slot))
    assert full.status_code == 409, full.text
    assert "fully booked" in error_keys(full)["scheduled_for"]
    # The refused order left nothing: no temp order, no count against the unpaid caps.
    assert await temp_keys(redis) == [f"orderpass:temp:{pending.json()['id']}".encode()]
    for key in await redis.keys("orderpass:unpaid:*"):
        assert set(await redis.zrange(key, 0, -1)) <= {paid["id"].encode(),
                                                      pending.json()["id"].encode()}, key
    later = await client.post("/api/orders",
                              json=await order_for(client, slot + timedelta(minutes=15)))
    assert later.status_code == 201, later.text


async def test_the_payment_link_expires_before_the_kitchen_must_start(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    slot = earliest_slot()
    before = datetime.now(UTC)
    created = (await client.post("/api/orders", json=await order_for(client, slot))).json()
    pay_by = slot - timedelta(minutes=PREP)
    # The order's link closes at slot - prep (our expiry job expires it at Stripe then)…
    assert datetime.fromisoformat(created["expires_at"]) == pay_by
    # …while the session's own expires_at stays within Stripe's 30 min - 24 h.
    session_id = created["payment_url"].rsplit("/", 1)[1]
    session = stripe_client(sandbox.url).v1.checkout.sessions.retrieve(session_id)
    assert before + timedelta(minutes=30) <= datetime.fromtimestamp(session.expires_at, UTC)
    assert datetime.fromtimestamp(session.expires_at, UTC) <= max(
        pay_by, before + timedelta(minutes=33))

    far = earliest_slot() + timedelta(days=2)
    created = (await client.post("/api/orders", json=await order_for(client, far))).json()
    expires = datetime.fromisoformat(created["expires_at"])
    assert expires <= datetime.now(UTC) + timedelta(minutes=61)  # the usual link TTL


async def test_a_rebuild_from_stripe_keeps_the_slot(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    slot = earliest_slot() + timedelta(hours=2)
    created = (await client.post("/api/orders", json=await order_for(client, slot))).json()
    await redis.flushdb()  # the temp order is gone: the order comes back from Stripe
    session_id = created["payment_url"].rsplit("/", 1)[1]
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    assert (await post_event(client, event)).json()["result"] == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None and order.rebuilt_from_stripe
    assert not order.needs_review, order.review_reason
    assert order.scheduled_for == slot and order.prep_minutes == PREP
    shown = (await client.get(f"/api/orders/{created['id']}")).json()
    assert shown["scheduled_for"] == slot.isoformat()
    page = (await client.get(f"/orders/{created['id']}")).text
    assert f"Pickup at {slot.astimezone(BERLIN):%H:%M}" in page
