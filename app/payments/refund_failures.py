"""Refunds the customer's bank returned. A card refund can fail days after Stripe accepted
it (the card expired, was cancelled, lost or stolen): Stripe sets the refund `failed`, puts
the money back in the restaurant's Stripe balance and sends `refund.failed` (with
`refund.updated`, and `charge.refund.updated` to accounts on older API versions). Until then
the order, the owner's figures and the diner's emails all said "refunded".

Each event only says "look": the payment's refunds are read from Stripe, and every refund
Stripe calls failed (or canceled) is forgotten once (`settlement.forget_refund`: its row goes
and the running total falls) and queued for a human as a `refund_failed` discrepancy (which
raises the alert) saying how much, why, and what to do: pay the customer back another way,
as Stripe cannot refund that card. The owner's order page says so too."""

from __future__ import annotations

from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.notifications.service import enqueue_email
from app.orders.tables import PaidOrder
from app.payments import settlement
from app.payments.confirm import Outcome
from app.payments.reconciliation_fixes import record_discrepancy
from app.payments.stripe_gateway import get_gateway
from app.platform import outbox
from app.templating import format_money

log = get_logger("orderpass.payments.refund_failures")
EVENTS = frozenset({"refund.failed", "refund.updated", "charge.refund.updated"})
DISCREPANCY = "refund_failed"
NOT_REFUNDED = ("failed", "canceled")
# Stripe's `failure_reason`, said for the owner.
WHY = {
    "lost_or_stolen_card": "the card was reported lost or stolen",
    "expired_or_canceled_card": "the card has expired or was cancelled",
    "charge_for_pending_refund_disputed": "the customer disputed the charge meanwhile",
    "insufficient_funds": "the refund could not be funded",
    "declined": "the customer's bank declined it",
    "merchant_request": "it was cancelled at the restaurant's request",
}


def why(failure_reason: str | None, status: str) -> str:
    if status == "canceled":
        return "it was cancelled before it reached the card"
    return WHY.get(failure_reason or "", "the customer's bank gave no reason")


async def refunds_returned(redis: ArqRedis, order: PaidOrder) -> Outcome:
    """Forget every refund of the order Stripe says did not reach the customer."""
    ref = order.public_id
    refunds = await get_gateway().list_refunds(str(order.stripe_payment_intent_id),
                                               order_ref=ref)
    returned = [r for r in refunds if r.status in NOT_REFUNDED]
    forgot = 0
    for refund in returned:
        refund_id, amount = str(refund.id), int(refund.amount)
        failure = str(getattr(refund, "failure_reason", None) or "")
        reason = why(failure, str(refund.status))
        forgot += await settlement.forget_refund(order, refund_id)
        # The diner was told "refunded": told now it did not arrive, once per refund (a
        # redelivered event, after a crash between the two, finds the row and sends nothing).
        await enqueue_email(redis, "refund_returned", ref, suffix=refund_id)
        if await record_discrepancy(
                DISCREPANCY, str(order.stripe_checkout_session_id), ref, int(order.restaurant),
                {"reason": f"the refund of {format_money(amount, order.currency)} did not reach "
                           f"the customer ({reason}): the money is back in the Stripe balance; "
                           "pay the customer back another way, Stripe cannot refund this card",
                 "refund": refund_id, "amount": amount, "currency": order.currency,
                 "failure_reason": failure,
                 "status": str(refund.status)},
                about=refund_id):
            log.error("refund returned by the customer's bank", order_id=ref, refund=refund_id,
                      amount=amount, failure_reason=failure)
    if not forgot:
        return Outcome("refund_failure_known" if returned else "refunds_unchanged", ref)
    # The kitchen card's "refunded" lines and the diner's page re-read the order.
    await outbox.deliver_now(redis, [outbox.kitchen_event(
        order.restaurant, ref, "order.updated", tag=f"refund-failed-{forgot}")])
    return Outcome("refund_failed", ref)
