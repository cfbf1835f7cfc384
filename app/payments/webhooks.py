"""Stripe webhook processing: verify the signature over the raw body, act on the event
types that matter, and run the after-commit fast path (kitchen publish, email, cleanup)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import stripe
from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.ops import outbox
from app.ops.funnel import bump
from app.ops.metrics import ORDERS_PAID, PAYMENT_TO_KITCHEN, WEBHOOK_EVENTS
from app.orders import payment_links
from app.orders.views import temp_store
from app.payments.fulfilment import (
    Fulfilment,
    outbox_rows,
    record_event_once,
    record_paid_session,
)
from app.payments.rebuild import CannotRebuild
from app.payments.stripe_gateway import get_gateway, metadata_of
from app.restaurants.services import slug_of

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
    if _signed_at(signature_header) > time.time() + TOLERANCE_S:
        # Stripe's SDK checks only the past; a future date would keep a captured request
        # replayable until then.
        raise InvalidWebhook("signature timestamp is in the future")
    last_error = "signature does not match"
    for secret in secrets:
        try:
            event = stripe.Webhook.construct_event(payload, signature_header, secret,
                                                   tolerance=TOLERANCE_S)
            if not _is_event(json.loads(payload)):  # signed, but not an event
                raise InvalidWebhook("not a Stripe event (needs id, type and data.object)")
        except stripe.SignatureVerificationError as error:
            last_error = str(error.user_message or error)
            continue
        except RecursionError:
            raise InvalidWebhook("JSON body nested too deeply") from None
        except (ValueError, TypeError, AttributeError) as error:
            raise InvalidWebhook(f"malformed JSON body: {error}") from None
        return event
    raise InvalidWebhook(last_error)


def _signed_at(signature_header: str) -> int:
    """The `t=` of a Stripe-Signature header (0 if absent or not a number: the SDK then
    refuses the header itself)."""
    for part in signature_header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) < 12:
            return int(value)
    return 0


def _is_event(event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    data = event.get("data")
    return (isinstance(event.get("id"), str) and isinstance(event.get("type"), str)
            and isinstance(data, dict) and isinstance(data.get("object"), dict))


@dataclass(frozen=True)
class Outcome:
    result: str
    order_ref: str = ""
    # Work to run once the 2xx is sent (the fast path's email and bookkeeping).
    follow_up: Callable[[], Awaitable[None]] | None = None


async def _authorised(session: stripe.checkout.Session) -> bool:
    """A manual-capture payment can complete as `unpaid` while the card is authorised."""
    intent = getattr(session, "payment_intent", None)
    if not intent:
        return False
    intent_id = intent if isinstance(intent, str) else intent.id
    payment_intent = await get_gateway().retrieve_payment_intent(
        intent_id, order_ref=session.client_reference_id or "")
    return payment_intent.status in ("requires_capture", "succeeded")


async def handle_event(redis: ArqRedis, event: stripe.Event, received: float) -> Outcome:
    kind = event.type
    if not kind.startswith("checkout.session."):
        return Outcome("ignored")
    session: stripe.checkout.Session = event.data.object  # type: ignore[assignment]
    if not isinstance(getattr(session, "id", None), str):
        return Outcome("ignored: not a Checkout Session")
    temp_id = metadata_of(session).get("temp_order_id") or getattr(
        session, "client_reference_id", None) or ""
    if kind in PAID_EVENTS:
        if getattr(session, "payment_status", None) != "paid" and not await _authorised(session):
            # A delayed payment method: the async_payment_* event decides.
            await record_event_once(event.id, kind, session.id, "awaiting_async_result")
            return Outcome("awaiting_async_result", temp_id)
        try:
            fulfilment = await record_paid_session(redis, session, event_id=event.id,
                                                   event_type=kind)
        except CannotRebuild as error:
            # No order of ours and no restaurant named: a session made by something else
            # on the same Stripe account. Retrying cannot change that; acknowledge it.
            log.warning("paid session is not ours; ignored", stripe_event=event.id,
                        session=session.id, order_id=temp_id or None, reason=str(error))
            await record_event_once(event.id, kind, session.id, "ignored_unknown_session")
            return Outcome("ignored: unknown session", temp_id)
        if fulfilment.outcome != "created":
            return Outcome(fulfilment.outcome, fulfilment.order_ref)
        finish = await publish_paid(redis, fulfilment, received)
        return Outcome(fulfilment.outcome, fulfilment.order_ref, follow_up=finish)
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


async def after_commit(redis: ArqRedis, fulfilment: Fulfilment, received: float) -> None:
    """Fast path after the order committed: deliver its outbox rows now (kitchen publish,
    then the payment email). Failures here are logged, never raised: the outbox relay
    re-delivers whatever did not get done."""
    await (await publish_paid(redis, fulfilment, received))()


async def publish_paid(redis: ArqRedis, fulfilment: Fulfilment, received: float
                       ) -> Callable[[], Awaitable[None]]:
    """Tell the kitchen now (the latency a cook sees) and return the rest of the fast path
    (payment email, outbox bookkeeping, temp-order clean-up), which the webhook runs after
    its 2xx has gone out: Stripe needs only the commit, and the outbox covers a crash."""
    assert fulfilment.restaurant_id is not None
    kitchen, email = outbox_rows(fulfilment.order_ref, fulfilment.restaurant_id,
                                 fulfilment.recipient)
    published = await outbox.deliver_now(redis, [kitchen], mark=False)
    if published:
        PAYMENT_TO_KITCHEN.observe(time.perf_counter() - received)

    async def finish() -> None:
        await outbox.deliver_now(redis, [email], delivered=[kitchen] if published else [])
        try:
            await bump(fulfilment.restaurant_id or 0, "paid")  # analytics: at most lost
        except Exception as error:
            log.warning("funnel not counted", order_id=fulfilment.order_ref, error=str(error))
        try:
            await temp_store(redis).delete(fulfilment.order_ref)
        except Exception as error:
            log.warning("after-commit bookkeeping failed", order_id=fulfilment.order_ref,
                        error=str(error))
        try:  # labelled by slug, as every metric with a restaurant
            ORDERS_PAID.labels(restaurant=await slug_of(fulfilment.restaurant_id or 0)).inc()
        except Exception as error:
            log.warning("paid order not counted", order_id=fulfilment.order_ref,
                        error=str(error))

    return finish


def count(kind: str, result: str) -> None:
    WEBHOOK_EVENTS.labels(provider="stripe", type=kind, result=result).inc()
