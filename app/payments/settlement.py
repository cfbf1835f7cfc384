"""Settlement: moving a paid order's money after payment (capture, void, refund), the one
home of those rules. The order's status is the state machine's (`app.orders.lifecycle`);
this module moves money and records refunds.

Rules (Stripe saves a request's first result under its idempotency key for 24 h, errors
included, so a retry with the same key can only repeat it):
- Every call uses a key derived from the order (`capture/<ref>`, `void/<ref>`,
  `refund/<ref>`, a partial refund `refund/<ref>/<nonce>`), so a retry never doubles money.
- After ANY failure the real state is read (the PaymentIntent, its charge, its refunds) and
  decides: the capture or void happened after all; the refund exists (its metadata names our
  key); or the state refuses for good.
- A refund that can never succeed (the charge was refunded outside Orderpass, or is
  disputed) stops: no more retries, a discrepancy for a human (which raises the alert).
- Capture and void cannot happen twice at Stripe, so when the state still allows them after
  a saved error, they are tried again once with a fresh key.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe

from app.infra.logging import get_logger
from app.orders.tables import OrderRefund, PaidOrder
from app.payments.reconciliation_fixes import record_discrepancy
from app.payments.stripe_gateway import (
    PaymentProviderError,
    StripeGateway,
    get_gateway,
    metadata_of,
)
from app.piccolo_conf import DB

log = get_logger("orderpass.settlement")
GATEWAY_TIMEOUT_S = 20.0  # above the gateway's own retry budget (12 s)
UNREACHABLE = "Stripe could not be reached"  # a failure's cause as the owner reads it


class SettlementFailed(Exception):
    """The money could not be moved now; `permanent` when retrying cannot help;
    `unreachable` when Stripe could not be reached (network, timeout, its 5xx or 429, after
    the gateway's retries) rather than answering a refusal: what the owner is told."""

    def __init__(self, message: str, *, permanent: bool = False,
                 unreachable: bool = False, outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable and not permanent
        # Stripe may have done it (its answer and the read-back both failed): a capture
        # whose answer was lost charged the card all the same.
        self.outcome_unknown = outcome_unknown


def could_not_reach(error: BaseException) -> bool:
    """Did this Stripe call fail for want of an answer (network, timeout, 5xx, 429) rather
    than with Stripe's refusal (4xx)?"""
    return isinstance(error, TimeoutError) or (
        isinstance(error, PaymentProviderError) and error.transient)


# A PaymentIntent's `cancellation_reason` when Stripe let its hold lapse (7 days): "expired"
# since API version 2025-03-31.basil, "automatic" before (a webhook endpoint on an older
# version still says so).
LAPSED = ("expired", "automatic")


class HoldLapsed(SettlementFailed):
    """A manual-capture hold Stripe canceled (it lapses 7 days after payment): the order can
    never be charged."""

    def __init__(self, cancellation_reason: str = "expired") -> None:
        what = ("expired" if cancellation_reason in LAPSED
                else "was released in Stripe")  # e.g. canceled in the dashboard
        super().__init__(f"the card hold {what}; this order cannot be charged", permanent=True)


class RefundBlocked(SettlementFailed):
    """A refund that can never succeed: retries stopped, discrepancy queued."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class RefundedAlready(SettlementFailed):
    """Nothing is left to refund because Orderpass's own refunds (another tab's, a manager's,
    the kitchen's rejection) gave all of it back a moment ago: no refund outside, no
    discrepancy; the one asking is told the order is refunded."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    amount: int
    new: bool  # recorded now (False: it was recorded already)
    fully_refunded: bool  # nothing of the payment is left


async def _timed(call: Any) -> Any:
    return await asyncio.wait_for(call, GATEWAY_TIMEOUT_S)


def _intent(order: PaidOrder) -> str:
    if not order.stripe_payment_intent_id:
        raise SettlementFailed("the order has no PaymentIntent", permanent=True)
    return str(order.stripe_payment_intent_id)


# -- capture and void ---------------------------------------------------------------------

async def capture(order: PaidOrder, gateway: StripeGateway | None = None) -> None:
    """Capture a manual-capture order's authorisation (on accept)."""
    gateway = gateway or get_gateway()
    ref, intent = order.public_id, _intent(order)
    key = f"capture/{ref}"
    for attempt in range(2):
        try:
            await _timed(gateway.capture_payment_intent(intent, idempotency_key=key,
                                                        order_ref=ref))
            log.info("payment captured", order_id=ref)
            return
        except (PaymentProviderError, TimeoutError) as error:
            failure = error
        try:
            state = await _read_intent(gateway, intent, ref)
        except SettlementFailed as unreadable:
            raise SettlementFailed(f"capturing the payment failed ({failure}); {unreadable}",
                                   unreachable=could_not_reach(failure),
                                   outcome_unknown=could_not_reach(failure)) from unreadable
        if state.status == "succeeded":
            log.info("capture failed but the payment is captured", order_id=ref)
            return
        if state.status == "requires_capture" and attempt == 0 \
                and not getattr(failure, "transient", True):
            key = f"capture/{ref}/{int(time.time())}"  # the old key repeats its saved error
            continue
        if state.status == "canceled":  # lapsed (or voided in the dashboard): for good
            log.warning("capture refused: the hold is canceled", order_id=ref,
                        reason=str(state.cancellation_reason or ""))
            raise HoldLapsed(str(state.cancellation_reason or "")) from failure
        permanent = state.status == "requires_payment_method"
        raise SettlementFailed(
            f"capturing the payment failed ({failure}); Stripe says the payment is "
            f"{state.status}", permanent=permanent)
    raise AssertionError("unreachable")  # pragma: no cover


async def give_back(order: PaidOrder, gateway: StripeGateway | None = None, *,
                    source: str = "kitchen", by: str = "") -> str:
    """Give an order's whole payment back: release an uncaptured authorisation ("voided")
    or refund what remains ("refunded", or "refunded_outside" when Stripe shows it refunded
    already by someone else: a discrepancy is queued)."""
    gateway = gateway or get_gateway()
    ref = order.public_id
    if order.capture_mode == "manual" and order.accepted_at is None:  # never captured
        return await _void(order, gateway)
    result = await refund(order, key=f"refund/{ref}", source=source, by=by,
                          reason=order.reject_reason, gateway=gateway)
    return "refunded" if result.refund_id else "refunded_outside"


async def _void(order: PaidOrder, gateway: StripeGateway) -> str:
    ref, intent = order.public_id, _intent(order)
    key = f"void/{ref}"
    for attempt in range(2):
        try:
            # A hold canceled already (lapsed, or released in the dashboard) is answered as
            # released too: that is the outcome a void asks for (`already_canceled`).
            released = await _timed(gateway.cancel_payment_intent(
                intent, idempotency_key=key, order_ref=ref))
            reason = str(getattr(released, "cancellation_reason", None) or "")
            if reason in LAPSED:
                log.info("authorisation released already: the card hold lapsed",
                         order_id=ref, reason=reason)
            else:
                log.info("authorisation released", order_id=ref)
            return "voided"
        except (PaymentProviderError, TimeoutError) as error:
            failure = error
        state = await _read_intent(gateway, intent, ref)
        if state.status == "canceled":
            return "voided"
        if state.status == "succeeded":  # captured after all (e.g. in the dashboard)
            await refund(order, key=f"refund/{ref}", source="kitchen",
                         reason=order.reject_reason, gateway=gateway)
            return "refunded"
        if attempt == 0 and not getattr(failure, "transient", True):
            key = f"void/{ref}/{int(time.time())}"
            continue
        raise SettlementFailed(f"releasing the hold failed ({failure}); Stripe says the "
                               f"payment is {state.status}",
                               unreachable=could_not_reach(failure))
    raise AssertionError("unreachable")  # pragma: no cover


async def _read_intent(gateway: StripeGateway, intent: str, ref: str) -> stripe.PaymentIntent:
    try:
        return await _timed(gateway.retrieve_payment_intent(intent, order_ref=ref))
    except (PaymentProviderError, TimeoutError) as error:
        raise SettlementFailed(f"Stripe cannot be read right now ({error})",
                               unreachable=could_not_reach(error)) from error


# -- refunds ------------------------------------------------------------------------------

async def refund(order: PaidOrder, *, key: str, source: str, amount: int | None = None,
                 reason: str = "", lines: list[dict[str, Any]] | None = None,
                 by: str = "", gateway: StripeGateway | None = None) -> RefundResult:
    """Refund `amount` (None: all that remains) with idempotency key `key`, and record it.
    Raises `SettlementFailed` (try again later) or `RefundBlocked` (never: discrepancy)."""
    gateway = gateway or get_gateway()
    ref, intent = order.public_id, _intent(order)
    try:
        made = await _timed(gateway.refund_payment_intent(intent, idempotency_key=key,
                                                          order_ref=ref, amount=amount))
        new = await record_refund(order, str(made.id), int(made.amount), source=source,
                                  reason=reason, lines=lines, by=by)
        log.info("payment refunded", order_id=ref, amount=made.amount, refund=made.id)
        return RefundResult(str(made.id), int(made.amount), new,
                            await _fully_refunded(order.id))
    except (PaymentProviderError, TimeoutError) as error:
        failure = error
    # Whatever the error says, the state decides.
    try:
        refunds = await _timed(gateway.list_refunds(intent, order_ref=ref))
        state = await _read_intent(gateway, intent, ref)
        charge = (await _timed(gateway.retrieve_charge(str(state.latest_charge), order_ref=ref))
                  if state.latest_charge else None)
    except (PaymentProviderError, TimeoutError) as error:
        raise SettlementFailed(f"refund failed ({failure}); Stripe cannot be read ({error})",
                               unreachable=could_not_reach(error)) from error
    recorded_now = await sync_refunds(order, refunds)
    ours = next((r for r in refunds if metadata_of(r).get("orderpass_key") == key), None)
    if ours is not None:
        # new only if this call recorded it: a form sent again with other items met Stripe's
        # "same key, other parameters" refusal for a refund recorded long before
        log.info("refund failed but exists in Stripe", order_id=ref, refund=ours.id)
        return RefundResult(str(ours.id), int(ours.amount), str(ours.id) in recorded_now,
                            await _fully_refunded(order.id))
    if charge is not None and charge.disputed:
        raise await _blocked(order, "refund_blocked_by_dispute",
                             "the payment is disputed by the customer's bank; Stripe refuses "
                             "refunds while the dispute is open", str(failure))
    if charge is not None and charge.amount_refunded >= charge.amount_captured > 0:
        made = [item for item in refunds if item.status not in ("failed", "canceled")]
        if made and all(metadata_of(item).get("orderpass_key") for item in made):
            # Our own refunds gave it all back meanwhile (two refunds asked for at once):
            # Stripe refused this one because the money is back already, which is no refund
            # outside Orderpass.
            log.info("refund not made: refunded in full by Orderpass already", order_id=ref,
                     refunded=charge.amount_refunded)
            if amount is None:
                return RefundResult(str(made[0].id), 0, False, True)
            raise RefundedAlready("nothing is left to refund: the order was refunded in full "
                                  "a moment ago")
        if amount is None:  # the whole payment is back with the customer already
            await _discrepancy(order, "refunded_outside",
                               f"refunded outside Orderpass before our refund "
                               f"({charge.amount_refunded} {charge.currency})", str(failure))
            return RefundResult("", 0, False, True)
        raise await _blocked(order, "refund_impossible", "nothing is left to refund: the "
                             "payment was refunded outside Orderpass", str(failure))
    if state.status != "succeeded":
        raise SettlementFailed(f"refund failed ({failure}); the payment is {state.status}",
                               permanent=state.status == "canceled")
    remaining = (charge.amount_captured - charge.amount_refunded) if charge else 0
    if amount is not None and amount > remaining:
        raise SettlementFailed(f"only {remaining} of the payment is left to refund",
                               permanent=True)
    raise SettlementFailed(f"refund failed ({failure}); try again",
                           unreachable=could_not_reach(failure))


async def _blocked(order: PaidOrder, kind: str, reason: str, error: str) -> RefundBlocked:
    """Stop retrying this order's refund for good and queue it for a human."""
    now = datetime.now(UTC)
    await PaidOrder.update({
        PaidOrder.settlement_stopped_at: now, PaidOrder.needs_review: True,
        PaidOrder.review_reason: f"refund stopped: {reason}"[:500], PaidOrder.updated_at: now,
    }).where(PaidOrder.id == order.id)
    await _discrepancy(order, kind, reason, error)
    log.error("refund can never succeed; retries stopped", order_id=order.public_id,
              kind=kind, reason=reason)
    return RefundBlocked(reason)


async def _discrepancy(order: PaidOrder, kind: str, reason: str, error: str = "") -> None:
    await record_discrepancy(kind, str(order.stripe_checkout_session_id), order.public_id,
                             int(order.restaurant), {"reason": reason, "stripe_error": error[:300],
                                                     "payment_intent":
                                                         order.stripe_payment_intent_id})


# -- the record of refunds ----------------------------------------------------------------

# A ticket the kitchen has in hand, not made yet: a refund of some of its items is told to
# every screen as a notice until acknowledged (`order_refund.kitchen_notice`), not only
# redrawn on the ticket, which a cook mid-service did not see.
IN_HAND_STATUSES = ("accepted", "preparing")


async def record_refund(order: PaidOrder, refund_id: str, amount: int, *, source: str,
                        reason: str = "", lines: list[dict[str, Any]] | None = None,
                        by: str = "") -> bool:
    """Record one Stripe refund of the order and its running total, once (unique refund id).
    True if it was new."""
    async with DB.transaction() as transaction:
        connection = transaction.connection
        # One recording per order at a time: each statement below sees what committed before
        # it began, so two refunds recorded together each summed only their own, and the
        # later commit left the total at its refund alone. With the order's row locked
        # first, the second waits and then sums both.
        status = await connection.fetchval(
            "SELECT status FROM paid_order WHERE id = $1 FOR UPDATE", order.id)
        # Items taken off a ticket the kitchen is making: every screen is told (a notice
        # until acknowledged), as of the order's state under the lock.
        notice = bool(lines) and status in IN_HAND_STATUSES
        inserted = await connection.fetchval(
            "INSERT INTO order_refund (paid_order, stripe_refund_id, amount, source, reason, "
            "lines, created_by, created_at, kitchen_notice) "
            "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, now(), $8) "
            "ON CONFLICT (stripe_refund_id) DO NOTHING RETURNING id",
            order.id, refund_id, amount, source, reason[:300], json.dumps(lines or []), by[:254],
            notice)
        if inserted is not None:
            await connection.execute(_RESUM, order.id)
    return inserted is not None


# The order's running total of refunds, summed again from its rows (the row lock held).
_RESUM = ("UPDATE paid_order SET amount_refunded = (SELECT coalesce(sum(amount), 0) "
          "FROM order_refund WHERE paid_order = $1), updated_at = now() WHERE id = $1")


async def forget_refund(order: PaidOrder, refund_id: str) -> int:
    """A refund the customer's bank returned (Stripe: `failed`) is no refund: its row goes and
    the running total falls, so every money figure (the owner's refunds, what is left to
    refund, the amount on the kitchen card) counts only money that went back. Its dishes
    are kept in `returned_lines`: the kitchen was told not to make them, and goes on not
    making them. Returns its amount, or 0 when it was not recorded (or forgotten before)."""
    async with DB.transaction() as transaction:
        connection = transaction.connection
        await connection.execute("SELECT 1 FROM paid_order WHERE id = $1 FOR UPDATE", order.id)
        gone = await connection.fetchrow(
            "DELETE FROM order_refund WHERE paid_order = $1 AND stripe_refund_id = $2 "
            "RETURNING amount, lines", order.id, refund_id)
        if gone is not None:
            await connection.execute(_RESUM, order.id)
            await connection.execute(
                "UPDATE paid_order SET amount_returned = amount_returned + $2, returned_lines "
                "= CASE WHEN jsonb_array_length($3::jsonb) > 0 "
                "THEN returned_lines || jsonb_build_array($3::jsonb) ELSE returned_lines END "
                "WHERE id = $1", order.id, gone["amount"], gone["lines"])
    return int(gone["amount"]) if gone is not None else 0


async def sync_refunds(order: PaidOrder, refunds: list[stripe.Refund]) -> list[str]:
    """Record every succeeded or pending refund Stripe has for the order that we do not
    (made in the dashboard, or by a request whose answer was lost). Returns the new ids,
    oldest first."""
    new: list[str] = []
    # Oldest first (Stripe lists newest first): the record's order is the refunds' own, which
    # each refund's email reads as "before it" and the last of which is the one that refunded
    # the rest. Ties in `created` (seconds) keep Stripe's order, reversed.
    for item in sorted(reversed(refunds), key=lambda refund: int(refund.created or 0)):
        if item.status in ("failed", "canceled"):
            continue
        ours = metadata_of(item).get("orderpass_key", "")
        if await record_refund(order, str(item.id), int(item.amount),
                               source="stripe" if not ours else "kitchen",
                               reason=str(item.reason or "")):
            new.append(str(item.id))
    return new


async def _fully_refunded(order_id: int) -> bool:
    row = await PaidOrder.select(PaidOrder.amount_refunded, PaidOrder.amount_charged).where(
        PaidOrder.id == order_id).first()
    if row is None:
        return False
    return bool(row["amount_refunded"] >= row["amount_charged"])


async def last_refund_id(order_id: int) -> str:
    row = await OrderRefund.select(OrderRefund.stripe_refund_id).where(
        OrderRefund.paid_order == order_id).order_by(OrderRefund.id, ascending=False).first()
    return str(row["stripe_refund_id"]) if row else ""


async def refunds_of(order_id: int) -> list[dict[str, Any]]:
    rows = await OrderRefund.select().where(OrderRefund.paid_order == order_id).order_by(
        OrderRefund.id)
    return list(rows)
