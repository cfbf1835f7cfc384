"""Refunds an admin asks for from the order's page: some of its items, or the whole order.

Items: the amount is the chosen items' price as the diner paid it, VAT included (never more
than what remains of the payment, never a unit refunded before). A line's gross is shared out
per unit so that refunding all its units, in any steps, gives back exactly its gross; the tip
is no item, so a refund of some items never gives it back. A refund of every unit still left
(nothing would remain to make) is the whole refund instead: one Stripe refund of everything
still charged, the tip included, recorded with the items' lines, and the order closes as
"Refund everything" closes it (`refunded`, state machine). Made through settlement with a key
from the form (a double submit makes one refund), recorded with its lines, shown on the order
and emailed to the customer.

The whole order: `settlement.give_back` (an uncaptured hold is released instead, with the
kitchen's keys `void/<ref>` and `refund/<ref>`, so never twice whoever asks), then the state
machine moves the order to `voided` or `refunded`.

A refund Stripe could not be reached for is neither confirmed nor retried: the owner is told
so and tries again (the same key: never twice; one Stripe made after all is recorded from its
webhook, or before the next try); one Stripe refused says "Stripe refused". A
rejected order's refund is the kitchen's, pending until made (`pending_give_back`: the cron
retries it), so the page offers no second one.

Either way, refunds Stripe has that we have not recorded yet (made in its dashboard, their
`charge.refunded` not handled yet) are recorded and told first, as their event would, so the
admin's refund follows them in the record as at Stripe."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from arq.connections import ArqRedis
from redis.exceptions import LockError

from app.infra.form_input import ascii_int
from app.infra.logging import get_logger
from app.orders import lifecycle
from app.orders.tables import OrderItem, OrderRefund, PaidOrder
from app.payments import money_events, settlement
from app.payments.dispute_status import CHARGEBACK_OPEN
from app.payments.stripe_gateway import PaymentProviderError
from app.templating import format_money

log = get_logger("orderpass.payments.partial_refunds")
NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
REFUNDABLE = ("paid", "accepted", "preparing", "ready", "completed")


REASON_MAX = 300  # the refund's reason as stored and shown (the form's maxlength too)


def reason_problem(reason: str) -> str:
    """What is wrong with a refund's reason as typed ("" when nothing): a longer one is
    refused, never cut and refunded anyway."""
    length = len(reason.strip())
    if length > REASON_MAX:
        return (f"the reason is at most {REASON_MAX} characters ({length} given); nothing "
                "was refunded")
    return ""


class RefundRefused(Exception):
    """Bad input or state (HTTP 4xx, `status_code`), or Stripe refused or could not be
    reached (502): nothing was refunded now. `unreachable`: no answer came from Stripe, so
    the same request (the same key) may be tried again and refunds at most once."""

    def __init__(self, message: str, status_code: int = 400, *,
                 unreachable: bool = False) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.unreachable = unreachable


REFUND_LOCK_S = 60.0  # longer than one refund's Stripe calls, their retries included
REFUND_WAIT_S = 30.0  # a second refund of the order waits this long for the first


@contextlib.asynccontextmanager
async def one_refund_at_a_time(redis: ArqRedis, order_ref: str) -> AsyncIterator[None]:
    """One refund of an order at a time, across processes (two tabs, an owner and a
    manager): the second waits for the first, then reads what it left (the rest, or
    nothing: "refunded in full already"). Stripe never refunds more than was paid either
    way; this keeps each owner told what their own press did."""
    lock = redis.lock(f"orderpass:refunding:{order_ref}", timeout=REFUND_LOCK_S,
                      blocking_timeout=REFUND_WAIT_S)
    if not await lock.acquire():
        raise RefundRefused("Another refund of this order is still being made: reload the "
                            "page in a minute to see what it refunded.", 409)
    try:
        yield
    finally:
        with contextlib.suppress(LockError):  # held past its timeout: released already
            await lock.release()


def refunded_already(order: PaidOrder) -> RefundRefused:
    """The answer to a refund asked for after the order was refunded in full (often by
    another refund made at the same moment)."""
    return RefundRefused(f"Order #{order.ticket_number} is refunded in full already: nothing "
                         "more was refunded.", 409)


def _not_refundable(order: PaidOrder) -> RefundRefused:
    if order.status == "refunded":
        return refunded_already(order)
    return RefundRefused(f"Order #{order.ticket_number} is {order.status.replace('_', ' ')}: "
                         "nothing to refund here.", 409)


@dataclass(frozen=True)
class PendingGiveBack:
    """A rejected order's money on its way back: a rejection moves the order on (`refunded`,
    `voided`) only once Stripe has made the refund (or released the hold), so while it stays
    `rejected` the whole of what is left is pending. The kitchen cron retries it
    (`lifecycle.retry_failed_refunds`) unless a refund that can never succeed stopped it
    (`settlement_stopped_at`: a person settles it)."""

    amount: int  # what is still charged (or held), all of it on its way back
    release: bool  # an uncaptured card hold to release, not a charge to refund
    retried: bool  # retried automatically; False: stopped, for a person
    unreachable: bool  # the last try could not reach Stripe
    problem: str  # the last try's failure as recorded ("" while the first try is under way)


_STOPPED = "refund stopped: "


def pending_give_back(order: PaidOrder) -> PendingGiveBack | None:
    """Pure: the money of `order` on its way back, None when none is (not rejected)."""
    if order.status != "rejected" or not order.stripe_payment_intent_id:
        return None
    reason = order.review_reason or ""
    unreachable = reason.startswith(lifecycle.REFUND_FAILED + settlement.UNREACHABLE)
    problem = ""
    if reason.startswith(_STOPPED):
        problem = reason[len(_STOPPED):]
    elif reason.startswith(lifecycle.REFUND_FAILED):
        problem = reason[len(lifecycle.REFUND_FAILED):]
        if unreachable:
            problem = problem[len(settlement.UNREACHABLE):].lstrip(": ")
    return PendingGiveBack(
        amount=max(0, order.amount_charged - order.amount_refunded),
        release=order.capture_mode == "manual" and order.accepted_at is None,
        retried=order.settlement_stopped_at is None, unreachable=unreachable,
        problem=problem)


def _what(amount: int, currency: str, *, release: bool) -> str:
    money = format_money(amount, currency)
    return f"the release of the {money} card hold" if release else f"the refund of {money}"


def still_pending(order: PaidOrder) -> RefundRefused:
    """What the owner is told when their "Refund everything" of a rejected order could not
    settle it either: the truth about the pending refund, which the cron still retries (or,
    stopped, a person settles)."""
    pending = pending_give_back(order)
    if pending is None:  # pragma: no cover - only called for a rejected order
        return RefundRefused(f"order #{order.ticket_number} is {order.status}", 409)
    what = _what(pending.amount, order.currency, release=pending.release)
    if not pending.retried:
        return RefundRefused(f"Stripe refused the refund: {pending.problem}. It is not "
                             "retried automatically: settle it in the Stripe dashboard.", 409)
    if pending.unreachable:
        return RefundRefused(f"{settlement.UNREACHABLE}: {what} is still pending and is "
                             "retried automatically; there is nothing more to do.", 502,
                             unreachable=True)
    return RefundRefused(f"Stripe did not make the refund ({pending.problem}): {what} is "
                         "still pending and is retried automatically.", 502)


def not_made(error: settlement.SettlementFailed, order: PaidOrder, *, amount: int | None = None,
             release: bool = False) -> RefundRefused:
    """What the owner is told when their refund (of `amount`; None: all that is left) failed:
    Stripe could not be reached (nothing is retried: they try again, which never refunds
    twice: the same key), or Stripe refused it."""
    if isinstance(error, settlement.RefundedAlready):  # another refund got there first
        return refunded_already(order)
    if error.unreachable:
        left = order.amount_charged - order.amount_refunded
        what = _what(left if amount is None else amount, order.currency, release=release)
        return RefundRefused(f"{settlement.UNREACHABLE}, so {what} is not confirmed and is "
                             "not retried automatically: try again in a few minutes (trying "
                             "again never refunds twice).", 502, unreachable=True)
    refused = "releasing the hold" if release else "the refund"
    return RefundRefused(f"Stripe refused {refused}: {error}",
                         409 if error.permanent else 502)


@dataclass(frozen=True)
class RefundPlan:
    amount: int
    lines: list[dict[str, object]]
    everything: bool = False  # no unit is left to make: the whole refund (tip included)


def _share(amount: int, units: int, quantity: int) -> int:
    """The part of a line's `amount` that its first `units` of `quantity` carry (floored; the
    last unit takes what is left, so the parts of all units add up to `amount`)."""
    return amount * units // quantity if quantity else 0


def _money_of(item: OrderItem) -> tuple[int, int]:
    """(gross, tax) of an order line; a line stored before VAT is untaxed."""
    if item.net_amount or item.tax_amount or item.gross_amount:
        return item.gross_amount, item.tax_amount
    return item.unit_amount * item.quantity, 0


async def refunded_units(order_id: int) -> dict[int, int]:
    """How many units of each line (by OrderItem id) earlier refunds of items gave back."""
    rows = await OrderRefund.select(OrderRefund.lines).where(
        OrderRefund.paid_order == order_id)
    done: dict[int, int] = {}
    for row in rows:
        lines = row["lines"] if isinstance(row["lines"], list) else json.loads(
            row["lines"] or "[]")
        for line in lines:
            if isinstance(line, dict) and isinstance(line.get("item"), int):
                done[line["item"]] = done.get(line["item"], 0) + int(line.get("quantity", 0))
    return done


async def plan(order: PaidOrder, form: Mapping[str, str]) -> RefundPlan:
    """The items chosen in the form (`qty_<item id>` = how many of that line). Choosing every
    unit still left makes it the whole refund: everything still charged, the tip included."""
    items = await OrderItem.objects().where(OrderItem.paid_order == order.id).order_by(
        OrderItem.id)
    done = await refunded_units(order.id)
    lines: list[dict[str, object]] = []
    errors: list[str] = []
    units_kept = 0  # units nobody chose that are not refunded yet
    for item in items:
        # ASCII digits only: "²" passed isdigit() and failed int() (a 500)
        parsed = ascii_int(form.get(f"qty_{item.id}", "").strip() or "0")
        if parsed is None:
            errors.append(f"{item.name}: enter a whole number, 0 or more")
            continue
        quantity = parsed
        before = done.get(item.id, 0)
        left = max(0, item.quantity - before)
        units_kept += max(0, left - quantity)
        if quantity > left:  # what is left, not what was ordered: some may be back already
            if not left:
                errors.append(f"{item.name}: refunded already")
            else:
                errors.append(f"{item.name}: at most {left} left to refund" if before
                              else f"{item.name}: at most {item.quantity}")
        elif quantity:
            gross, tax = _money_of(item)
            amount = (_share(gross, before + quantity, item.quantity)
                      - _share(gross, before, item.quantity))
            vat = _share(tax, before + quantity, item.quantity) - _share(tax, before,
                                                                         item.quantity)
            lines.append({"item": item.id, "name": item.name, "quantity": quantity,
                          "amount": amount, "tax": vat, "tax_rate": item.tax_rate})
    if errors:
        raise RefundRefused("; ".join(errors))
    amount = sum(int(str(line["amount"])) for line in lines)
    if amount <= 0:
        raise RefundRefused("choose at least one item to refund")
    remaining = order.amount_charged - order.amount_refunded
    if not units_kept and remaining > 0:  # nothing left to make: everything still charged
        return RefundPlan(remaining, lines, everything=True)
    if amount > remaining:
        raise RefundRefused(f"{amount} is more than the {remaining} left of the payment", 409)
    return RefundPlan(amount, lines)


async def refund_items(redis: ArqRedis, order_ref: str, form: Mapping[str, str], *,
                       by: str) -> settlement.RefundResult:
    async with one_refund_at_a_time(redis, order_ref):
        return await _refund_items(redis, order_ref, form, by=by)


async def _refund_items(redis: ArqRedis, order_ref: str, form: Mapping[str, str], *,
                        by: str) -> settlement.RefundResult:
    order = await lifecycle.get_order(order_ref)
    if order is None:
        raise RefundRefused(f"no order {order_ref}", 404)
    if order.status not in REFUNDABLE:
        raise _not_refundable(order)
    if order.capture_mode == "manual" and order.accepted_at is None:
        raise RefundRefused("the payment is only authorised (not captured): reject the order "
                            "to release the hold", 409)
    nonce = form.get("nonce", "")
    if not NONCE.match(nonce):
        raise RefundRefused("the form is missing its refund key; reload the page")
    order = await _with_stripes_refunds(redis, order)
    if order.status not in REFUNDABLE:
        raise _not_refundable(order)
    chosen = await plan(order, form)
    try:
        result = await settlement.refund(
            order, key=f"refund/{order_ref}/{nonce}", source="admin", amount=chosen.amount,
            reason=form.get("reason", "").strip()[:REASON_MAX], lines=chosen.lines, by=by)
    except settlement.SettlementFailed as error:
        raise not_made(error, order, amount=chosen.amount) from error
    log.info("admin refund of items", order_id=order_ref, amount=chosen.amount, by=by,
             refund=result.refund_id, new=result.new, everything=chosen.everything)
    if not result.new:  # this form's key made a refund before: a double tap, or Back and again
        raise RefundRefused(
            f"Nothing more was refunded: this form was sent already, and its refund of "
            f"{format_money(result.amount, order.currency)} was made then. The order below is "
            f"as it is now; to refund more, choose the items again.", 409)
    refreshed = await lifecycle.get_order(order_ref) or order
    if result.fully_refunded:
        with contextlib.suppress(lifecycle.IllegalTransition):  # Stripe's webhook came first
            await lifecycle.apply_action(order_ref, "refund", actor=by, redis=redis)
    else:
        await money_events.tell_partial_refund(redis, refreshed, result.refund_id)
    return result


async def _with_stripes_refunds(redis: ArqRedis, order: PaidOrder) -> PaidOrder:
    """The order with the refunds Stripe has for it recorded, before the admin's own: one
    made in Stripe's dashboard whose `charge.refunded` is not handled yet is recorded and
    told now (`money_events.refunds_changed`, as its event would), so the admin's refund
    comes after it in the record, as at Stripe: its email says "the remaining" amount, and
    what is left to refund is known. Stripe unreadable now: the admin's refund goes ahead,
    and the event records and tells the dashboard's later."""
    try:
        await money_events.refunds_changed(redis, order)
    except (PaymentProviderError, TimeoutError) as error:
        log.warning("refunds in Stripe not read before the admin's refund",
                    order_id=order.public_id, error=str(error)[:200])
        return order
    return await lifecycle.get_order(order.public_id) or order


async def refund_whole(redis: ArqRedis, order_ref: str, *, by: str, reason: str = "",
                       reject_reason: str = "") -> str:
    """Give back everything that remains of the order's payment; returns "refunded" or
    "voided". A rejected order whose refund is still pending is settled the kitchen's way.

    `reject_reason`: the live order is rejected for it though no kitchen button can any more
    (a ready one inside a new closure, app/manage/hours.py): it is recorded on the order
    before the money moves, so whoever moves the order on (this, or Stripe's webhook) tells
    it as a rejection (`lifecycle.closing_live`): the diner's email and status page give the
    reason, and the kitchen's notice says why it went. Nothing refunded: recorded no more."""
    async with one_refund_at_a_time(redis, order_ref):
        return await _refund_whole(redis, order_ref, by=by, reason=reason,
                                   reject_reason=reject_reason)


async def _refund_whole(redis: ArqRedis, order_ref: str, *, by: str, reason: str,
                        reject_reason: str) -> str:
    order = await lifecycle.get_order(order_ref)
    if order is None:
        raise RefundRefused(f"no live order {order_ref} (archived orders are refunded in the "
                            "Stripe dashboard)", 404)
    if order.status in ("refunded", "voided", "charged_back"):
        raise _not_refundable(order)
    if order.dispute_status in CHARGEBACK_OPEN:  # Stripe would refuse it (charge_disputed)
        raise RefundRefused(f"order #{order.ticket_number} has a chargeback open: Stripe "
                            "refuses refunds until the bank decides; answer it in Stripe's "
                            "dashboard", 409)
    if not order.stripe_payment_intent_id:
        raise RefundRefused(f"order #{order.ticket_number} has no payment to refund", 409)
    if order.status == "rejected":
        settled = await lifecycle.settle_rejection(order, redis=redis)
        if settled.status not in ("refunded", "voided"):
            raise still_pending(settled)
        return settled.status
    if not (order.capture_mode == "manual" and order.accepted_at is None):  # captured
        order = await _with_stripes_refunds(redis, order)
        if order.status in money_events.CLOSED:  # the dashboard refunded all of it already
            log.info("admin's whole refund: refunded in Stripe already", order_id=order_ref,
                     by=by, status=order.status)
            return "refunded"
    if reject_reason:
        order = await _rejecting(order, reject_reason)
    try:
        outcome = await settlement.give_back(order, source="admin", by=by)
    except settlement.SettlementFailed as error:
        if reject_reason:  # still live, and not rejected: no reason to show
            await PaidOrder.update({PaidOrder.reject_reason: ""}).where(
                (PaidOrder.id == order.id)
                & PaidOrder.status.is_in(list(lifecycle.ACTIVE_STATUSES)))
        raise not_made(error, order, release=order.capture_mode == "manual"
                       and order.accepted_at is None) from error
    target = "voided" if outcome == "voided" else "refunded"
    with contextlib.suppress(lifecycle.IllegalTransition):  # Stripe's webhook came first
        await lifecycle.apply_action(order_ref, "void" if target == "voided" else "refund",
                                     actor=by, redis=redis)
    log.info("admin refunded the whole order", order_id=order_ref, by=by, outcome=outcome,
             reason=reason[:300], from_status=order.status)
    return target


async def _rejecting(order: PaidOrder, reason: str) -> PaidOrder:
    """The live order with `reason` recorded as its reject reason (a new version, so a
    screen acting on the one it read re-reads it); refused once it is no longer live."""
    for _attempt in range(lifecycle.VERSION_RETRIES):
        if order.status not in lifecycle.ACTIVE_STATUSES:
            raise RefundRefused(f"order #{order.ticket_number} is {order.status} now", 409)
        won = await PaidOrder.update({
            PaidOrder.reject_reason: reason.strip()[:lifecycle.REJECT_REASON_MAX],
            PaidOrder.version: order.version + 1,
            PaidOrder.updated_at: datetime.now(UTC),
        }).where((PaidOrder.id == order.id) & (PaidOrder.version == order.version)
                 ).returning(PaidOrder.id)
        fresh = await lifecycle.get_order(order.public_id)
        if fresh is None:
            raise RefundRefused(f"no live order {order.public_id}", 404)
        if won:
            return fresh
        order = fresh
    raise RefundRefused(f"order #{order.ticket_number} keeps changing; try again", 409)
