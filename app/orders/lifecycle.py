"""The paid order's state machine: a pure transition table plus the service that applies an
action in one transaction (optimistic locking on `paid_order.version`) together with its
outbox rows (kitchen event, customer email), then, after commit, delivers those rows at once
(the worker's outbox relay re-delivers anything missed) and settles money (capture, refund or
void).

    paid ──accept──▶ accepted ──start──▶ preparing ──ready──▶ ready ──complete──▶ completed
      │                 │ ready────────────────────▲                      ▲           │
      └──reject / auto_reject──▶ rejected ──refund──▶ refunded          recall (10 min)
                                          └──void───▶ voided (hold released, never charged)

Money moves too (`MONEY_MOVES`, made by the system, never a kitchen button): a full refund
(admin, or made in Stripe) from any paid status → refunded; a dispute from any paid status →
disputed, then won (back to where it was; `status_after_won_dispute`) or lost →
charged_back. Only a chargeback moves the order: an inquiry takes no money
(`app.payments.money_events`). This module is the only
writer of `paid_order.status`; `app.payments.settlement` moves the money.

Two screens acting at once: both read version N, one UPDATE … WHERE version = N wins, the
other re-reads and is refused by the table (e.g. "already accepted") with `IllegalTransition`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.notifications.tables import EmailMessage
from app.orders import reject_reasons
from app.orders.tables import PaidOrder
from app.payments import settlement
from app.piccolo_conf import DB
from app.platform import outbox
from app.platform.outbox import OutboxRow
from app.restaurants.tables import Restaurant

log = get_logger("orderpass.lifecycle")

# status → {action → next status}. Anything not listed is refused.
ALLOWED: Mapping[str, Mapping[str, str]] = {
    "paid": {"accept": "accepted", "reject": "rejected", "auto_reject": "rejected"},
    "accepted": {"start": "preparing", "ready": "ready", "reject": "rejected"},
    "preparing": {"ready": "ready", "reject": "rejected"},
    "ready": {"complete": "completed"},
    "completed": {"recall": "ready"},
    "rejected": {"refund": "refunded"},
}
# Moves money makes (refunds, voids, disputes); merged with ALLOWED by `next_status`.
BEFORE_DISPUTE = "<status before the dispute>"
_PAID = ("paid", "accepted", "preparing", "ready", "completed")
MONEY_MOVES: Mapping[str, Mapping[str, str]] = {
    **{status: {"refund": "refunded", "dispute": "disputed"} for status in _PAID},
    "paid": {"refund": "refunded", "void": "voided", "dispute": "disputed"},
    "rejected": {"refund": "refunded", "void": "voided", "dispute": "disputed"},
    "refunded": {"dispute": "disputed"},
    "disputed": {"dispute_won": BEFORE_DISPUTE, "dispute_lost": "charged_back",
                 "refund": "refunded"},
}
STAFF_ACTIONS = ("accept", "start", "ready", "complete", "reject", "recall")
ACTIVE_STATUSES = ("paid", "accepted", "preparing", "ready")
RECALL_WINDOW = timedelta(minutes=10)
PREP_MINUTES_RANGE = (1, 240)
# A reject reason is quoted to the diner (status page, email): the kitchen screen's dialog
# and its route refuse a longer one (app/kitchen/controller.py), the rest cut it here.
REJECT_REASON_MAX = 300
GATEWAY_TIMEOUT_S = 20.0  # above the gateway's own retry budget (12 s)
REFUND_FAILED = "refund failed: "
# The reject reason (quoted to the diner) when a manual-capture hold lapsed before the accept.
HOLD_LAPSED_REASON = reject_reasons.HOLD_LAPSED
VERSION_RETRIES = 3

# Timestamp column set by the action (on top of status and version).
_STAMPS = {
    "accept": "accepted_at", "start": "preparing_at", "ready": "ready_at",
    "complete": "completed_at", "reject": "rejected_at", "auto_reject": "rejected_at",
    "refund": "refunded_at", "void": "voided_at", "dispute": "disputed_at",
}


class IllegalTransition(Exception):
    """The action is not allowed from the order's current status (HTTP 409)."""


class OrderNotFound(LookupError):
    """No such order (or not one of the caller's restaurant's) (HTTP 404)."""


class ActionFailed(Exception):
    """The action was allowed but a payment call it needs failed; nothing changed (HTTP 502)."""


class HoldExpired(ActionFailed):
    """An accept found the card hold lapsed: the order was rejected and its hold written off
    (`lapse_hold`); the message is for the cook."""


class InvalidAction(ValueError):
    """Bad input for the action, e.g. a prep time out of range (HTTP 400)."""


def known_action(action: str) -> bool:
    return any(action in moves for moves in (*ALLOWED.values(), *MONEY_MOVES.values()))


def next_status(status: str, action: str) -> str:
    """Pure: the status `action` leads to from `status`, or `IllegalTransition`."""
    target = ALLOWED.get(status, {}).get(action) or MONEY_MOVES.get(status, {}).get(action)
    if target is None:
        if known_action(action):
            raise IllegalTransition(f"cannot {action.replace('_', '-')} an order that is {status}")
        raise IllegalTransition(f"unknown action {action!r}")
    return target


def check_recall(completed_at: datetime | None, now: datetime) -> None:
    if completed_at is None or now - completed_at > RECALL_WINDOW:
        minutes = int(RECALL_WINDOW.total_seconds() // 60)
        raise IllegalTransition(f"only a ticket completed in the last {minutes} minutes "
                                "can be recalled")


def changes_for(order: PaidOrder, action: str, target: str, now: datetime, *,
                prep_minutes: int | None, reason: str) -> dict[Any, Any]:
    """Pure: the column updates for `action` (status, version, timestamps, details)."""
    changes: dict[Any, Any] = {
        PaidOrder.status: target, PaidOrder.version: order.version + 1,
        PaidOrder.updated_at: now,
    }
    stamp = _STAMPS.get(action)
    if stamp is not None:
        changes[getattr(PaidOrder, stamp)] = now
    if action == "accept":
        assert prep_minutes is not None
        changes[PaidOrder.prep_minutes] = prep_minutes
        promised = now + timedelta(minutes=prep_minutes)
        # A scheduled order is promised for its slot (or later, when accepted too late).
        scheduled = getattr(order, "scheduled_for", None)
        changes[PaidOrder.promised_at] = max(promised, scheduled) if scheduled else promised
    elif action in ("reject", "auto_reject"):
        changes[PaidOrder.reject_reason] = reason[:REJECT_REASON_MAX]
        # The kitchen never chose this one: its screens show a notice until acknowledged.
        changes[PaidOrder.auto_rejected] = action == "auto_reject"
    elif action == "recall":
        changes[PaidOrder.completed_at] = None
    elif action in ("refund", "void"):
        if closing_live(order):  # a closure's rejection of an order past rejecting
            changes[PaidOrder.rejected_at] = now
        if order.review_reason.startswith(REFUND_FAILED):
            changes[PaidOrder.needs_review] = False
            changes[PaidOrder.review_reason] = ""
        # A ticket on the board leaves it: its screens say why until acknowledged, so
        # nobody keeps cooking an order the diner no longer pays for.
        if on_the_board(order):
            changes[PaidOrder.refund_notice] = True
    elif action == "dispute":
        changes[PaidOrder.status_before_dispute] = order.status
        # A chargeback takes the money from the restaurant at once: a ticket on the board
        # leaves it the way a refund's does, with a notice on every screen.
        if on_the_board(order):
            changes[PaidOrder.refund_notice] = True
    return changes


def released(order: PaidOrder) -> bool:
    """Pure: not a booking still waiting for its release to the board (slot minus prep)."""
    return getattr(order, "scheduled_for", None) is None or getattr(
        order, "released_at", None) is not None


def on_the_board(order: PaidOrder) -> bool:
    """Pure: the order is a ticket on the kitchen's board (active, and not a booking still
    waiting for its slot)."""
    return order.status in ACTIVE_STATUSES and released(order)


def status_after_won_dispute(order: PaidOrder) -> str:
    """Pure: where a won dispute leaves `order` (disputed): where it was, except a ticket the
    chargeback took off the board. Its screens were told to stop preparing it, and a dispute
    is decided weeks later: it does not come back as a ticket to cook, nor as a "paid" order
    the timer would reject, refunding the money the restaurant just won back. It ends
    completed: nothing is left to cook or to give back."""
    before = order.status_before_dispute or "completed"
    if before in ACTIVE_STATUSES and order.refund_notice and order.disputed_at is not None:
        return "completed"
    return before


def closing_live(order: PaidOrder) -> bool:
    """Pure: a live order (one no kitchen button can reject any more, e.g. ready) given a
    reject reason before its money goes back in full (a closure's: app/manage/hours.py,
    through `partial_refunds.refund_whole`). Its refund is its rejection: stamped
    `rejected_at`, and told to the diner as a rejection with that reason."""
    return order.status in ACTIVE_STATUSES and bool(getattr(order, "reject_reason", ""))


# -- the service ----------------------------------------------------------------------------

async def get_order(order_ref: str) -> PaidOrder | None:
    return await PaidOrder.objects().get(PaidOrder.public_id == order_ref)


async def apply_action(order_ref: str, action: str, *, actor: str,
                       prep_minutes: int | None = None, reason: str = "",
                       restaurant_id: int | None = None, expected_status: str | None = None,
                       redis: ArqRedis | None = None,
                       extra: dict[Any, Any] | None = None) -> PaidOrder:
    """Apply `action` to the paid order `order_ref` and return the order as committed.

    `restaurant_id`, when given, refuses orders of any other restaurant (as not found).
    `expected_status`, when given, is the status the person acting saw: if the order has
    moved on since (another screen acted), the action is refused rather than applied to a
    state they never saw (e.g. a reject landing on an order just accepted elsewhere).
    Raises `OrderNotFound`, `IllegalTransition`, `InvalidAction` or `ActionFailed`. A reject
    also refunds (or voids an uncaptured authorisation); the order ends `refunded`, or stays
    `rejected` with `needs_review` set when Stripe fails (retried by the kitchen cron job).
    """
    for _attempt in range(VERSION_RETRIES):
        order = await get_order(order_ref)
        if order is None or (restaurant_id is not None and order.restaurant != restaurant_id):
            raise OrderNotFound(f"no order {order_ref}")
        if expected_status and order.status != expected_status:
            raise IllegalTransition(f"the order is already {order.status} (changed on "
                                    "another screen); nothing was done")
        now = datetime.now(UTC)
        try:
            target = next_status(order.status, action)
        except IllegalTransition:
            if known_action(action):  # e.g. a twin press of Reject, or another screen's
                raise IllegalTransition(
                    f"cannot {action.replace('_', '-')} order #{order.ticket_number}: it is "
                    f"{order.status} now; nothing was done") from None
            raise
        if target == BEFORE_DISPUTE:
            target = status_after_won_dispute(order)
        if action == "recall":
            check_recall(order.completed_at, now)
        if action in ("accept", "start", "ready", "complete") and not released(order):
            # the diner was promised "the kitchen starts it in time": an accept hours ahead
            # hid the ticket until its release and emailed "being prepared" far too early
            raise IllegalTransition(f"order #{order.ticket_number} is booked for later and "
                                    "not on the board yet: it can be accepted once it "
                                    "reaches the board; nothing was done")
        if action == "accept":
            prep_minutes = await _prep_minutes(order, prep_minutes)
            if order.capture_mode == "manual":
                await _capture(order, redis)
        if action in ("reject", "auto_reject") and not reason.strip():
            reason = "Rejected by the kitchen"
        changes = changes_for(order, action, target, now, prep_minutes=prep_minutes,
                              reason=reason.strip()) | (extra or {})
        told = action == "refund" and order.status != "rejected"
        rows = outbox_rows(order, action, target,
                           refund_told=told and await _refund_emailed(order_ref),
                           refund_id=await settlement.last_refund_id(order.id) if told else "")
        async with DB.transaction() as transaction:
            won = await PaidOrder.update(changes).where(
                (PaidOrder.id == order.id) & (PaidOrder.version == order.version)
            ).returning(PaidOrder.id)
            if won:  # the promise to tell the kitchen and the customer commits with the change
                await outbox.add(transaction.connection, rows)
        if won:
            break
        log.info("order changed concurrently, re-checking", order_id=order_ref, action=action)
    else:
        raise IllegalTransition("the order keeps changing on another screen; try again")

    # the ticket is what the cook and the diner call the order: on-call finds "#42" by it
    log.info("order transition", order_id=order_ref, ticket=order.ticket_number,
             action=action, actor=actor, from_status=order.status, to_status=target)
    updated = await get_order(order_ref)
    assert updated is not None
    redis = redis or await _default_redis()
    await outbox.deliver_now(redis, rows)
    if target == "rejected":
        updated = await settle_rejection(updated, redis=redis)
    return updated


def outbox_rows(order: PaidOrder, action: str, target: str, *,
                refund_told: bool = False, refund_id: str = "") -> list[OutboxRow]:
    """What the transition of `order` (at its current version) by `action` promises: every
    change reaches the kitchen (one event per new version); accept (with the promised time),
    ready and reject email the customer. `refund_told`: the customer was emailed about an
    earlier refund of part of the order, so the refund of the rest is an email of its own.
    `refund_id`: the refund that refunded the rest (the last recorded as it moves the order),
    which its email tells whatever is recorded after it."""
    ref = order.public_id
    rows = [outbox.kitchen_event(order.restaurant, ref, "order.updated",
                                 tag=f"v{order.version + 1}")]
    if target == "accepted":
        rows.append(outbox.email("order_accepted", ref))
        if order.capture_mode == "manual" and action == "accept":
            # The hold was captured just now: the receipt follows (the payment email was the
            # authorisation, `payment_authorised`).
            rows.append(outbox.email("payment_received", ref))
    if target == "ready" and action == "ready":
        rows.append(outbox.email("order_ready", ref))
    # A rejection is told once its money is back, so the email says what happened to it
    # (refunded, or the hold released): after `refund`/`void`, or when settlement stops.
    # A hold released on a live order (the owner's page) cancels it: told the same way.
    if action == "void" or (action == "refund"
                            and (order.status == "rejected" or closing_live(order))):
        rows.append(outbox.email("order_rejected", ref))
    elif action == "refund":
        # After a partial refund's email the first key is taken: the rest gets its own,
        # fixed key, so a redelivered row or a replayed event still sends it once.
        rows.append(outbox.email("order_refunded", ref, suffix="rest" if refund_told else "",
                                 refund_id=refund_id))
    return rows


async def _refund_emailed(order_ref: str) -> bool:
    return bool(await EmailMessage.exists().where(
        (EmailMessage.kind == "order_refunded") & (EmailMessage.order_ref == order_ref)))


async def settle_rejection(order: PaidOrder, *, redis: ArqRedis | None = None) -> PaidOrder:
    """Give a rejected order's money back (`settlement.give_back`: release an uncaptured
    hold, else refund) and move it to `voided` or `refunded`. Safe to retry (idempotency
    keys per order). A failure leaves it `rejected` with `needs_review` for the kitchen
    cron to retry; a refund that can never succeed stops (discrepancy, alert) and the
    customer is told the restaurant will sort it out."""
    ref = order.public_id
    try:
        outcome = await settlement.give_back(order)
    except settlement.RefundBlocked:
        rows = [outbox.email("order_rejected", ref)]
        async with DB.transaction() as transaction:
            await outbox.add(transaction.connection, rows)
        await outbox.deliver_now(redis or await _default_redis(), rows)
        return await get_order(ref) or order
    except Exception as error:
        # "refund failed: Stripe could not be reached: …" when no answer came: the owner's
        # page tells that apart from Stripe's refusal (`partial_refunds.pending_give_back`).
        unreachable = settlement.could_not_reach(error) or getattr(error, "unreachable", False)
        cause = settlement.UNREACHABLE + ": " if unreachable else ""
        message = (REFUND_FAILED + cause + str(error))[:500]
        await PaidOrder.update({PaidOrder.needs_review: True, PaidOrder.review_reason: message,
                                PaidOrder.updated_at: datetime.now(UTC)}).where(
            (PaidOrder.id == order.id) & (PaidOrder.status == "rejected"))
        log.warning("refund failed; order stays rejected for retry", order_id=ref,
                    error=str(error)[:300])
        refreshed = await get_order(ref)
        return refreshed or order
    try:
        return await apply_action(ref, "void" if outcome == "voided" else "refund",
                                  actor="system", redis=redis)
    except IllegalTransition:  # someone else's retry (or Stripe's webhook) got there first
        refreshed = await get_order(ref)
        return refreshed or order


async def _capture(order: PaidOrder, redis: ArqRedis | None) -> None:
    try:
        await settlement.capture(order)
    except settlement.HoldLapsed as error:
        # Nothing can be charged, ever: leaving it `paid` kept it on the board for a cook to
        # cook and retry. It goes the way of a rejection instead (off the board, the diner
        # emailed that the card was not charged).
        await lapse_hold(order.public_id, actor="system", redis=redis)
        raise HoldExpired(f"#{order.ticket_number} was not accepted: {error}. It is off the "
                          "board and the customer is told they were not charged; do not cook "
                          "it.") from error
    except settlement.SettlementFailed as error:
        log.warning("capture failed; accept refused", order_id=order.public_id,
                    error=str(error)[:300])
        if error.outcome_unknown:  # "unchanged" would say the card was not charged
            raise ActionFailed(
                f"cannot accept: {error}. Stripe did not say whether the card was charged: "
                "the order stays new; accept it again in a minute (the card is never charged "
                "twice) or reject it (whatever was charged goes back)") from error
        advice = ("reject the order" if error.permanent else
                  "try again or reject the order")
        raise ActionFailed(f"cannot accept: {error}; the order is unchanged, {advice}"
                           ) from error


async def lapse_hold(order_ref: str, *, actor: str, redis: ArqRedis | None = None,
                     action: str = "reject") -> PaidOrder | None:
    """A paid, never-captured order whose card hold Stripe canceled: reject it with
    HOLD_LAPSED_REASON, which releases the hold (already gone: `voided`) and emails the diner
    (`order_rejected`: not charged). Idempotent: an order that moved on is left alone."""
    try:
        return await apply_action(order_ref, action, actor=actor, reason=HOLD_LAPSED_REASON,
                                  expected_status="paid", redis=redis)
    except IllegalTransition:  # rejected, voided or accepted meanwhile (another screen)
        return await get_order(order_ref)


async def _prep_minutes(order: PaidOrder, requested: int | None) -> int:
    if requested is None:  # the usual prep plus whatever busy time the kitchen set
        row = await Restaurant.select(Restaurant.default_prep_minutes,
                                      Restaurant.busy_minutes).where(
            Restaurant._meta.primary_key == order.restaurant).first()
        return int(row["default_prep_minutes"]) + int(row["busy_minutes"]) if row else 15
    low, high = PREP_MINUTES_RANGE
    if not low <= requested <= high:
        raise InvalidAction(f"prep time must be between {low} and {high} minutes")
    return requested


async def auto_reject_overdue(*, redis: ArqRedis | None = None) -> list[str]:
    """Reject (and refund) paid orders nobody accepted within their restaurant's
    `auto_reject_minutes` (0 disables it). Returns the refs rejected."""
    rows = await PaidOrder.raw(
        "SELECT o.public_id, r.auto_reject_minutes FROM paid_order o "
        "JOIN restaurant r ON r.id = o.restaurant "
        "WHERE o.status = 'paid' AND r.auto_reject_minutes > 0 "
        # A scheduled order's clock starts when it reaches the board, not at payment.
        "AND (o.scheduled_for IS NULL OR o.released_at IS NOT NULL) "
        "AND coalesce(o.released_at, o.paid_at) "
        "< now() - make_interval(mins => r.auto_reject_minutes) "
        "ORDER BY o.paid_at LIMIT 200")
    rejected: list[str] = []
    for row in rows:
        ref = row["public_id"]
        try:
            reason = reject_reasons.not_accepted_within(row["auto_reject_minutes"])
            await apply_action(ref, "auto_reject", actor="system", redis=redis, reason=reason)
        except IllegalTransition:  # accepted at the last moment
            continue
        rejected.append(ref)
    return rejected


async def retry_failed_refunds(*, older_than: timedelta = timedelta(minutes=1),
                               redis: ArqRedis | None = None) -> list[str]:
    """Retry the refund of orders left `rejected` (a refund that failed or was cut short)."""
    cutoff = datetime.now(UTC) - older_than
    orders = await PaidOrder.objects().where(
        (PaidOrder.status == "rejected") & (PaidOrder.rejected_at < cutoff)
        & PaidOrder.settlement_stopped_at.is_null()).limit(100)
    settled: list[str] = []
    for order in orders:
        result = await settle_rejection(order, redis=redis)
        if result.status in ("refunded", "voided"):
            settled.append(order.public_id)
    return settled


# -- collaborators -------------------------------------------------------------------------

async def _default_redis() -> ArqRedis:
    """A shared client for callers that did not pass one."""
    from app.infra.redis import shared_redis

    return await shared_redis()
