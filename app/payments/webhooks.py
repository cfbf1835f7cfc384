"""Stripe webhook processing: verify the signature over the raw body and act on the event
types that matter: paid sessions through `confirm_paid_session` (which returns the fast
path's follow-up), expired and failed links, and refunds and disputes made in Stripe
(`money_events`)."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.infra.unavailable import DEPENDENCY_ERRORS
from app.orders import payment_links
from app.payments import money_events
from app.payments.confirm import Outcome, confirm_paid_session, order_ref_of
from app.payments.fulfilment import record_event_once
from app.payments.rebuild import CannotRebuild
from app.payments.stripe_data import CheckoutSession, Event, StripeData
from app.platform.metrics import WEBHOOK_EVENTS
from app.settings import get_settings

log = get_logger("orderpass.webhooks.stripe")
TOLERANCE_S = 300
PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}


class InvalidWebhook(Exception):
    pass


@dataclass(frozen=True)
class Reply:
    """What `POST /webhooks/stripe` answers, and what runs once that answer is sent."""

    status: int
    body: dict[str, Any]
    follow_up: Callable[[], Awaitable[None]] | None = None


async def answer(redis: ArqRedis, payload: bytes, signature_header: str | None,
                 received: float) -> Reply:
    """The webhook's whole answer: 400 for anything that is not a genuine Stripe event
    (nothing written), 503 when processing failed (Stripe retries), else 200 once the order
    is committed and the kitchen told. `received`: when the request arrived (for the
    payment-to-kitchen metric)."""
    secrets = [secret.strip() for secret in get_settings().stripe_webhook_secret.split(",")
               if secret.strip()]
    try:
        event = verify(payload, signature_header, secrets)
    except InvalidWebhook as error:
        count("unknown", "rejected")
        log.warning("stripe webhook rejected", reason=str(error)[:200])
        return Reply(400, {"error": str(error)[:200]})
    try:
        outcome = await handle_event(redis, event, received)
    except DEPENDENCY_ERRORS as error:
        # Postgres or Redis down: every retry would log the same traceback; one line says it.
        count(event.type, "error")
        log.warning("stripe webhook deferred, a dependency is unavailable; Stripe will retry",
                    stripe_event=event.id, event_type=event.type, **_about(event),
                    error=f"{type(error).__name__}: {str(error)[:200]}")
        return Reply(503, {"error": f"processing failed: {type(error).__name__}"})
    except Exception as error:
        count(event.type, "error")
        log.exception("stripe webhook failed; Stripe will retry", stripe_event=event.id,
                      event_type=event.type)
        return Reply(503, {"error": f"processing failed: {type(error).__name__}"})
    count(event.type, outcome.result)
    # an event about no order of ours (a payout, a customer…) names none, not `order_id=`
    order = {"order_id": outcome.order_ref} if outcome.order_ref else {}
    log.info("stripe webhook", stripe_event=event.id, event_type=event.type,
             result=outcome.result, ms=round((time.perf_counter() - received) * 1000, 1),
             **order)
    # The order is committed and the kitchen told; the email and bookkeeping of the fast
    # path run once the 2xx is on its way (the outbox relay covers a crash meanwhile).
    return Reply(200, {"result": outcome.result}, outcome.follow_up)


def _about(event: Event) -> dict[str, str]:
    """What a failure line names besides the event: the order of a Checkout Session, else
    the object (a charge, a dispute) whose order only the database could tell."""
    thing = event.data.object
    if event.type.startswith("checkout.session.") and (ref := order_ref_of(thing)):  # type: ignore[arg-type]
        return {"order_id": ref}
    ident = getattr(thing, "id", None)
    return {"object": ident} if isinstance(ident, str) else {}


def verify(payload: bytes, signature_header: str | None, secrets: list[str]) -> StripeData:
    """The event if any configured secret signed it within the tolerance (several secrets
    allow rotation; Stripe itself may send several v1 signatures during a roll).

    The checks, their order and their messages are those of the SDK's
    `Webhook.construct_event` (tests compare both): HMAC-SHA256 of `<t>.<body>` against
    every `v1` signature, then the timestamp against the tolerance. The body is parsed once,
    where the SDK parsed it twice (once into OrderedDicts), and the header once per request
    rather than once per secret. The event is a view of the parsed body (`StripeData`), not
    the SDK's tree of StripeObjects."""
    if not signature_header:
        raise InvalidWebhook("missing Stripe-Signature header")
    if not secrets:
        raise InvalidWebhook("STRIPE_WEBHOOK_SECRET is not configured")
    try:
        body = payload.decode("utf-8")
    except UnicodeDecodeError as undecodable:
        raise InvalidWebhook(f"malformed JSON body: {undecodable}") from None
    if _signed_at(signature_header) > time.time() + TOLERANCE_S:
        # Stripe's SDK checks only the past; a future date would keep a captured request
        # replayable until then.
        raise InvalidWebhook("signature timestamp is in the future")
    last_error = "signature does not match"
    header = _signature_header(signature_header)
    for secret in secrets:
        try:
            mismatch = _signature_error(body, header, secret)
        except TypeError as failure:  # the SDK's compare_digest on a non-ASCII signature
            raise InvalidWebhook(f"malformed JSON body: {failure}") from None
        if mismatch:
            last_error = mismatch
            continue
        try:
            values = _parse(payload)
            if values.get("object") == "v2.core.event":
                raise ValueError(THIN_EVENT)
        except RecursionError:
            raise InvalidWebhook("JSON body nested too deeply") from None
        except (ValueError, TypeError, AttributeError) as failure:
            raise InvalidWebhook(f"malformed JSON body: {failure}") from None
        if not _is_event(values):  # signed, but not an event: handler would crash
            raise InvalidWebhook("not a Stripe event (needs id, type and data.object)")
        return StripeData(values)
    raise InvalidWebhook(last_error)


# The SDK's messages (stripe/_webhook.py), word for word.
THIN_EVENT = ("You passed a thin event notification to a method that expects a webhook body. "
              "Use the corresponding parse_event_notification* method instead.")
NO_SECRET = "No webhook secret value was provided. It should start with `whsec_`"
UNREADABLE = "Unable to extract timestamp and signatures from header"
NO_V1 = "No signatures found with expected scheme v1"
NO_MATCH = "No signatures found matching the expected signature for payload"


def _signature_header(header: str) -> tuple[int, list[str]] | None:
    """(t, the v1 signatures) as the SDK reads them, or None where it could not."""
    try:
        items = [item.split("=", 2) for item in header.split(",")]
        stamp = next((item[1] for item in items if item[0] == "t"), None)
        if stamp is None:
            return None
        return int(stamp), [item[1] for item in items if item[0] == "v1"]
    except (IndexError, ValueError):
        return None


def _signature_error(body: str, header: tuple[int, list[str]] | None, secret: str) -> str:
    """Why `secret` did not sign `body` within the tolerance ('' if it did)."""
    if secret.strip(" \t\r\n\f\v") == "":
        return NO_SECRET
    if header is None:
        return UNREADABLE
    timestamp, signatures = header
    if not signatures:
        return NO_V1
    # the one-shot digest: the same HMAC-SHA256 as hmac.new(…).hexdigest(), in C throughout
    expected = hmac.digest(secret.encode("utf-8"), f"{timestamp}.{body}".encode(),
                           "sha256").hex()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        return NO_MATCH
    if TOLERANCE_S and timestamp < time.time() - TOLERANCE_S:
        return f"Timestamp outside the tolerance zone ({timestamp})"
    return ""


def _parse(payload: bytes) -> Any:
    """The body as json.loads reads it. msgspec parses a valid event in a fraction of the
    time; anything it refuses (a BOM, NaN, nesting past its limit, malformed JSON) goes to
    json.loads, whose reading and error messages are the SDK's."""
    try:
        return _decoder.decode(payload)
    except msgspec.DecodeError:
        return json.loads(payload)


_decoder = msgspec.json.Decoder()


def _signed_at(signature_header: str) -> int:
    """The `t=` of a Stripe-Signature header (0 if absent or not a number: the check below
    then refuses the header itself)."""
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


async def handle_event(redis: ArqRedis, event: Event, received: float) -> Outcome:
    kind = event.type
    if kind in money_events.HANDLED:
        return await money_events.handle(redis, event)
    if not kind.startswith("checkout.session."):
        return Outcome("ignored")
    session: CheckoutSession = event.data.object  # type: ignore[assignment]
    if not isinstance(getattr(session, "id", None), str):
        return Outcome("ignored: not a Checkout Session")
    temp_id = order_ref_of(session)
    if kind in PAID_EVENTS:
        try:
            return await confirm_paid_session(redis, session, event_id=event.id,
                                              event_type=kind, received=received)
        except CannotRebuild as error:
            # No order of ours and no restaurant named: a session made by something else
            # on the same Stripe account. Retrying cannot change that; acknowledge it.
            log.warning("paid session is not ours; ignored", stripe_event=event.id,
                        session=session.id, order_id=temp_id or None, reason=str(error))
            await record_event_once(event.id, kind, session.id, "ignored_unknown_session")
            return Outcome("ignored: unknown session", temp_id)
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
