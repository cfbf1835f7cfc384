"""Signed Stripe events that are odd rather than forged (issue #14 item 4): deep nesting is a
400, an event about no session of ours is acknowledged ("ignored", so Stripe stops retrying
it for days instead of paging us with 5xx), and a signature dated in the future is refused
(a captured request replayed later would otherwise stay valid for as long as that lies
ahead). Resend's signed events get the same nesting rule."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import httpx
import pytest

from app.orders.tables import PaidOrder
from app.payments.tables import StripeEvent
from tests.helpers.payloads import plain_4xx, svix_signed
from tests.helpers.stripe_events import sign


def stripe_post(client: httpx.AsyncClient, body: bytes, **sign_options: Any
                ) -> Any:
    return client.post("/webhooks/stripe", content=body, headers={
        "stripe-signature": sign(body, **sign_options), "content-type": "application/json"})


def session_event(session: dict[str, Any], kind: str = "checkout.session.completed"
                  ) -> dict[str, Any]:
    return {"id": "evt_" + secrets.token_hex(8), "object": "event", "type": kind,
            "created": int(time.time()), "livemode": False, "api_version": "2024-06-20",
            "data": {"object": session}}


async def test_signed_deeply_nested_event_is_a_400(client: httpx.AsyncClient) -> None:
    event = session_event({"id": "cs_test_x", "object": "checkout.session",
                           "metadata": "HOLE"})
    body = json.dumps(event).replace('"HOLE"', "[" * 1000 + "]" * 1000).encode()
    plain_4xx(await stripe_post(client, body), 400)
    assert await StripeEvent.count() == 0


@pytest.mark.parametrize("session", [
    {},
    {"object": "checkout.session"},
    {"id": "cs_test_unknown", "object": "checkout.session", "payment_status": "paid",
     "status": "complete", "amount_total": 1000, "currency": "eur", "metadata": {},
     "client_reference_id": None},
    {"id": "cs_test_unknown", "object": "checkout.session", "payment_status": "paid",
     "status": "complete", "amount_total": 1000, "currency": "eur",
     "client_reference_id": "TEMP-notoursatall1",
     "metadata": {"temp_order_id": "TEMP-notoursatall1", "restaurant": "nowhere"}},
])
@pytest.mark.parametrize("kind", ["checkout.session.completed",
                                  "checkout.session.async_payment_succeeded",
                                  "checkout.session.expired",
                                  "checkout.session.async_payment_failed"])
async def test_signed_event_about_no_session_of_ours_is_acknowledged(
        client: httpx.AsyncClient, session: dict[str, Any], kind: str) -> None:
    response = await stripe_post(client, json.dumps(session_event(session, kind)).encode())
    assert response.status_code == 200, response.text
    if kind.endswith(("completed", "succeeded")) or not session.get("id"):
        assert response.json()["result"].startswith("ignored"), response.text
    assert await PaidOrder.count() == 0


async def test_signature_from_the_future_is_refused(client: httpx.AsyncClient) -> None:
    body = json.dumps(session_event({}, "charge.succeeded")).encode()
    plain_4xx(await stripe_post(client, body, timestamp=int(time.time()) + 3600), 400)
    # A few seconds of clock skew between Stripe and us is normal and accepted.
    assert (await stripe_post(client, body, timestamp=int(time.time()) + 5)).status_code == 200


async def test_resend_signed_deeply_nested_event_is_a_400(client: httpx.AsyncClient) -> None:
    body = json.dumps({"type": "email.sent", "data": {"email_id": "re_1", "x": "HOLE"}}
                      ).replace('"HOLE"', "[" * 1000 + "]" * 1000).encode()
    plain_4xx(await client.post("/webhooks/resend", content=body,
                                headers=svix_signed(body, "msg_deep")), 400)
