"""A diner back on the status page from Stripe's checkout (the success URL) may have paid
before Stripe's webhook arrives: its delivery can lag by seconds, or by much more while Stripe
works off a backlog or an endpoint is misconfigured. Stripe's fulfilment guide recommends
fulfilling from the landing page too, so that page asks Stripe about the order's Checkout
Session, after its answer has gone out, and records a paid one through the webhook's own path
(`confirm_paid_session`: exactly one order whoever gets there first). The kitchen and the
diner's page are told as for the webhook.

Asked RETURN_GRACE_S after the page, when the webhook has usually recorded the order and
taken its temp order away (then nothing is asked: no Stripe read, and no race with the
webhook for the order, in which the loser's ticket number would be skipped); at most once
per order per RETURN_ASK_EVERY_S (a reload, or a URL typed in, costs no second Stripe
read); only for an order of ours still awaiting payment with a link.

While Redis (or Postgres) is away the page cannot be made: `paid_at_stripe` asks Stripe
alone whether the money went, so the outage page can tell the diner (app/orders/pages.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.orders.models import OrderStatus
from app.orders.views import temp_store
from app.payments.confirm import confirm_paid_session, order_ref_of
from app.payments.session_state import paid_or_authorised
from app.payments.stripe_gateway import get_gateway

log = get_logger("orderpass.payments.on_return")
RETURN_GRACE_S = 2.0  # Stripe's webhook for a payment usually lands within a second
RETURN_ASK_EVERY_S = 10
RETURN_EVENT_TYPE = "checkout.session.completed"  # what the recorded order came from
_ASKED = "orderpass:return-asked:"


async def confirm_on_return(redis: ArqRedis, order_id: str) -> str:
    """Record the order if Stripe holds its money already. Returns what happened ("created",
    a duplicate's outcome, "not_paid", "not_asked"); never raises (the webhook and the
    reconciliation cron stay the guarantee)."""
    try:
        await asyncio.sleep(RETURN_GRACE_S)
        order = await temp_store(redis).get(order_id)
        if (order is None or order.status != OrderStatus.AWAITING_PAYMENT
                or not order.checkout_session_id):
            return "not_asked"
        if not await redis.set(_ASKED + order_id, "1", nx=True, ex=RETURN_ASK_EVERY_S):
            return "not_asked"
        session = await get_gateway().retrieve_checkout_session(order.checkout_session_id,
                                                                order_ref=order_id)
        if order_ref_of(session) != order_id:  # never another order's session
            return "not_asked"
        outcome = await confirm_paid_session(redis, session, event_id=f"return:{session.id}",
                                             event_type=RETURN_EVENT_TYPE,
                                             remember_unpaid=False)
        if outcome.result == "awaiting_async_result":
            return "not_paid"
        await outcome.finish()
    except Exception as error:  # the webhook records it; the diner's page is not an error
        log.warning("payment not confirmed on the diner's return; the webhook will",
                    order_id=order_id, error=str(error)[:300])
        return "failed"
    log.info("payment confirmed on the diner's return", order_id=order_id,
             session=session.id, outcome=outcome.result)
    return outcome.result


@dataclass(frozen=True)
class PaidAtStripe:
    """What Stripe holds for the order a diner came back for: the amount, to say it."""
    amount: int
    currency: str
    order_id: str


# Sessions Stripe confirmed holding money for (a payment does not come undone): the outage
# page refreshes every few seconds, and asks Stripe again only about the others.
_CONFIRMED: dict[str, PaidAtStripe] = {}  # by session id
_CONFIRMED_KEPT = 1000


def _session_id_shape(session_id: str) -> bool:
    return session_id.startswith("cs_") and len(session_id) <= 255 and \
        session_id.isascii() and session_id.replace("_", "").isalnum()


async def paid_at_stripe(order_id: str, session_id: str) -> PaidAtStripe | None:
    """Whether Stripe holds the money for `order_id` through the Checkout Session the
    success URL named, asked of Stripe alone (for the page shown while Redis or Postgres is
    away). None when it does not, the session is another order's, or Stripe does not say;
    never raises."""
    if not _session_id_shape(session_id):
        return None
    if (known := _CONFIRMED.get(session_id)) is not None:
        return known if known.order_id == order_id else None
    try:
        gateway = get_gateway()
        session = await gateway.retrieve_checkout_session(session_id, order_ref=order_id)
        if order_ref_of(session) != order_id or not await paid_or_authorised(
                gateway, session, order_ref=order_id):
            return None
    except Exception as error:  # the outage page says what it knows; it is not an error
        log.warning("payment not looked up on the diner's return", order_id=order_id,
                    error=str(error)[:300])
        return None
    paid = PaidAtStripe(session.amount_total or 0, (session.currency or "").lower(), order_id)
    if len(_CONFIRMED) >= _CONFIRMED_KEPT:
        _CONFIRMED.clear()
    _CONFIRMED[session_id] = paid
    return paid
