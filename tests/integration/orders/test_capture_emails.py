"""The payment emails follow the money. Automatic capture: the receipt as soon as paid. Manual
capture (a card hold, captured when the kitchen accepts): first an email saying the card is
authorised and will be charged on accept (no receipt, nothing "paid"); the receipt when the
hold is captured; a rejected order's hold is released and no receipt is ever sent."""

from __future__ import annotations

from typing import Any

import httpx
from arq.connections import ArqRedis

from app.notifications.tables import EmailMessage
from app.settings import get_settings
from tests.helpers.accounts import login
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email

HX = {"hx-request": "true"}
DINER = "ada@example.com"


async def send_queued(redis: ArqRedis, sandbox: RunningSandbox) -> None:
    """What the worker does: every queued email sent through the sandbox's Resend."""
    settings = get_settings().model_copy(update={"resend_api_url": sandbox.url})
    ctx = {"redis": redis, "settings": settings, "job_try": 1}
    for row in await EmailMessage.select().where(EmailMessage.status == "queued"):
        await send_email(ctx, row["kind"], row["order_ref"])


def mail(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    return sorted(sandbox.messages(to=DINER), key=lambda message: message["created_at"])


async def act(client: httpx.AsyncClient, token: str, ref: str, action: str) -> None:
    response = await client.post(f"/kitchen/demo/orders/{ref}/{action}",
                                 data={"prep_minutes": "10", "reason": "Oven broke"},
                                 headers={**HX, "x-csrftoken": token})
    assert response.status_code == 200, response.text


async def test_manual_capture_authorisation_email_then_receipt_on_accept(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    await send_queued(redis, sandbox)
    [held] = mail(sandbox)
    total = f"€{order.total_amount / 100:.2f}"
    assert held["subject"].startswith("Card authorised: order #"), held["subject"]
    text = held["text"]
    assert f"authorised for {total}" in text and "charged when" in text, text
    for claim in ("RECEIPT", "Receipt", "Paid:", "Payment received", "VAT rate"):
        assert claim not in text and claim not in held["html"], claim
    # the status page says the same as the email: a hold, not a payment (it said "Payment
    # received" and ticked "Paid")
    page = " ".join((await client.get(f"/orders/{order.public_id}")).text.split())
    assert "Card authorised: waiting for the kitchen to accept" in page
    assert "you will be charged when the restaurant accepts" in page
    # nothing on it reads as the accept's "Ready around" (the hold note was marked `.eta`)
    assert 'class="eta"' not in page and 'id="ready-at"' not in page
    assert "Payment received" not in page and ">Paid</li>" not in page

    token = await login(client, "kitchen@demo.test")
    await act(client, token, order.public_id, "accept")
    page = " ".join((await client.get(f"/orders/{order.public_id}")).text.split())
    assert "Card authorised" not in page and ">Paid</li>" in page  # charged on accept
    assert '<p class="eta" id="ready-at">Ready around' in page
    await send_queued(redis, sandbox)
    subjects = [message["subject"] for message in mail(sandbox)]
    # The receipt says the card was charged on accept: beside "Accepted", a "Payment
    # received: … is with the kitchen" read as a step back.
    receipts = [message for message in mail(sandbox)
                if message["subject"].startswith("Charged: your receipt for order #")]
    assert len(receipts) == 1, subjects
    text = receipts[0]["text"]
    assert "RECEIPT" in text and "Paid: " in text
    assert "accepted your order #" in text and "and charged your card" in text, text
    assert "Payment received" not in text and "is now with the kitchen" not in text, text
    assert not any(subject.startswith("Payment received") for subject in subjects), subjects
    assert any(subject.startswith("Accepted:") for subject in subjects), subjects
    keys = {row["idempotency_key"] for row in await EmailMessage.select().where(
        EmailMessage.order_ref == order.public_id)}
    assert {f"payment_authorised/{order.public_id}",
            f"payment_received/{order.public_id}"} <= keys


async def test_manual_capture_rejected_gets_no_receipt(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    token = await login(client, "kitchen@demo.test")
    await act(client, token, order.public_id, "reject")
    await send_queued(redis, sandbox)
    # Rejected before the worker sent "Card authorised … waiting for the kitchen": only the
    # rejection goes out, which says the hold was released (app/notifications/delivery.py).
    texts = [message["text"] for message in mail(sandbox)]
    assert len(texts) == 1, [message["subject"] for message in mail(sandbox)]
    assert not any("RECEIPT" in text or "Paid:" in text for text in texts), texts
    assert any("hold on it has been released" in text for text in texts)


async def test_automatic_capture_still_sends_the_receipt_when_paid(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="automatic")
    await send_queued(redis, sandbox)
    [receipt] = [message for message in mail(sandbox)
                 if message["subject"].startswith("Payment received")]
    assert "RECEIPT" in receipt["text"] and "Paid: " in receipt["text"]
    assert not any(message["subject"].startswith("Card authorised") for message in mail(sandbox))
    token = await login(client, "kitchen@demo.test")
    await act(client, token, order.public_id, "accept")
    await send_queued(redis, sandbox)
    assert len([message for message in mail(sandbox)
                if message["subject"].startswith("Payment received")]) == 1
