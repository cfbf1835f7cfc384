"""Payment confirmed → exactly one durable order, whatever Stripe's delivery does."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from arq.connections import ArqRedis

from app.notifications.tables import EmailMessage
from app.orders.tables import OrderItem, PaidOrder
from app.payments.tables import Discrepancy, StripeEvent
from app.piccolo_conf import DB
from app.platform.tables import FunnelDaily, Outbox, WebhookDelivery
from tests.helpers.kitchen_listener import KitchenListener
from tests.helpers.orders import submit, submit_and_pay
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.stripe_events import (
    paid_events,
    post_event,
    sign,
    signed_request,
)


async def email_jobs(redis: ArqRedis, kind: str) -> list[str]:
    return [job.job_id for job in await redis.queued_jobs()
            if job.job_id and job.job_id.startswith(f"email:{kind}:")]


async def test_paid_session_becomes_one_order_on_the_kitchen_feed(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order_id, session_id, event = await submit_and_pay(client, sandbox)
    async with KitchenListener(redis) as kitchen:
        response = await post_event(client, event)
        assert response.status_code == 200, response.text
        assert response.json() == {"result": "created"}
        assert [e["order_ref"] for e in await kitchen.events()] == [order_id]

    order = await PaidOrder.objects().get(PaidOrder.public_id == order_id)
    assert order is not None
    assert (order.status, order.stripe_checkout_session_id) == ("paid", session_id)
    assert order.ticket_number == 1
    assert order.amount_charged == order.total_amount and not order.needs_review
    assert order.kitchen_shown_at is not None
    items = await OrderItem.objects().where(OrderItem.paid_order == order.id)
    assert sorted((item.quantity, item.notes) for item in items) == [(1, ""), (2, "extra hot")]
    assert await Outbox.count().where(Outbox.status == "pending") == 0
    assert await redis.get(f"orderpass:temp:{order_id}") is None
    assert await redis.zscore("orderpass:temp:link-expiry", order_id) is None
    assert await email_jobs(redis, "payment_received") == [f"email:payment_received:{order_id}"]
    # The payment email's row is written with the order; the follow-up counts "paid" once.
    email = await EmailMessage.objects().get(
        EmailMessage.idempotency_key == f"payment_received/{order_id}")
    assert email is not None and (email.status, email.recipient, email.restaurant) == (
        "queued", "ada@example.com", order.restaurant)
    assert [row["paid"] for row in await FunnelDaily.select(FunnelDaily.paid)] == [1]
    status = (await client.get(f"/api/orders/{order_id}")).json()
    assert status["status"] == "paid" and status["ticket_number"] == 1


async def test_three_sequential_duplicates_make_one_order(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    _order_id, _session_id, event = await submit_and_pay(client, sandbox)
    async with KitchenListener(redis) as kitchen:
        results = [(await post_event(client, event)).json()["result"] for _ in range(3)]
        assert results == ["created", "duplicate_event", "duplicate_event"]
        assert len(await kitchen.events()) == 1
    assert await PaidOrder.count() == 1
    assert await StripeEvent.count() == 1
    assert len(await email_jobs(redis, "payment_received")) == 1


async def test_ten_concurrent_duplicates_make_one_order(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    _order_id, _session_id, event = await submit_and_pay(client, sandbox)
    async with KitchenListener(redis) as kitchen:
        responses = await asyncio.gather(*(post_event(client, event) for _ in range(10)))
        assert all(response.status_code == 200 for response in responses)
        results = sorted(response.json()["result"] for response in responses)
        assert results == ["created"] + ["duplicate_event"] * 9
        assert len(await kitchen.events()) == 1
    assert await PaidOrder.count() == 1
    assert len(await email_jobs(redis, "payment_received")) == 1


@pytest.mark.parametrize("outcome", ["async_succeeded", "async_failed"])
async def test_any_arrival_order_of_async_events_gives_the_same_result(
    client: httpx.AsyncClient, sandbox: RunningSandbox, outcome: str
) -> None:
    """completed (unpaid) and the async result, in both orders, each delivered twice."""
    results = set()
    for order_of_arrival in ((0, 1, 0, 1), (1, 0, 1, 0), (1, 1, 0, 0)):
        order_id, session_id = await submit(client)
        sandbox.pay(session_id, outcome)
        sandbox.advance_clock(60)  # the delayed method settles
        events = paid_events(sandbox, session_id)
        assert next(event["type"] for event in events) == "checkout.session.completed"
        assert len(events) == 2
        for index in order_of_arrival:
            assert (await post_event(client, events[index])).status_code == 200
        status = (await client.get(f"/api/orders/{order_id}")).json()["status"]
        results.add((await PaidOrder.count().where(PaidOrder.public_id == order_id), status))
    expected = (1, "paid") if outcome == "async_succeeded" else (0, "payment_failed")
    assert results == {expected}


async def test_expired_event_closes_the_temp_order(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order_id, session_id = await submit(client)
    sandbox.advance_clock(2 * 3600)
    [event] = paid_events(sandbox, session_id)
    assert event["type"] == "checkout.session.expired"
    for _ in range(2):
        assert (await post_event(client, event)).status_code == 200
    assert (await client.get(f"/api/orders/{order_id}")).json()["status"] == "payment_expired"
    assert await email_jobs(redis, "link_expired") == [f"email:link_expired:{order_id}"]
    assert await PaidOrder.count() == 0


async def test_a_session_event_naming_no_order_of_ours_is_answered_not_retried(
    client: httpx.AsyncClient
) -> None:
    """A signed `checkout.session.expired` whose object leaves out `client_reference_id`
    (no temp order of ours) was a 503 "processing failed: AttributeError": Stripe retries
    a 5xx for three days. It is answered 2xx and writes no order."""
    event = {"id": "evt_minimal_expired", "object": "event",
             "type": "checkout.session.expired", "created": 1_764_000_000,
             "data": {"object": {"id": "cs_not_ours", "object": "checkout.session"}}}
    response = await post_event(client, event)
    assert response.status_code == 200, response.text
    assert "AttributeError" not in response.text
    assert await PaidOrder.count() == 0


async def test_forged_stale_tampered_and_malformed_deliveries_write_nothing(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    _order_id, _session_id, event = await submit_and_pay(client, sandbox)
    payload, headers = signed_request(event)
    cases = [
        (payload, {}),  # no signature
        (payload, {"stripe-signature": sign(payload, secret="whsec_forged")}),
        (payload, {"stripe-signature": sign(payload, timestamp=1_600_000_000)}),  # stale
        (payload.replace(b'"paid"', b'"PAID"'), headers),  # tampered body
        (b"{not json", {"stripe-signature": sign(b"{not json")}),
        (b"x" * 300_000, {"stripe-signature": sign(b"x")}),  # oversized
    ]
    for body, case_headers in cases:
        response = await client.post("/webhooks/stripe", content=body, headers=case_headers)
        assert 400 <= response.status_code < 500, (response.status_code, case_headers)
    assert await PaidOrder.count() == 0
    assert await StripeEvent.count() == 0
    assert await WebhookDelivery.count() == 0


async def test_rotated_secrets_both_verify(
    client: httpx.AsyncClient, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.settings import reset_settings_cache

    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_new_secret,whsec_test_orderpass")
    reset_settings_cache()
    try:
        _order_id, session_id = await submit(client)
        sandbox.pay(session_id)
        [event] = paid_events(sandbox, session_id)
        payload = json.dumps(event).encode()
        both = f"{sign(payload, secret='whsec_new_secret')},v1=deadbeef"
        response = await client.post("/webhooks/stripe", content=payload,
                                     headers={"stripe-signature": both})
        assert response.status_code == 200
    finally:
        monkeypatch.undo()
        reset_settings_cache()


async def test_order_is_rebuilt_from_stripe_when_redis_lost_it(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order_id, session_id = await submit(client)
    before = (await client.get(f"/api/orders/{order_id}")).json()
    await redis.flushdb()
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    assert (await post_event(client, event)).json()["result"] == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == order_id)
    assert order is not None and order.rebuilt_from_stripe and not order.needs_review
    after = (await client.get(f"/api/orders/{order_id}")).json()
    assert after["total"] == before["total"]
    assert [(line["name"], line["quantity"], line["notes"], line["menu_item_id"])
            for line in after["items"]] == [
        (line["name"], line["quantity"], line["notes"], line["menu_item_id"])
        for line in before["items"]]


async def test_amount_mismatch_is_kept_and_flagged(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    from app.orders.views import temp_store

    order_id, session_id = await submit(client)
    store = temp_store(redis)
    order = await store.get(order_id)
    assert order is not None
    order.total_amount += 100  # our record disagrees with what Stripe will charge
    await store.put(order)
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    assert (await post_event(client, event)).json()["result"] == "created"
    paid = await PaidOrder.objects().get(PaidOrder.public_id == order_id)
    assert paid is not None and paid.needs_review
    assert "Stripe charged" in paid.review_reason
    discrepancy = await Discrepancy.objects().get(Discrepancy.order_ref == order_id)
    assert discrepancy is not None and discrepancy.kind == "amount_mismatch"


async def test_postgres_down_answers_5xx_and_the_retry_creates_the_order(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    _order_id, _session_id, event = await submit_and_pay(client, sandbox)
    dsn = DB.config["dsn"]
    await DB.close_connection_pool()
    DB.config["dsn"] = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens there
    try:
        response = await post_event(client, event)
        assert response.status_code >= 500
    finally:
        DB.config["dsn"] = dsn
        await DB.start_connection_pool(min_size=1, max_size=10)
    assert await PaidOrder.count() == 0
    response = await post_event(client, event)  # Stripe's retry
    assert response.json()["result"] == "created"
    assert await PaidOrder.count() == 1


async def test_outbox_relay_delivers_what_the_fast_path_missed(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    """The process died right after commit: the relay publishes and queues the email."""
    from app.payments.fulfilment import record_paid_session
    from app.payments.stripe_gateway import get_gateway
    from app.platform import outbox

    order_id, session_id = await submit(client)
    sandbox.pay(session_id)
    session = await get_gateway().retrieve_checkout_session(session_id)
    result = await record_paid_session(redis, session, event_id="evt_crash", event_type=
                                       "checkout.session.completed")
    assert result.outcome == "created"  # committed, but no fast path ran
    assert await Outbox.count().where(Outbox.status == "pending") == 2
    assert await outbox.relay(redis) == {"done": 0, "retry": 0, "dead": 0}  # grace period
    await Outbox.update({Outbox.next_attempt_at: Outbox.created_at}).where(
        Outbox.status == "pending")
    async with KitchenListener(redis) as kitchen:
        assert await outbox.relay(redis) == {"done": 2, "retry": 0, "dead": 0}
        assert [event["order_ref"] for event in await kitchen.events()] == [order_id]
    assert await email_jobs(redis, "payment_received") == [f"email:payment_received:{order_id}"]
    paid = await PaidOrder.objects().get(PaidOrder.public_id == order_id)
    assert paid is not None and paid.kitchen_shown_at is not None
    assert await outbox.relay(redis) == {"done": 0, "retry": 0, "dead": 0}
