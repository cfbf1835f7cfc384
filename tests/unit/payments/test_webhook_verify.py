"""`verify` accepts and refuses exactly what the SDK's `Webhook.construct_event` does, with the
same messages, for every secret order and header shape (it is the SDK's check without the
SDK's second parse of the body)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
import stripe

from app.payments.webhooks import TOLERANCE_S, InvalidWebhook, verify

SECRET, OTHER = "whsec_current", "whsec_previous"
EVENT = {"id": "evt_1", "object": "event", "type": "checkout.session.completed",
         "data": {"object": {"id": "cs_1", "object": "checkout.session",
                             "metadata": {"temp_order_id": "TEMP-x"},
                             "payment_status": "paid", "amount_total": 1300}}}
BODY = json.dumps(EVENT).encode()


def sign(body: bytes, secret: str, at: int | None = None) -> str:
    moment = int(time.time()) if at is None else at
    return hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()


def the_sdks(payload: bytes, header: str | None, secrets: list[str]) -> Any:
    """What verify did before: the SDK per secret, the same error mapping, plus the one rule
    we add on purpose: a timestamp beyond the tolerance in the future is refused (the SDK
    checks only the past, so a captured request would stay replayable until then)."""
    if not header:
        raise InvalidWebhook("missing Stripe-Signature header")
    try:
        payload.decode("utf-8")
        signed_at = int(dict(part.split("=", 1) for part in header.split(",")
                             if "=" in part).get("t", "0"))
    except ValueError:
        signed_at = 0
    if signed_at > time.time() + TOLERANCE_S:
        raise InvalidWebhook("signature timestamp is in the future")
    last = "signature does not match"
    for secret in secrets:
        try:
            event = stripe.Webhook.construct_event(payload, header, secret,
                                                   tolerance=TOLERANCE_S)
        except stripe.SignatureVerificationError as error:
            last = str(error.user_message or error)
            continue
        except (ValueError, TypeError, AttributeError) as error:
            raise InvalidWebhook(f"malformed JSON body: {error}") from None
        values = json.loads(payload)
        data = values.get("data") if isinstance(values, dict) else None
        if not (isinstance(data, dict) and isinstance(data.get("object"), dict)
                and isinstance(values.get("id"), str) and isinstance(values.get("type"), str)):
            raise InvalidWebhook("not a Stripe event (needs id, type and data.object)")
        return event
    raise InvalidWebhook(last)


now = int(time.time())
BOM = b"\xef\xbb\xbf" + BODY
THIN = b'{"object": "v2.core.event", "id": "evt"}'
NOT_EVENT = b'{"id": "evt"}'
CASES: list[tuple[str, bytes, str]] = [
    ("valid", BODY, f"t={now},v1={sign(BODY, SECRET)}"),
    ("second of two signatures", BODY, f"t={now},v1={'0' * 64},v1={sign(BODY, SECRET)}"),
    ("signed with the previous secret", BODY, f"t={now},v1={sign(BODY, OTHER)}"),
    ("wrong signature", BODY, f"t={now},v1={'0' * 64}"),
    ("stale", BODY, f"t={now - 400},v1={sign(BODY, SECRET, now - 400)}"),
    ("from the future", BODY, f"t={now + 400},v1={sign(BODY, SECRET, now + 400)}"),
    ("tampered body", BODY.replace(b"1300", b"13"), f"t={now},v1={sign(BODY, SECRET)}"),
    ("no timestamp", BODY, f"v1={sign(BODY, SECRET)}"),
    ("bad timestamp", BODY, f"t=soon,v1={sign(BODY, SECRET)}"),
    ("no v1", BODY, f"t={now},v0={sign(BODY, SECRET)}"),
    ("v1 without value", BODY, f"t={now},v1"),
    ("non-ASCII signature", BODY, f"t={now},v1=é{sign(BODY, SECRET)[1:]}"),
    ("garbage header", BODY, "nonsense"),
    ("not UTF-8", b"\xff" + BODY, f"t={now},v1={sign(b'x', SECRET)}"),
    ("not JSON", b"{nope", f"t={now},v1={sign(b'{nope', SECRET)}"),
    ("a list", b"[1]", f"t={now},v1={sign(b'[1]', SECRET)}"),
    ("a BOM", BOM, f"t={now},v1={sign(BOM, SECRET)}"),
    ("a thin event", THIN, f"t={now},v1={sign(THIN, SECRET)}"),
    ("not an event", NOT_EVENT, f"t={now},v1={sign(NOT_EVENT, SECRET)}"),
]


@pytest.mark.parametrize("secrets", [[SECRET], [OTHER, SECRET], [SECRET, OTHER], [" ", SECRET]])
@pytest.mark.parametrize(("name", "payload", "header"), CASES, ids=[c[0] for c in CASES])
def test_verify_matches_the_sdk(name: str, payload: bytes, header: str,
                                secrets: list[str]) -> None:
    try:
        expected: Any = the_sdks(payload, header, secrets)
    except InvalidWebhook as error:
        expected = error
    if isinstance(expected, InvalidWebhook):
        with pytest.raises(InvalidWebhook) as raised:
            verify(payload, header, secrets)
        assert str(raised.value) == str(expected)
    else:
        event = verify(payload, header, secrets)
        assert isinstance(event, stripe.Event)
        assert event.to_dict() == expected.to_dict()
        assert event.data.object.metadata.to_dict() == {"temp_order_id": "TEMP-x"}


def test_missing_header_and_secret() -> None:
    with pytest.raises(InvalidWebhook, match="missing Stripe-Signature header"):
        verify(BODY, None, [SECRET])
    with pytest.raises(InvalidWebhook, match="STRIPE_WEBHOOK_SECRET is not configured"):
        verify(BODY, f"t={now},v1={sign(BODY, SECRET)}", [])
