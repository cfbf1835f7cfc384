"""Refunds and disputes made outside Orderpass (Stripe's dashboard, the cardholder's bank):
`charge.refunded`, `charge.dispute.created`, `charge.dispute.closed`; card holds Stripe
canceled (`payment_intent.canceled`: a manual-capture hold lapses 7 days after payment); and
refunds the customer's bank returned (`refund.failed`: `app.payments.refund_failures`).

Each event only says "look": the handler reads the real state from Stripe (the intent's
refunds, the dispute) and brings the order to it, so duplicates and any arrival order end the
same. A refund records its row and running total; the whole payment back moves the order to
`refunded` (state machine), less is a partial refund; either way the kitchen card and the
customer page change live and the customer gets an email. A refund made outside Orderpass,
and any dispute, is also queued as a discrepancy for the admin (which raises the alert)."""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.notifications.service import enqueue_email
from app.orders import lifecycle
from app.orders.tables import PaidOrder
from app.payments import refund_failures, settlement
from app.payments.confirm import Outcome
from app.payments.dispute_status import CHARGEBACK_OPEN, INQUIRY_OPEN, KEPT
from app.payments.reconciliation_fixes import record_discrepancy
from app.payments.stripe_data import Event
from app.payments.stripe_gateway import get_gateway, metadata_of
from app.platform import outbox

log = get_logger("orderpass.payments.money_events")
HANDLED = frozenset({"charge.refunded", "charge.dispute.created", "charge.dispute.closed",
                     "payment_intent.canceled"}) | refund_failures.EVENTS
CLOSED = ("refunded", "voided", "charged_back")  # no money is left to move


async def _order_for(intent: str) -> PaidOrder | None:
    if not intent:
        return None
    return await PaidOrder.objects().get(PaidOrder.stripe_payment_intent_id == intent)


async def handle(redis: ArqRedis, event: Event) -> Outcome:
    obj: Any = event.data.object
    if event.type == "payment_intent.canceled":
        return await hold_canceled(redis, str(getattr(obj, "id", "") or ""))
    intent = str(getattr(obj, "payment_intent", None) or "")
    charge_id = str(getattr(obj, "charge", None) or "")
    if not intent and charge_id:  # a dispute of an older charge names only the charge
        charge = await get_gateway().retrieve_charge(charge_id)
        intent = str(charge.payment_intent or "")
    order = await _order_for(intent)
    if order is None:
        log.info("money event for no order of ours", stripe_event=event.id, type=event.type)
        return Outcome("no_order")
    if event.type in refund_failures.EVENTS:  # about one refund: did it reach the card?
        return await refund_failures.refunds_returned(redis, order)
    if event.type == "charge.refunded":
        if getattr(obj, "captured", None) is False:
            # A hold released (our void, or its lapse), not money returned: nothing was
            # ever captured. Stripe sends this only to an account on an API version before
            # 2025-03-31.basil, which also lists a Refund for the release.
            log.info("hold released, not refunded: nothing to record",
                     order_id=order.public_id, stripe_event=event.id)
            return Outcome("hold_released", order.public_id)
        return await refunds_changed(redis, order)
    return await dispute_changed(redis, order, str(obj.id))


async def hold_canceled(redis: ArqRedis, intent: str) -> Outcome:
    """A PaymentIntent was canceled. Ours after a reject (the void) or of an unpaid link
    need nothing; a manual-capture hold we still count on (a booking waiting for its slot,
    a slow kitchen) lapsed: the order can never be charged, so it is rejected now (off the
    board, the diner told they were not charged) rather than cooked at accept."""
    order = await _order_for(intent)
    if order is None:
        return Outcome("no_order")
    ref = order.public_id
    if order.status != "paid" or order.capture_mode != "manual" or order.accepted_at:
        return Outcome("hold_canceled_known", ref)
    state = await get_gateway().retrieve_payment_intent(intent, order_ref=ref)
    if state.status != "canceled":  # the event only says "look"
        return Outcome("hold_live", ref)
    await lifecycle.lapse_hold(ref, actor="stripe", redis=redis, action="auto_reject")
    log.warning("card hold lapsed before the kitchen accepted", order_id=ref,
                reason=str(state.cancellation_reason or ""))
    return Outcome("hold_lapsed", ref)


async def refunds_changed(redis: ArqRedis, order: PaidOrder) -> Outcome:
    """Bring the order to the refunds Stripe has for its payment. `order` as read before
    Stripe's refunds are: its status then says whether the order was closed already."""
    ref = order.public_id
    closed_before = order.status in CLOSED
    refunds = await get_gateway().list_refunds(str(order.stripe_payment_intent_id),
                                               order_ref=ref)
    new = await settlement.sync_refunds(order, refunds)
    outside = [r for r in refunds if str(r.id) in new
               and not metadata_of(r).get("orderpass_key")]
    order = await lifecycle.get_order(ref) or order
    full = order.amount_refunded >= order.amount_charged
    if outside:
        total = sum(int(r.amount) for r in outside)
        await record_discrepancy(
            "refund_outside", str(order.stripe_checkout_session_id), ref,
            int(order.restaurant),
            {"reason": f"refunded {total} {order.currency} in Stripe, outside Orderpass "
                       f"({'the whole payment' if full else 'part of the payment'})",
             "refunds": [str(r.id) for r in outside]}, about=str(outside[0].id))
    # Each new refund is emailed on its own, oldest first (one look may bring several: the
    # events of earlier ones were late), except the one that refunded the rest (the last
    # recorded): the state machine's email of the move to `refunded` tells that one, ours
    # below or that of whoever moves the order first (a rejection's own refund included).
    # An order closed before this look was moved with the refunds recorded then, its email
    # telling the last of them: every refund new here (one made earlier, in the dashboard,
    # whose event comes after the admin's "Refund everything") gets its own.
    rest = await settlement.last_refund_id(order.id) if full and not closed_before else ""
    for refund_id in new:
        if refund_id != rest:
            await tell_partial_refund(redis, order, refund_id)
    if full and order.status not in CLOSED:
        try:
            await lifecycle.apply_action(ref, "refund", actor="stripe", redis=redis)
        except lifecycle.IllegalTransition as error:
            now = await lifecycle.get_order(ref)
            if now is not None and now.status in ("refunded", "voided", "charged_back"):
                # a rejection's own refund moved it meanwhile (Stripe's event raced it)
                log.info("full refund already applied to the order", order_id=ref,
                         status=now.status)
            else:
                log.warning("full refund not applied to the order", order_id=ref,
                            error=str(error))
        return Outcome("refunded", ref)
    if new and not full:
        return Outcome("partially_refunded", ref)
    return Outcome("refund_recorded" if new else "refund_known", ref)


async def tell_partial_refund(redis: ArqRedis, order: PaidOrder, refund_id: str = "") -> None:
    """A partial refund: the kitchen card and status page re-render; the customer is told
    about the Stripe refund `refund_id` (its email names it, so it describes that refund
    and what stays charged right after it, even when sent after a later one). Called once
    per refund, when it is first recorded: a redelivered event records nothing new."""
    rows = [outbox.kitchen_event(order.restaurant, order.public_id, "order.updated",
                                 tag=f"refund-{order.amount_refunded}")]
    await outbox.deliver_now(redis, rows)
    first = await _first_refund_email(order.public_id)
    await enqueue_email(redis, "order_refunded", order.public_id, resend=not first,
                        refund_id=refund_id)


async def _first_refund_email(order_ref: str) -> bool:
    from app.notifications.tables import EmailMessage

    return not await EmailMessage.exists().where(
        (EmailMessage.kind == "order_refunded") & (EmailMessage.order_ref == order_ref))


async def dispute_changed(redis: ArqRedis, order: PaidOrder, dispute_id: str) -> Outcome:
    """Bring the order to the dispute's real state (read from Stripe)."""
    ref = order.public_id
    dispute = await get_gateway().retrieve_dispute(dispute_id, order_ref=ref)
    status = str(dispute.status)
    extra = {PaidOrder.dispute_status: status}
    action = dispute_action(order.status, status)
    inquiry = status in INQUIRY_OPEN or status == "warning_closed"
    await record_discrepancy(
        "dispute", str(order.stripe_checkout_session_id), ref, int(order.restaurant),
        {"reason": f"the customer's bank {'asks about' if inquiry else 'disputes'} the "
                   f"payment ({dispute.reason}); respond in Stripe's dashboard",
         "dispute": dispute_id, "amount": dispute.amount, "status": status},
        about=dispute_id)
    if not action:
        await PaidOrder.update({PaidOrder.dispute_status: status}).where(
            PaidOrder.id == order.id)
        return Outcome(f"dispute_{status}", ref)
    try:
        await lifecycle.apply_action(ref, action, actor="stripe", redis=redis, extra=extra)
        if action == "dispute" and status == "lost":  # reordered: created arrives after
            await lifecycle.apply_action(ref, "dispute_lost", actor="stripe", redis=redis,
                                         extra=extra)
    except lifecycle.IllegalTransition as error:
        log.warning("dispute not applied to the order", order_id=ref, error=str(error))
    log.error("payment disputed", order_id=ref, dispute=dispute_id, status=status)
    return Outcome(f"dispute_{status}", ref)


def dispute_action(order_status: str, dispute_status: str) -> str:
    """Pure: the state machine's action that brings an order in `order_status` to a dispute
    in `dispute_status`, or "" when the order stays as it is. Whatever arrives first (a
    close before its open, a status Stripe adds later) ends in the dispute's real state:
    only a chargeback, open or lost, ever moves the order."""
    disputed = order_status == "disputed"
    if dispute_status in CHARGEBACK_OPEN:
        return "" if disputed else "dispute"
    if dispute_status in KEPT:
        return "dispute_won" if disputed else ""
    if dispute_status == "lost":
        return ("dispute_lost" if disputed else
                "dispute" if order_status != "charged_back" else "")
    return ""  # an inquiry, or a status this code does not know: recorded, nothing moved
