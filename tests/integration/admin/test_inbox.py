"""Webhook inbox and replay (Stripe events fetched again by id, stored Resend deliveries),
the email log search, and the live system page."""

from __future__ import annotations

import httpx
from arq.connections import ArqRedis

from app.notifications.tables import EmailMessage
from app.orders.tables import PaidOrder
from app.payments.tables import StripeEvent
from app.platform.tables import WebhookDelivery
from tests.helpers.admin import HTML, HTMX
from tests.helpers.orders import pay_without_webhook
from tests.helpers.resend_events import signed
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.stripe_events import sandbox_events


async def test_stripe_event_replay_creates_a_lost_order_once(
        admin: tuple[httpx.AsyncClient, str], sandbox: RunningSandbox) -> None:
    client, token = admin
    ref, session_id = await pay_without_webhook(client, sandbox)
    [event] = sandbox_events(sandbox.url, session_id=session_id,
                             types={"checkout.session.completed"})
    path = f"/admin/webhooks/stripe/{event['id']}/replay"
    response = await client.post(path, data={"_csrf_token": token}, headers=HTMX)
    assert response.status_code == 200, response.text
    assert "checkout.session.completed: created" in response.text
    assert await PaidOrder.count().where(PaidOrder.public_id == ref) == 1
    again = await client.post(path, data={"_csrf_token": token}, headers=HTMX)
    assert again.status_code == 200 and "duplicate event" in again.text
    assert await PaidOrder.count().where(PaidOrder.public_id == ref) == 1
    page = (await client.get("/admin/webhooks", headers=HTML)).text
    assert event["id"] in page and "checkout.session.completed" in page
    # Without script the page it comes back to says what the replay did.
    plain = await client.post(path, data={"_csrf_token": token}, headers=HTML,
                              follow_redirects=True)
    assert plain.status_code == 200, plain.text
    assert "Replayed: checkout.session.completed: duplicate event" in plain.text
    assert await StripeEvent.count().where(StripeEvent.event_id == event["id"]) == 1


async def test_stripe_replay_refuses_what_stripe_cannot_return(
        admin: tuple[httpx.AsyncClient, str], sandbox: RunningSandbox) -> None:
    """Stripe's refusal (no such event: trying again changes nothing) reads apart from
    Stripe out of reach (try again)."""
    client, token = admin
    response = await client.post("/admin/webhooks/stripe/admin:cs_test_1/replay",
                                 data={"_csrf_token": token}, headers=HTMX)
    assert response.status_code == 400
    missing = await client.post("/admin/webhooks/stripe/evt_doesnotexist/replay",
                                data={"_csrf_token": token}, headers=HTMX)
    assert missing.status_code == 502 and "Stripe refused" in missing.text, missing.text
    assert "could not be reached" not in missing.text
    sandbox.api_faults(service="stripe", status=500, count=1000)
    try:
        down = await client.post("/admin/webhooks/stripe/evt_doesnotexist/replay",
                                 data={"_csrf_token": token}, headers=HTMX)
    finally:
        sandbox.api_faults(service="stripe", status=500, count=0)
    assert down.status_code == 502, down.text
    assert "Stripe could not be reached" in down.text and "try again" in down.text
    assert "Stripe refused" not in down.text


async def test_resend_delivery_replay(admin: tuple[httpx.AsyncClient, str]) -> None:
    client, token = admin
    event = {"type": "email.delivered", "created_at": "2020-01-01T00:00:00Z",
             "data": {"email_id": "em_replay_1", "created_at": "2020-01-01T00:00:00Z"}}
    body, headers = signed(event)
    first = await client.post("/webhooks/resend", content=body, headers=headers)
    assert first.status_code == 200  # an old event for an unknown email: acknowledged
    stored = await WebhookDelivery.select().where(
        WebhookDelivery.provider == "resend").first()
    assert stored is not None and stored["processed"] is False
    # The email it was about turns up (e.g. the "sent" update had been lost).
    await EmailMessage.insert(EmailMessage(
        idempotency_key="payment_received/TEMP-replay", kind="payment_received",
        recipient="ann@example.com", order_ref="TEMP-replay", status="sent",
        provider_id="em_replay_1"))
    page = (await client.get("/admin/webhooks?provider=resend", headers=HTML)).text
    assert f"/admin/webhooks/resend/{stored['id']}/replay" in page
    response = await client.post(f"/admin/webhooks/resend/{stored['id']}/replay",
                                 data={"_csrf_token": token}, headers=HTMX)
    assert response.status_code == 200 and "processed" in response.text
    email = await EmailMessage.select(EmailMessage.status).where(
        EmailMessage.provider_id == "em_replay_1").first()
    assert email is not None and email["status"] == "delivered"
    # A forged delivery (bad signature) is never replayable.
    forged_body, forged_headers = signed(event, secret="whsec_" + "A" * 32)
    await client.post("/webhooks/resend", content=forged_body, headers=forged_headers)
    forged = await WebhookDelivery.select().where(
        WebhookDelivery.signature_valid == False).first()  # noqa: E712
    assert forged is not None
    refused = await client.post(f"/admin/webhooks/resend/{forged['id']}/replay",
                                data={"_csrf_token": token}, headers=HTMX)
    assert refused.status_code == 400


async def test_email_log_search(admin: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = admin
    for ref, recipient, status in [("TEMP-aaa", "first@example.com", "delivered"),
                                   ("TEMP-bbb", "second@example.com", "bounced")]:
        await EmailMessage.insert(EmailMessage(
            idempotency_key=f"payment_received/{ref}", kind="payment_received",
            recipient=recipient, order_ref=ref, status=status))
    everything = (await client.get("/admin/emails", headers=HTML)).text
    assert "TEMP-aaa" in everything and "TEMP-bbb" in everything
    assert everything.index("TEMP-bbb") < everything.index("TEMP-aaa")  # newest first
    by_ref = (await client.get("/admin/emails?q=TEMP-aaa", headers=HTML)).text
    assert "first@example.com" in by_ref and "second@example.com" not in by_ref
    by_recipient = (await client.get("/admin/emails?q=SECOND@", headers=HTML)).text
    assert "TEMP-bbb" in by_recipient and "TEMP-aaa" not in by_recipient
    assert "bounced" in by_recipient
    wildcard = (await client.get("/admin/emails?q=%25", headers=HTML)).text
    assert "TEMP-aaa" not in wildcard  # % is searched for, not a wildcard


async def test_system_page_polls_every_5s(admin: tuple[httpx.AsyncClient, str],
                                          redis: ArqRedis) -> None:
    client, _ = admin
    page = await client.get("/admin/system", headers=HTML)
    assert page.status_code == 200
    assert 'hx-get="/admin/system/status"' in page.text
    assert 'hx-trigger="every 5s"' in page.text
    fragment = await client.get("/admin/system/status", headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith("<section id=\"system-status\"")
    assert 'data-component="postgres"' in fragment.text
    assert 'data-component="redis"' in fragment.text
    assert fragment.headers["cache-control"] == "no-store"
