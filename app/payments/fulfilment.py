"""Payment confirmed → the durable order. One Postgres statement (its own transaction)
writes the processed Stripe event, the order, its items, the outbox rows (kitchen publish,
customer email) and the email's queued row; the caller answers 2xx only after it commits.
The ticket number is taken just before, and the funnel's "paid" is counted just after (both
hot per-restaurant rows, kept out of it).
Duplicate events, the completed/async-succeeded pair, and concurrent deliveries all end in
exactly one order."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from arq.connections import ArqRedis

from app.infra import db
from app.infra.logging import get_logger
from app.infra.unavailable import DEPENDENCY_ERRORS
from app.notifications import service as notifications
from app.orders.models import TempOrder
from app.orders.views import temp_store
from app.payments.rebuild import rebuild_temp_order
from app.payments.stripe_data import CheckoutSession
from app.payments.stripe_gateway import get_gateway, metadata_of, temp_order_ref
from app.piccolo_conf import DB
from app.platform import outbox
from app.platform.outbox import OutboxRow

log = get_logger("orderpass.fulfilment")


@dataclass(frozen=True)
class Fulfilment:
    outcome: str  # created | duplicate_event | duplicate_order | duplicate_payment
    #               | restaurant_mismatch
    order_ref: str
    restaurant_id: int | None = None
    order_id: int | None = None
    needs_review: bool = False
    recipient: str | None = None  # the customer's email, for the after-commit fast path
    email_kind: str = "payment_received"  # the payment email (`payment_email`)


def _mismatch(order: TempOrder, session: CheckoutSession) -> str:
    charged, currency = session.amount_total, (session.currency or "").lower()
    if charged != order.total_amount or currency != order.currency.lower():
        return (f"Stripe charged {charged} {currency}; the order totals "
                f"{order.total_amount} {order.currency}")
    return ""


PAYMENT_EMAIL = "payment_received"  # the receipt
# A manual-capture order is only authorised when paid: its first email says the card is held
# and will be charged on accept; the receipt (`payment_received`) follows the capture
# (app/orders/lifecycle.py), under its own key.
HOLD_EMAIL = "payment_authorised"


def payment_email(capture_mode: str) -> str:
    """The email a newly paid order gets: the receipt, or for a hold the authorisation."""
    return HOLD_EMAIL if capture_mode == "manual" else PAYMENT_EMAIL


def outbox_rows(order_ref: str, restaurant_id: int, recipient: str | None = None, *,
                email_kind: str = PAYMENT_EMAIL) -> list[OutboxRow]:
    """What a new paid order promises: the kitchen is told (`kitchen:<ref>:order.paid`) and
    the customer gets the payment email (`email:<email_kind>:<ref>`, `payment_email`)."""
    return [
        outbox.kitchen_event(restaurant_id, order_ref, "order.paid", tag="order.paid"),
        outbox.email(email_kind, order_ref, recipient=recipient,
                     restaurant_id=restaurant_id if recipient else None),
    ]


async def _insert_event(connection: asyncpg.Connection, event_id: str, event_type: str,
                        session_id: str, result: str) -> bool:
    row = await connection.fetchrow(
        "INSERT INTO stripe_event (event_id, type, checkout_session_id, received_at, "
        "processed_at, result) VALUES ($1, $2, $3, now(), now(), $4) "
        "ON CONFLICT (event_id) DO NOTHING RETURNING id",
        event_id, event_type, session_id, result)
    return row is not None


# The restaurant's ticket counter is a hot row: every payment of the restaurant updates it.
# Updated inside the order transaction, its lock was held through that transaction's WAL
# flush, and one slow flush queued every payment behind it (webhook p99 +50 ms in the
# kitchen benchmark). Taken in a statement of its own, committed without waiting for the
# flush, the lock is held for microseconds. The cost: a failed delivery, or two racing for
# one order, skips a number (one arriving after the order is recorded takes none), and a
# Postgres crash may hand out the last few numbers again; tickets are a call-out number for
# the pass (they wrap at 999), never an identifier.
NEXT_TICKET = (
    "UPDATE restaurant SET last_ticket_number = last_ticket_number % 999 + 1 "  # noqa: S608
    f"FROM {db.ASYNC_COMMIT} WHERE id = $1 RETURNING last_ticket_number")


async def next_ticket_number(restaurant_id: int) -> int:
    rows = await db.fetch(NEXT_TICKET, restaurant_id)
    return int(rows[0]["last_ticket_number"]) if rows else 0


# The paid order in one statement, which is its own transaction (committed, with the WAL
# flush, when it returns): the order (unless its event was seen before, or an order has its
# ref or session already), its items, its outbox rows, its payment email's queued row (so
# the fast path after commit only enqueues the send job), the event row, and the amount
# discrepancy if there is one. Everything hangs off the order's row, so either all of it is
# written or none: an explicit transaction (BEGIN and COMMIT, two more round trips) used to
# roll the event row back when the order turned out to exist already; now it is not written
# then, and `_record_without_order` records the event with what happened. Every parameter
# is cast: in INSERT … SELECT they would otherwise be typed as text.
PAID_ORDER = f"""
WITH paid AS (
    INSERT INTO paid_order (public_id, restaurant, ticket_number, stripe_checkout_session_id,
        stripe_payment_intent_id, status, customer_name, customer_email, customer_phone,
        fulfillment, delivery_address, table_label, notes, currency, total_amount,
        amount_charged, currency_charged, capture_mode, needs_review, review_reason,
        rebuilt_from_stripe, submitted_at, paid_at, prep_minutes, allergy,
        tax_mode, tip_amount, net_amount, tax_amount,
        seller_legal_name, seller_address, seller_tax_id, language, scheduled_for,
        seller_trading_name)
    SELECT $4::text, $5::integer, $6::integer, $3::text, $7::text, 'paid', $8::text,
        $9::text, $10::text, $11::text, $12::text, $13::text, $14::text, $15::text,
        $16::integer, $17::integer, $18::text, $19::text, $20::boolean, $21::text,
        $22::boolean, $23::timestamptz, now(), $24::integer, $34::text,
        $36::text, $37::integer, $38::integer, $39::integer,
        -- the receipt names the seller as it was when paid (its trading name and address
        -- where no legal ones are set)
        coalesce(nullif(r.legal_name, ''), left(r.name, 200)),
        coalesce(nullif(r.legal_address, ''), r.address), r.tax_id, $44::text,
        $45::timestamptz, left(r.name, 200)
    FROM restaurant r
    WHERE r.id = $5::integer
        AND NOT EXISTS (SELECT 1 FROM stripe_event WHERE event_id = $1::text)
    ON CONFLICT DO NOTHING RETURNING id),
event AS (
    INSERT INTO stripe_event (event_id, type, checkout_session_id, received_at,
        processed_at, result)
    SELECT $1::text, $2::text, $3::text, now(), now(), 'order_created' FROM paid
    ON CONFLICT (event_id) DO NOTHING RETURNING id),
items AS (
    INSERT INTO order_item (paid_order, menu_item, name, unit_amount, quantity, notes,
        allergy, tax_rate, net_amount, tax_amount, gross_amount, modifiers)
    SELECT paid.id, item.menu_item, item.name, item.unit_amount, item.quantity, item.notes,
        item.allergy, item.tax_rate, item.net_amount, item.tax_amount, item.gross_amount,
        item.modifiers::jsonb
    FROM paid, unnest($25::integer[], $26::text[], $27::integer[], $28::integer[],
                      $29::text[], $35::text[], $40::integer[], $41::integer[],
                      $42::integer[], $43::integer[], $46::text[])
        AS item (menu_item, name, unit_amount, quantity, notes, allergy, tax_rate,
                 net_amount, tax_amount, gross_amount, modifiers)),
amount_mismatch AS (
    INSERT INTO discrepancy (kind, dedupe_key, stripe_checkout_session_id, order_ref,
        restaurant, details)
    SELECT 'amount_mismatch', 'amount_mismatch:' || $3::text, $3::text, $4::text,
        $5::integer, $52::text::jsonb
    FROM paid WHERE $52::text IS NOT NULL
    ON CONFLICT (dedupe_key) DO NOTHING),
{outbox.insert_after("paid", 30)},
{notifications.queue_after("paid", 47)}
SELECT (SELECT id FROM paid) AS order_id, EXISTS (SELECT 1 FROM event) AS event_recorded,
    EXISTS (SELECT 1 FROM stripe_event WHERE event_id = $1::text) AS seen_before,
    -- a closure of the restaurant within a day of the order's day (its slot, or now): the
    -- zone's offset is settled by the worker's sweep, queued at once when this is true
    EXISTS (SELECT 1 FROM restaurant_closure c WHERE c.restaurant = $5::integer
        AND c.ends_on >= (coalesce($45::timestamptz, now()) AT TIME ZONE 'UTC')::date - 1
        AND c.starts_on <= (coalesce($45::timestamptz, now()) AT TIME ZONE 'UTC')::date + 1
    ) AS near_closure
"""  # noqa: S608 - only constants are interpolated  # noqa: S608 - only constants are interpolated


@dataclass(frozen=True)
class _Written:
    order_id: int | None  # the new order's id; None: no order written (see `seen_before`)
    event_recorded: bool  # False with an order: the event was recorded meanwhile elsewhere
    seen_before: bool  # the event was recorded before this statement began
    near_closure: bool = False  # a closure lies within a day of the order's day


async def _insert_order(event_id: str, event_type: str, order: TempOrder,
                        session: CheckoutSession, review_reason: str, rebuilt: bool,
                        ticket: int, amount_problem: str = "") -> _Written:
    payment_intent = session.payment_intent
    intent_id = payment_intent if isinstance(payment_intent, str) else (
        payment_intent.id if payment_intent is not None else None)
    lines = order.lines
    rows = await db.fetch(
        PAID_ORDER, event_id, event_type, session.id,
        order.id, order.restaurant_id, ticket, intent_id, order.customer.name,
        order.customer.email, order.customer.phone, order.fulfillment, order.delivery_address,
        order.table_label, order.notes, order.currency, order.total_amount,
        session.amount_total or 0, (session.currency or order.currency).lower(),
        order.capture_mode, bool(review_reason), review_reason, rebuilt, order.created_at,
        order.prep_minutes,
        [line.menu_item_id for line in lines], [line.name for line in lines],
        [line.unit_amount for line in lines], [line.quantity for line in lines],
        [line.notes for line in lines],
        *outbox.as_parameters(outbox_rows(order.id, order.restaurant_id,
                                          order.customer.email,
                                          email_kind=payment_email(order.capture_mode))),
        order.allergy, [line.allergy for line in lines],  # $34, $35: allergy flags
        *_money_parameters(order),  # $36…$43: VAT and tip
        order.language,  # $44: the language of the order's emails
        order.scheduled_for,  # $45: the slot of a scheduled order (NULL: as soon as possible)
        [msgspec.json.encode(line.modifiers).decode() for line in lines],  # $46: options
        *notifications.queue_parameters(payment_email(order.capture_mode), order.id,
                                        order.customer.email,
                                        order.restaurant_id),  # $47…$51: the email's row
        # $52: the amount discrepancy's details (NULL: Stripe charged what we asked)
        _discrepancy_details(session, {"reason": amount_problem}) if amount_problem else None)
    row = rows[0]
    return _Written(row["order_id"], bool(row["event_recorded"]), bool(row["seen_before"]),
                    bool(row["near_closure"]))


def _money_parameters(order: TempOrder) -> list[Any]:
    """$36…$43 of PAID_ORDER: the order's tax mode, tip, goods net and tax; each line's rate,
    net, tax and gross (as frozen at submission)."""
    lines = [line.tax_split for line in order.lines]
    return [order.tax_mode, order.tip_amount, sum(line.net for line in lines),
            sum(line.tax for line in lines), [line.rate for line in lines],
            [line.net for line in lines], [line.tax for line in lines],
            [line.gross for line in lines]]


async def _insert_discrepancy(connection: asyncpg.Connection, kind: str,
                              session: CheckoutSession, order: TempOrder,
                              details: dict[str, Any]) -> None:
    await connection.execute(
        "INSERT INTO discrepancy (kind, dedupe_key, stripe_checkout_session_id, order_ref, "
        "restaurant, details) VALUES ($1, $2, $3, $4, $5, $6::jsonb) "
        "ON CONFLICT (dedupe_key) DO NOTHING",
        kind, f"{kind}:{session.id}", session.id, order.id, order.restaurant_id,
        _discrepancy_details(session, details))


def _discrepancy_details(session: CheckoutSession, details: dict[str, Any]) -> str:
    return json.dumps({**details, "amount_charged": session.amount_total,
                       "currency": session.currency})


async def record_event_once(event_id: str, event_type: str, session_id: str,
                            result: str) -> bool:
    """Remember an event that creates no order; False if it was seen before."""
    async with DB.transaction() as transaction:
        inserted = await _insert_event(transaction.connection, event_id, event_type,
                                       session_id, result)
    return inserted


async def _temp_order(redis: ArqRedis, session: CheckoutSession) -> TempOrder | None:
    temp_id = temp_order_ref(session)
    return await temp_store(redis).get(temp_id) if temp_id else None


async def _recorded_already(session: CheckoutSession, event_id: str, event_type: str
                            ) -> Fulfilment | None:
    """The duplicate a delivery is when the session's order is recorded already (its temp
    order goes once it is): a later delivery, or the webhook after the diner's return. Said
    without rebuilding the order from Stripe or taking a ticket number the kitchen would
    then never see. None when no order has this session."""
    rows = await db.fetch("SELECT public_id, restaurant FROM paid_order "
                          "WHERE stripe_checkout_session_id = $1", session.id)
    if not rows:
        return None
    ref = str(rows[0]["public_id"])
    new_event = await record_event_once(event_id, event_type, session.id, "duplicate_order")
    outcome = "duplicate_order" if new_event else "duplicate_event"
    log.info("paid session already recorded", order_id=ref, session=session.id,
             outcome=outcome, stripe_event=event_id)
    return Fulfilment(outcome, ref, int(rows[0]["restaurant"]))


async def _rebuilt(session: CheckoutSession) -> TempOrder:
    log.warning("temp order missing; rebuilding from Stripe", order_id=temp_order_ref(session),
                session=session.id)
    return await rebuild_temp_order(get_gateway(), session)


def _claimed_restaurant(session: CheckoutSession) -> str:
    return metadata_of(session).get("restaurant", "")


async def _owner(connection: asyncpg.Connection, order_ref: str) -> tuple[str | None, str]:
    """(the Checkout Session, the restaurant slug) of the paid order `order_ref`."""
    row = await connection.fetchrow(
        "SELECT o.stripe_checkout_session_id AS session_id, r.slug FROM paid_order o "
        "JOIN restaurant r ON r.id = o.restaurant WHERE o.public_id = $1", order_ref)
    return (row["session_id"], row["slug"]) if row else (None, "")


async def _existing_outcome(connection: asyncpg.Connection, session: CheckoutSession,
                            order: TempOrder) -> str:
    """What a paid session is when its order exists already: the same session's order again,
    a second payment for it, or another restaurant's order."""
    owner, owner_restaurant = await _owner(connection, order.id)
    if owner_restaurant and owner_restaurant != order.restaurant_slug:
        return "restaurant_mismatch"
    return "duplicate_order" if owner in (None, session.id) else "duplicate_payment"


async def record_paid_session(redis: ArqRedis, session: CheckoutSession, *,
                              event_id: str, event_type: str) -> Fulfilment:
    """Make the paid order durable. Raises on any failure before commit (→ 5xx → retry).

    A session whose metadata names an order of another restaurant than its own creates
    nothing: it is a discrepancy for a human (never taken for a duplicate)."""
    order = await _temp_order(redis, session)
    rebuilt = order is None
    if order is None:
        if (duplicate := await _recorded_already(session, event_id, event_type)) is not None:
            return duplicate
        order = await _rebuilt(session)
    claimed = _claimed_restaurant(session)
    if claimed and claimed != order.restaurant_slug:
        await _record_without_order("restaurant_mismatch", session, order, event_id,
                                    event_type)
        return Fulfilment("restaurant_mismatch", order.id, order.restaurant_id)
    amount_problem = _mismatch(order, session)
    review_reason = "; ".join(reason for reason in (amount_problem, order.review_note)
                              if reason)[:500]
    ticket = await next_ticket_number(order.restaurant_id)
    written = await _insert_order(event_id, event_type, order, session, review_reason, rebuilt,
                                  ticket, amount_problem)
    if written.order_id is None:
        outcome = "duplicate_event"
        if not written.seen_before:  # an order exists already (or a twin delivery won)
            outcome = await _record_without_order(None, session, order, event_id, event_type)
        log.info("paid session already recorded", order_id=order.id, session=session.id,
                 outcome=outcome, stripe_event=event_id)
        return Fulfilment(outcome, order.id, order.restaurant_id)
    if not written.event_recorded:
        # Another delivery of this event recorded it, without an order, after this statement
        # began (a manual-capture session read before its authorisation, say). The order is
        # paid (checked before) and exists once: it stands.
        log.warning("paid order recorded; its event was recorded meanwhile without it",
                    order_id=order.id, session=session.id, stripe_event=event_id)
    if review_reason:
        log.error("paid order kept and flagged for review", order_id=order.id,
                  session=session.id, reason=review_reason)
    if written.near_closure:
        await _sweep_closures_now(redis, order.id)
    # debug: every caller logs the outcome itself (the webhook's line names the order and
    # the event); a line is a write to stderr, which the webhook pays for before its 2xx
    log.debug("paid order recorded", order_id=order.id, session=session.id,
              stripe_event=event_id, rebuilt=rebuilt)
    return Fulfilment("created", order.id, order.restaurant_id, written.order_id,
                      bool(review_reason),
                      order.customer.email, payment_email(order.capture_mode))


# The worker's sweep of payments that landed inside a closure (workers/kitchen_jobs.py, run by
# app/manage/hours.py `reject_late_orders`), queued after each closure too.
CLOSURE_SWEEP_JOB = "reject_orders_in_closures"


async def _sweep_closures_now(redis: ArqRedis, order_ref: str) -> None:
    """A payment near a closure's days (a Checkout Session made before the closure was
    saved, paid after it): the worker's sweep rejects it the closure's way at once, rather
    than at its next run each minute, while a cook may start on it. The sweep settles
    whether the order is inside (the restaurant's zone) and rejects it once."""
    try:
        await redis.enqueue_job(CLOSURE_SWEEP_JOB, _job_id=f"paid:{order_ref}:closures")
    except DEPENDENCY_ERRORS as error:  # the order stands; the cron's next run sweeps it
        log.warning("closure sweep not queued; the cron runs it within a minute",
                    order_id=order_ref, error=str(error)[:200])


async def _record_without_order(outcome: str | None, session: CheckoutSession,
                                order: TempOrder, event_id: str, event_type: str) -> str:
    """The order exists already: remember the event; a second payment is a discrepancy.
    `outcome` None: find it from the order that exists (a duplicate of this session's order,
    a second payment for it, another restaurant's order). Returns the outcome, which is
    `duplicate_event` if the event was recorded meanwhile (a twin delivery)."""
    async with DB.transaction() as transaction:
        connection = transaction.connection
        result: str = outcome or await _existing_outcome(connection, session, order)
        new_event = await _insert_event(connection, event_id, event_type, session.id, result)
        if outcome is None and not new_event:
            return "duplicate_event"
        if result == "duplicate_payment":
            await _insert_discrepancy(
                connection, "duplicate_payment", session, order,
                {"reason": "a second Checkout Session for the same order was paid"})
            log.error("second payment for one order: flagged for refund", order_id=order.id,
                      session=session.id)
        if result == "restaurant_mismatch":
            await _insert_discrepancy(
                connection, "restaurant_mismatch", session, order,
                {"reason": f"the session was paid at {_claimed_restaurant(session) or '?'} but "
                           f"names order {order.id} of another restaurant; no order was "
                           "created: refund or create it by hand",
                 "session_restaurant": _claimed_restaurant(session)})
            log.error("paid session names another restaurant's order", order_id=order.id,
                      session=session.id)
    return result
