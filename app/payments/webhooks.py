"""Stripe webhook processing: verify the signature over the raw body and act on the event
types that matter: paid sessions through `confirm_paid_session` (which returns the fast
path's follow-up), expired and failed links, and refunds and disputes made in Stripe
(`money_events`)."""

from __future__ import annotations

import json
from typing import Any

import stripe
from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.orders import payment_links
from app.payments import money_events
from app.payments.confirm import Outcome, confirm_paid_session, order_ref_of
from app.payments.fulfilment import (
    record_event_once,
)
from app.platform.metrics import WEBHOOK_EVENTS

log = get_logger("orderpass.webhooks.stripe")
TOLERANCE_S = 300
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}


class InvalidWebhook(Exception):
    pass


def verify(payload: bytes, signature_header: str | None, secrets: list[str]) -> stripe.Event:
    """The event if any configured secret signed it within the tolerance (several secrets
    allow rotation; Stripe itself may send several v1 signatures during a roll)."""
    if not signature_header:
        raise InvalidWebhook("missing Stripe-Signature header")
    if not secrets:
        raise InvalidWebhook("STRIPE_WEBHOOK_SECRET is not configured")
    last_error = "signature does not match"
    for secret in secrets:
        try:
            event = stripe.Webhook.construct_event(payload, signature_header, secret,
                                                   tolerance=TOLERANCE_S)
        except stripe.SignatureVerificationError as error:
            last_error = str(error.user_message or error)
            continue
        except (ValueError, TypeError, AttributeError) as error:
            raise InvalidWebhook(f"malformed JSON body: {error}") from None
        if not _is_event(json.loads(payload)):  # signed, but not an event: handler would crash
            raise InvalidWebhook("not a Stripe event (needs id, type and data.object)")
        return event
    raise InvalidWebhook(last_error)


def _is_event(event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    data = event.get("data")
    return (isinstance(event.get("id"), str) and isinstance(event.get("type"), str)
            and isinstance(data, dict) and isinstance(data.get("object"), dict))


async def handle_event(redis: ArqRedis, event: stripe.Event, received: float) -> Outcome:
    kind = event.type
    if kind in money_events.HANDLED:
        return await money_events.handle(redis, event)
    if not kind.startswith("checkout.session."):
        return Outcome("ignored")
    session: stripe.checkout.Session = event.data.object  # type: ignore[assignment]
    temp_id = order_ref_of(session)
    if kind in PAID_EVENTS:
        return await confirm_paid_session(redis, session, event_id=event.id, event_type=kind,
                                          received=received)
    # Closing a temp order is idempotent (its email too), so it runs before the event is
    # recorded: a failure in between is retried by Stripe and completes on the retry.
    if kind == "checkout.session.async_payment_failed":
        await payment_links.mark_payment_failed(redis, temp_id, session.id)
        await record_event_once(event.id, kind, session.id, "payment_failed")
        return Outcome("payment_failed", temp_id)
    if kind == "checkout.session.expired":
        await payment_links.mark_link_expired(redis, temp_id, session.id)
        await record_event_once(event.id, kind, session.id, "expired")
        return Outcome("expired", temp_id)
    return Outcome("ignored", temp_id)


def count(kind: str, result: str) -> None:
    WEBHOOK_EVENTS.labels(provider="stripe", type=kind, result=result).inc()
