"""Fuzzed webhook bodies and headers (Hypothesis) against `POST /webhooks/stripe` and
`POST /webhooks/resend`: never a 5xx, never an order, a Stripe event or an email status
change. Resend records every delivery it rejects in `webhook_delivery` by design
(app/notifications/webhooks.py: evidence, capped at 2 KiB of body): the test checks those
rows are marked invalid and unprocessed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.notifications.tables import EmailMessage
from app.orders.tables import OrderItem, PaidOrder
from app.payments.tables import StripeEvent
from app.platform.tables import Outbox, WebhookDelivery
from tests.helpers.payloads import svix_signed
from tests.helpers.stripe_events import sign

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
stripe_like = st.fixed_dictionaries({
    "id": st.text(max_size=30) | st.integers(),
    "object": st.just("event") | st.text(max_size=10),
    "type": st.sampled_from(["charge.succeeded", "payment_intent.created", "", "x" * 200])
    | st.text(max_size=30),
    "data": json_values | st.fixed_dictionaries({"object": json_values}),
}, optional={"created": st.integers(), "livemode": st.booleans(), "api_version": json_values})
bodies = st.binary(max_size=2048) | json_values.map(lambda v: json.dumps(v).encode()) \
    | stripe_like.map(lambda v: json.dumps(v).encode())
stripe_signatures = st.none() | header_text | st.builds(
    lambda t, v: f"t={t},v1={v}", st.integers(-2**40, 2**40) | header_text,
    st.text("0123456789abcdef", max_size=64))
extra_headers = st.dictionaries(
    st.sampled_from(["content-type", "content-encoding", "x-forwarded-for", "user-agent",
                     "svix-id", "svix-timestamp", "svix-signature", "webhook-id"]),
    header_text, max_size=4)


async def nothing_written() -> None:
    assert await PaidOrder.count() == 0
    assert await OrderItem.count() == 0
    assert await StripeEvent.count() == 0
    assert await EmailMessage.count() == 0
    assert await Outbox.count() == 0


def _headers(extra: dict[str, str], **named: str | None) -> dict[str, str]:
    headers = dict(extra)
    headers.update({key: value for key, value in named.items() if value is not None})
    return headers


@FUZZ
@given(body=bodies, signature=stripe_signatures, extra=extra_headers)
@example(body=b"\x00", signature="t=1,v1=00", extra={})
@example(body=b"{}", signature=None, extra={"content-type": "application/json"})
async def test_stripe_webhook_refuses_junk(client: httpx.AsyncClient, body: bytes,
                                           signature: str | None,
                                           extra: dict[str, str]) -> None:
    response = await client.post("/webhooks/stripe", content=body,
                                 headers=_headers(extra, **{"stripe-signature": signature}))
    assert response.status_code == 400, response.text
    await nothing_written()


@FUZZ
@given(body=bodies, extra=extra_headers)
@example(body=b"[]", extra={})  # bugs found: signed non-events crashed the handler (500)
@example(body=b"{}", extra={})
@example(body=b'{"type": "charge.succeeded", "data": []}', extra={})
@example(body=b"\xff\x00", extra={})
async def test_stripe_webhook_signed_junk_is_never_a_server_error(
        client: httpx.AsyncClient, body: bytes, extra: dict[str, str]) -> None:
    """Correctly signed bodies that are not checkout events (only Stripe holds the secret,
    but a malformed event must still be answered, not crash the handler)."""
    response = await client.post("/webhooks/stripe", content=body,
                                 headers=_headers(extra, **{"stripe-signature": sign(body)}))
    assert response.status_code < 500, response.text
    await nothing_written()


@FUZZ
@given(body=bodies, extra=extra_headers, svix_id=st.none() | header_text,
       svix_timestamp=st.none() | header_text | st.integers().map(str),
       svix_signature=st.none() | header_text)
@example(body=b"a\x00b", extra={}, svix_id="msg_1", svix_timestamp="1",  # bug found: NUL → 500
         svix_signature="v1,x")
async def test_resend_webhook_refuses_junk(client: httpx.AsyncClient, body: bytes,
                                           extra: dict[str, str], svix_id: str | None,
                                           svix_timestamp: str | None,
                                           svix_signature: str | None) -> None:
    headers = _headers(extra, **{"svix-id": svix_id, "svix-timestamp": svix_timestamp,
                                 "svix-signature": svix_signature})
    response = await client.post("/webhooks/resend", content=body, headers=headers)
    assert response.status_code == 400, response.text
    rows = await WebhookDelivery.select().where(WebhookDelivery.provider == "resend")
    assert rows and all(not row["signature_valid"] and not row["processed"] for row in rows)
    assert all(len(row["body"]) <= 2048 for row in rows)
    await nothing_written()


resend_like = st.fixed_dictionaries({
    "type": st.sampled_from(["email.sent", "email.bounced", "email.failed", "email.delivered",
                             "email.opened"]) | json_values,
    "created_at": json_values | st.just(datetime.now(UTC).isoformat()),
    "data": json_values | st.fixed_dictionaries({
        "email_id": json_values, "bounce": json_values, "failed": json_values}),
})


@FUZZ
@given(event=resend_like | json_values, msg_id=st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=300))
@example(event={"type": "email.sent\x00", "data": {"email_id": "re_\x00"}}, msg_id="msg_nul")
@example(event=[], msg_id="msg_list")
async def test_resend_webhook_signed_junk_is_never_a_server_error(
        client: httpx.AsyncClient, event: Any, msg_id: str) -> None:
    body = json.dumps(event).encode()
    response = await client.post("/webhooks/resend", content=body,
                                 headers=svix_signed(body, msg_id))
    assert response.status_code in (200, 400, 409), response.text
    await nothing_written()
