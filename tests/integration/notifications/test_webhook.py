"""POST /webhooks/resend: Svix signatures, delivery records, forward-only status moves."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
from arq.connections import ArqRedis

from app.notifications import service
from app.notifications.tables import EmailMessage
from app.platform.tables import WebhookDelivery
from tests.helpers.resend_events import post, sent_email, signed, status_of
from tests.helpers.sandbox import RunningSandbox


async def test_bounce_marks_the_email_bounced_and_never_moves_back(
    client: httpx.AsyncClient, redis: ArqRedis, make_order: Any, ctx: Any,
    sandbox: RunningSandbox,
) -> None:
    ref, events = await sent_email(redis, make_order, ctx, sandbox, "bounced@resend.dev")
    types = [event["type"] for event in events]
    assert types == ["email.sent", "email.bounced"]
    bounce = events[1]
    body, headers = signed(bounce)
    response = await post(client, body, headers)
    assert response.status_code == 200, response.text
    assert await status_of(ref) == "bounced"
    row = await EmailMessage.select().where(EmailMessage.order_ref == ref).first()
    assert row is not None and "bounced (Permanent)" in row["last_error"]
    # A late "sent" does not move it back; the same delivery again is a no-op.
    late = await post(client, *signed(events[0]))
    assert late.status_code == 200 and await status_of(ref) == "bounced"
    again = await post(client, body, headers)
    assert again.status_code == 200 and again.json()["detail"] == "duplicate"
    deliveries = await WebhookDelivery.select().where(WebhookDelivery.provider == "resend")
    assert len(deliveries) == 3
    assert all(d["signature_valid"] and d["processed"] for d in deliveries)


async def test_delivered_then_delayed_stays_delivered(
    client: httpx.AsyncClient, redis: ArqRedis, make_order: Any, ctx: Any,
    sandbox: RunningSandbox,
) -> None:
    ref, events = await sent_email(redis, make_order, ctx, sandbox, "delayed@resend.dev")
    by_type = {event["type"]: event for event in events}
    assert (await post(client, *signed(by_type["email.delivered"]))).status_code == 200
    assert await status_of(ref) == "delivered"
    assert (await post(client, *signed(by_type["email.delivery_delayed"]))).status_code == 200
    assert (await post(client, *signed(by_type["email.sent"]))).status_code == 200
    assert await status_of(ref) == "delivered"


async def test_bad_signature_is_rejected_and_only_recorded_bounded(
    client: httpx.AsyncClient, redis: ArqRedis, make_order: Any, ctx: Any,
    sandbox: RunningSandbox,
) -> None:
    ref, events = await sent_email(redis, make_order, ctx, sandbox, "bounced@resend.dev")
    bounce = dict(events[1])
    bounce["padding"] = "x" * 100_000
    body, headers = signed(bounce, secret="whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==")
    response = await post(client, body, headers)
    assert response.status_code == 400
    assert await status_of(ref) == "sent"
    [delivery] = await WebhookDelivery.select()
    assert delivery["signature_valid"] is False and delivery["processed"] is False
    assert len(delivery["body"]) <= 2048 and len(delivery["error"]) <= 1000
    # Missing headers altogether: same answer.
    assert (await client.post("/webhooks/resend", content=b"{}")).status_code == 400


async def test_unknown_email_is_retried_while_recent(client: httpx.AsyncClient) -> None:
    event = {"type": "email.delivered", "created_at": datetime.now(UTC).isoformat(),
             "data": {"email_id": "0b5b8e1c-unknown", "to": ["x@example.com"]}}
    assert (await post(client, *signed(event))).status_code == 409
    event["created_at"] = "2020-01-01T00:00:00.000Z"
    assert (await post(client, *signed(event))).status_code == 200
    rows = await WebhookDelivery.select().order_by(WebhookDelivery.id)
    assert [row["processed"] for row in rows] == [False, False]


async def test_a_first_event_that_outruns_the_sends_record_waits_for_it(
    client: httpx.AsyncClient, redis: ArqRedis, make_order: Any,
) -> None:
    """Resend's "delivered" for an email whose send is still being recorded (the worker has
    Resend's answer, not yet its commit) is applied once the record lands, within the same
    delivery: no 409, no redelivery a few seconds later, no race in the log."""
    order = await make_order(email_address="race@example.com")
    await service.enqueue_email(redis, "payment_received", order.id)
    row = await EmailMessage.objects().get(EmailMessage.order_ref == order.id)
    assert row.status == "queued"
    email_id = "4ef9a417-02e9-4d39-ad75-9611e0fcc33c"
    event = {"type": "email.delivered", "created_at": datetime.now(UTC).isoformat(),
             "data": {"email_id": email_id, "to": ["race@example.com"],
                      "tags": {"kind": "payment_received", "order": order.id}}}

    async def record_later() -> None:
        await asyncio.sleep(0.3)
        assert await service.mark_sent(row.id, email_id, "resend")

    answered, _ = await asyncio.gather(post(client, *signed(event)), record_later())
    assert answered.status_code == 200, answered.text
    assert answered.json()["detail"] == "processed"
    assert await status_of(order.id) == "delivered"

