"""A restaurant's opening hours as its managers edit them: the weekly hours (one field per
weekday, "11:30-14:30, 17:30-22:00"), how many orders a slot takes and how far ahead diners
may schedule, in one form saved in one statement or not at all; exceptional closures added
and removed one at a time. Read by app/restaurants/opening.py.

A closure over live paid orders (booked for a slot inside its days, or, from today, paid
today for as soon as possible) is added only once the owner confirms rejecting them. A
payment the closure's check could not see (a Checkout Session made before the closure and
paid after it, or paid while it was being saved) is recorded by the webhook as every payment
is; `reject_late_orders` (the worker's `reject_orders_in_closures`, queued after each closure
and run each minute) rejects it the same way, once."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from arq.connections import ArqRedis

from app.accounts.forms import FormInvalid, NotFound
from app.infra import db
from app.infra.form_input import ascii_int, text_error
from app.infra.logging import get_logger
from app.infra.redis import shared_redis
from app.infra.unavailable import DEPENDENCY_ERRORS
from app.orders import lifecycle, reject_reasons
from app.orders.payment_links import expire_link_now, open_links_of
from app.orders.tables import PaidOrder
from app.payments import fulfilment, partial_refunds
from app.payments.stripe_gateway import PaymentProviderError
from app.piccolo_conf import DB
from app.restaurants import hours
from app.restaurants.opening import closures_of, schedule_of
from app.restaurants.tables import Restaurant, RestaurantClosure
from app.templating import zone

log = get_logger("orderpass.manage.hours")

DAY_FIELDS = tuple(f"day_{index}" for index in range(7))
MAX_SLOT_CAPACITY = 1000
MAX_SCHEDULE_DAYS = 60
MAX_REASON = 120
MAX_DAY_TEXT = 300  # a weekday's hours as written (the field's maxlength)
MAX_CLOSURE_DAYS = 366


def values_of(restaurant: Restaurant) -> dict[str, Any]:
    schedule = schedule_of(restaurant, [])
    return {**{field: hours.day_text(schedule.intervals, index)
               for index, field in enumerate(DAY_FIELDS)},
            "slot_capacity": restaurant.slot_capacity,
            "schedule_days": restaurant.schedule_days}


def _number(form: Mapping[str, str], name: str, high: int, errors: dict[str, str]) -> int:
    value = ascii_int(str(form.get(name, "")), low=0, high=high)
    if value is None:
        errors[name] = f"Enter a whole number from 0 to {high}."
        return 0
    return value


async def update(restaurant: Restaurant, form: Mapping[str, str], *, by: str) -> None:
    """Save the weekly hours and slot settings, or raise FormInvalid naming each bad field."""
    errors: dict[str, str] = {}
    # What is shown again is cut to the field's length; what is read is the whole value (a
    # cut one could save other hours than were written).
    values: dict[str, Any] = {name: str(form.get(name, ""))[:MAX_DAY_TEXT] for name in
                              (*DAY_FIELDS, "slot_capacity", "schedule_days")}
    intervals: list[hours.Interval] = []
    for index, name in enumerate(DAY_FIELDS):
        text = str(form.get(name, ""))
        if len(text) > MAX_DAY_TEXT:
            errors[name] = (f"{hours.WEEKDAYS[index]}: at most {MAX_DAY_TEXT} characters, "
                            "like 11:30-14:30, 17:30-22:00.")
            continue
        if "\x00" in text:
            errors[name] = "Must not contain NUL characters."
            values[name] = text.replace("\x00", "")
            continue
        try:
            intervals += hours.parse_day(index, text)
        except hours.HoursInvalid as error:
            errors[name] = f"{hours.WEEKDAYS[index]}: {error}."
    for weekday, problem in hours.night_overlaps(intervals).items():
        errors.setdefault(DAY_FIELDS[weekday], f"{hours.WEEKDAYS[weekday]}: {problem}.")
    capacity = _number(form, "slot_capacity", MAX_SLOT_CAPACITY, errors)
    days = _number(form, "schedule_days", MAX_SCHEDULE_DAYS, errors)
    if errors:
        raise FormInvalid(errors, values)
    await Restaurant.update({Restaurant.weekly_hours: json.dumps(hours.to_rows(intervals)),
                             Restaurant.slot_capacity: capacity,
                             Restaurant.schedule_days: days,
                             # saved on purpose: no hours on any day is open around the clock
                             Restaurant.hours_confirmed: True}).where(
        Restaurant.id == restaurant.id)
    log.info("opening hours saved", restaurant=restaurant.slug, by=by,
             intervals=len(intervals), slot_capacity=capacity, schedule_days=days)


async def closures(restaurant_id: int) -> list[RestaurantClosure]:
    today = datetime.now(UTC).date()
    return await RestaurantClosure.objects().where(
        (RestaurantClosure.restaurant == restaurant_id)
        & (RestaurantClosure.ends_on >= today)).order_by(RestaurantClosure.starts_on)


def _day(form: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    raw = str(form.get(name, "")).strip()
    if not raw:
        errors[name] = "Choose a date."
        return None
    try:
        if raw.isascii() and len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    errors[name] = "Enter a date like 2026-12-24."
    return None


# The orders a new closure would leave without a kitchen: paid, not yet done or rejected
# (accepted and ready ones too: the kitchen will not be there to finish or hand them over).
# An order is inside when its slot is within the closure's days or, ordered for as soon as
# possible, when it was paid within them (so only a closure from today has such orders).
LIVE_STATUSES = lifecycle.ACTIVE_STATUSES
CONFIRM_FIELD = "reject_orders"  # the refs the owner saw and agreed to reject, comma-joined
LISTED_FIELD = "listed_at"  # when that list was read (ISO, UTC): what paid since is "new"
CLOSED_REASON = reject_reasons.CLOSED  # when the closure gives no reason (translated)
# The worker's sweep for payments that land inside a closure after it was saved: queued this
# long after each closure (a webhook in flight then has committed), and run each minute.
LATE_ORDERS_JOB = fulfilment.CLOSURE_SWEEP_JOB
LATE_ORDERS_DELAY = timedelta(seconds=15)
# Queued at once when a closure is added: the open payment links of orders inside it are
# expired, so that nobody pays for an order the closure would then reject and refund.
CLOSE_LINKS_JOB = "expire_links_in_closure"
# A payment is "late" when paid after the closure was saved, less this much: the webhook
# stamps `paid_at` when its statement starts, so one that commits just after the closure's
# check reads its orders can carry a time just before the closure's. Orders paid that long
# before were seen by the check, and confirmed (rejected already) or the closure not added;
# orders inside closures from before this sweep existed are not touched.
LATE_SLACK = timedelta(minutes=5)
LATE_BATCH = 200
# One run at a time per order: two sweeps (the queued job and the cron) may read the same
# order; the status guard makes the second a no-op, this spares it the Stripe round trips.
LATE_CLAIM_KEY = "orderpass:closure-reject:{ref}"
LATE_CLAIM_S = 600


@dataclass(frozen=True)
class OrderInClosure:
    ref: str
    ticket_number: int
    slot: datetime | None  # UTC, shown on the restaurant's clock; None: as soon as possible
    customer_name: str
    total_amount: int
    currency: str
    status: str
    paid_at: datetime
    released_at: datetime | None = None  # a booked order reached the kitchen's board then
    capture_mode: str = "automatic"

    @property
    def card_held(self) -> bool:
        """Its card is only authorised (manual capture, not accepted yet): rejecting it
        releases the hold; nothing was charged, so nothing is refunded."""
        return self.capture_mode == "manual" and self.status == "paid"

    @property
    def day_moment(self) -> datetime:
        """What puts the order on a day: its slot, or when it was paid for now."""
        return self.slot or self.paid_at

    @property
    def on_board(self) -> bool:
        """On the kitchen's screens (for now, or booked and released): its rejection is
        told there (a notice until acknowledged), a cook may be making it."""
        return self.slot is None or self.released_at is not None


class ClosureHitsOrders(Exception):
    """The closure would cover paid orders for later: nothing was saved; the owner confirms.
    `new`: asked again, the orders the owner did not agree to (paid since the list they
    confirmed was shown, or while the closure was being saved); `confirming`: the form
    confirmed a list (so the page says "confirm again"); `looked_at`: when the list it
    confirmed was read (from the form; None when it said none); `listed_at`: when `orders`
    was read, for the next confirmation."""

    def __init__(self, orders: list[OrderInClosure], values: Mapping[str, Any], *,
                 listed_at: datetime, new: list[OrderInClosure] | None = None,
                 confirming: bool = False, looked_at: datetime | None = None) -> None:
        super().__init__(f"{len(orders)} paid orders inside the closure")
        self.orders = orders
        self.values = dict(values)
        self.new = new or []
        self.confirming = confirming
        self.looked_at = looked_at
        self.listed_at = listed_at

    @property
    def came_in(self) -> list[OrderInClosure]:
        """Of `new`, those paid since the confirmed list was read: said to have "come in".
        The others were left out of the list the form confirmed (an edited form): said to
        be not in it, which is true whatever happened."""
        if not self.confirming:
            return self.new  # the first list was being saved when they came in
        return [order for order in self.new
                if self.looked_at is not None and order.paid_at > self.looked_at]

    @property
    def unlisted(self) -> list[OrderInClosure]:
        came_in = {order.ref for order in self.came_in}
        return [order for order in self.new if order.ref not in came_in]

    @property
    def new_refs(self) -> set[str]:
        return {order.ref for order in self.new}

    @property
    def refs(self) -> str:
        return ",".join(order.ref for order in self.orders)


def _closure_span(timezone: str, starts_on: date, ends_on: date) -> tuple[datetime, datetime]:
    """The closure's whole days on the restaurant's clock, as UTC [start, end)."""
    tz = zone(timezone)
    start = datetime.combine(starts_on, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(ends_on + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


async def closure_covering(restaurant_id: int, when: datetime) -> hours.Closure | None:
    """The restaurant's closure whose days (on its clock) hold `when`, if any: a payment
    link made late (Stripe was down at intake) is not made for an order the closure would
    reject."""
    restaurant = await Restaurant.objects().get(Restaurant.id == restaurant_id)
    if restaurant is None:
        return None
    return hours.closure_at(schedule_of(restaurant, await closures_of(restaurant_id)), when)


def _order_of(row: Mapping[str, Any]) -> OrderInClosure:
    return OrderInClosure(ref=row["public_id"], ticket_number=row["ticket_number"],
                          slot=row["scheduled_for"], customer_name=row["customer_name"],
                          total_amount=row["total_amount"], currency=row["currency"],
                          status=row["status"], paid_at=row["paid_at"],
                          released_at=row["released_at"], capture_mode=row["capture_mode"])


async def orders_inside(restaurant: Restaurant, starts_on: date,
                        ends_on: date) -> list[OrderInClosure]:
    """The restaurant's live paid orders inside the closure's days: booked for a slot within
    them, or for as soon as possible and paid within them (today's, for a closure from
    today)."""
    start, end = _closure_span(restaurant.timezone, starts_on, ends_on)
    booked = (PaidOrder.scheduled_for.is_not_null() & (PaidOrder.scheduled_for >= start)
              & (PaidOrder.scheduled_for < end))
    for_now = (PaidOrder.scheduled_for.is_null() & (PaidOrder.paid_at >= start)
               & (PaidOrder.paid_at < end))
    rows = await PaidOrder.select(
        PaidOrder.public_id, PaidOrder.ticket_number, PaidOrder.scheduled_for,
        PaidOrder.customer_name, PaidOrder.total_amount, PaidOrder.currency,
        PaidOrder.status, PaidOrder.paid_at, PaidOrder.released_at,
        PaidOrder.capture_mode).where(
        (PaidOrder.restaurant == restaurant.id) & PaidOrder.status.is_in(list(LIVE_STATUSES))
        & (booked | for_now))
    return sorted((_order_of(row) for row in rows),
                  key=lambda order: (order.day_moment, order.ticket_number))


async def add_closure(restaurant: Restaurant, form: Mapping[str, str], *, by: str,
                      redis: ArqRedis | None = None) -> list[str]:
    """Add the closure, or raise FormInvalid, or ClosureHitsOrders when it covers paid
    orders the form has not confirmed (by their refs in `reject_orders`). Once confirmed,
    the closure is saved, then each of those orders rejected (refund or hold released, the
    diner emailed with the closure's reason, the ticket off the kitchen's screens). Returns
    the refs rejected."""
    errors: dict[str, str] = {}
    starts_on = _day(form, "starts_on", errors)
    ends_on = _day(form, "ends_on", errors) if str(form.get("ends_on", "")).strip() else starts_on
    reason = str(form.get("reason", "")).strip()
    if len(reason) > MAX_REASON:
        errors["reason"] = f"At most {MAX_REASON} characters."
    elif problem := text_error(reason):  # diners read it: "Closed for now (holiday)"
        errors["reason"] = problem
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = "The last day cannot be before the first."
        elif (ends_on - starts_on).days >= MAX_CLOSURE_DAYS:
            errors["ends_on"] = "A closure can last a year at most."
        elif ends_on < datetime.now(UTC).date():
            errors["ends_on"] = "That closure is over already."
    values = {name: str(form.get(name, "")).replace("\x00", "")[:200]
              for name in ("starts_on", "ends_on", "reason")}
    if errors:
        raise FormInvalid(errors, values)
    assert starts_on is not None and ends_on is not None
    confirmed = {ref.strip() for ref in str(form.get(CONFIRM_FIELD, "")).split(",")} - {""}
    looked_at = _instant(form.get(LISTED_FIELD))
    # Asked again when an order was booked inside since the list was shown: named as new.
    listed_at = datetime.now(UTC)  # before the reading: an order paid after is not in it
    if not _agreed(hits := await orders_inside(restaurant, starts_on, ends_on), confirmed):
        if clash := await _overlapping(int(restaurant.id), starts_on, ends_on):
            raise FormInvalid({"starts_on": _clash_message(clash)}, values)
        raise ClosureHitsOrders(hits, values, confirming=bool(confirmed),
                                new=_unagreed(hits, confirmed) if confirmed else [],
                                looked_at=looked_at, listed_at=listed_at)
    async with DB.transaction():
        # One closure per day: the restaurant's row is locked so two forms sent together
        # cannot both find the days free.
        await Restaurant.raw("SELECT id FROM restaurant WHERE id = {} FOR UPDATE",
                             restaurant.id)
        if clash := await _overlapping(int(restaurant.id), starts_on, ends_on):
            raise FormInvalid({"starts_on": _clash_message(clash)}, values)
        created_at = datetime.now(UTC)
        # Read again with the insert: an order paid since the first reading is asked about
        # (nothing saved). One whose payment commits after this reading is a late one, for
        # the worker (`reject_late_orders`).
        if not _agreed(hits := await orders_inside(restaurant, starts_on, ends_on),
                       confirmed):
            raise ClosureHitsOrders(hits, values, new=_unagreed(hits, confirmed),
                                    confirming=bool(confirmed),
                                    looked_at=looked_at or listed_at, listed_at=created_at)
        [row] = await RestaurantClosure.insert(RestaurantClosure(
            restaurant=restaurant.id, starts_on=starts_on, ends_on=ends_on, reason=reason,
            created_at=created_at)).returning(RestaurantClosure.id)
    log.info("closure added", restaurant=restaurant.slug, by=by, starts_on=str(starts_on),
             ends_on=str(ends_on), orders_to_reject=len(hits))
    rejected = [hit.ref for hit in hits
                if await _reject(int(restaurant.id), hit, reason=reason or CLOSED_REASON,
                                 by=by, redis=redis)]
    await _queue_late_orders(redis, int(row["id"]))
    await _queue_link_expiry(redis, int(row["id"]))
    return rejected


def _instant(raw: object) -> datetime | None:
    """The form's `listed_at` (ISO with its offset), or None when absent or not one."""
    try:
        moment = datetime.fromisoformat(str(raw or "").strip()[:40])
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _agreed(hits: list[OrderInClosure], confirmed: set[str]) -> bool:
    """Every order inside is one the owner saw and agreed to reject (none inside: True)."""
    return {hit.ref for hit in hits} <= confirmed


def _unagreed(hits: list[OrderInClosure], confirmed: set[str]) -> list[OrderInClosure]:
    """The orders inside the owner did not agree to reject: come in since they looked."""
    return [hit for hit in hits if hit.ref not in confirmed]


async def _queue_late_orders(redis: ArqRedis | None, closure_id: int) -> None:
    """The worker's sweep for late payments, shortly after this closure; the cron's next
    run (each minute) does the same if this cannot be queued."""
    try:
        await (redis or await shared_redis()).enqueue_job(
            LATE_ORDERS_JOB, _job_id=f"closure:{closure_id}:late-orders",
            _defer_by=LATE_ORDERS_DELAY)
    except DEPENDENCY_ERRORS as error:
        log.warning("late-orders sweep not queued; the cron runs it within a minute",
                    closure=closure_id, error=str(error)[:200])


async def _queue_link_expiry(redis: ArqRedis | None, closure_id: int) -> None:
    """`expire_links_in_closure` now; if it cannot be queued, a link paid inside the closure
    is still rejected and refunded by the late-orders sweep (the worse way, never lost)."""
    try:
        await (redis or await shared_redis()).enqueue_job(
            CLOSE_LINKS_JOB, closure_id, _job_id=f"closure:{closure_id}:links")
    except DEPENDENCY_ERRORS as error:
        log.warning("open links inside the closure not queued for expiry", closure=closure_id,
                    error=str(error)[:200])


async def expire_links_in_closure(redis: ArqRedis, closure_id: int) -> list[str]:
    """Expire, at Stripe and here, the open payment links of the closure's restaurant whose
    order falls inside it (a slot inside its days; as soon as possible while it is on); the
    diner's page and email say the link expired and nothing was charged, and a new link is
    refused while the closure lasts (`link_renewal`). Returns the orders whose link closed.
    A payment that completed first wins (`expire_link_now`): the late-orders sweep rejects
    and refunds it, as before."""
    closure = await RestaurantClosure.objects().get(RestaurantClosure.id == closure_id)
    restaurant = await Restaurant.objects().get(
        Restaurant.id == closure.restaurant) if closure is not None else None
    if closure is None or restaurant is None:
        return []  # removed meanwhile
    start, end = _closure_span(restaurant.timezone, closure.starts_on, closure.ends_on)
    now = datetime.now(UTC)
    closed: list[str] = []
    async for order in open_links_of(redis, int(restaurant.id)):
        if not start <= (order.scheduled_for or now) < end or not order.checkout_session_id:
            continue
        try:
            outcome = await expire_link_now(redis, order.id, order.checkout_session_id,
                                            closure_note=closure.reason or "")
        except PaymentProviderError as error:  # the link's own expiry still comes
            log.warning("link inside a closure not expired", order_id=order.id,
                        closure=closure_id, error=str(error)[:200])
            continue
        if outcome == "expired":
            closed.append(order.id)
    if closed:
        log.info("open links inside a closure expired", restaurant=restaurant.slug,
                 closure=closure_id, orders=closed)
    return closed


# Candidates for `reject_late_orders`: live orders paid after a closure not yet over was saved
# whose day is near its days (a day either side: the zone's offset, settled in Python with
# the same `_closure_span` as the owner's check, `_inside`). Few rows, found by
# paid_order_active_idx (restaurant, status, paid_at): only payments that raced a closure.
_LATE_ORDERS_WHERE = """
SELECT o.public_id, o.ticket_number, o.scheduled_for, o.customer_name, o.total_amount,
       o.currency, o.status, o.paid_at, o.released_at, o.capture_mode, o.restaurant,
       r.timezone, c.starts_on, c.ends_on, c.reason
FROM restaurant_closure c
JOIN restaurant r ON r.id = c.restaurant
JOIN paid_order o ON o.restaurant = c.restaurant
WHERE c.ends_on >= $1::date AND o.status = ANY($2::text[])
  AND o.paid_at >= c.created_at - $3::interval
  AND coalesce(o.scheduled_for, o.paid_at) >= (c.starts_on - 1)::timestamp AT TIME ZONE 'UTC'
  AND coalesce(o.scheduled_for, o.paid_at) < (c.ends_on + 2)::timestamp AT TIME ZONE 'UTC'
"""
_LATE_ORDERS = _LATE_ORDERS_WHERE + """ORDER BY o.paid_at
LIMIT $4
"""
# The same candidates among given orders (found by their public_id): `late_orders_among`.
_LATE_ORDERS_AMONG = _LATE_ORDERS_WHERE + """  AND o.public_id = ANY($4::varchar[])
"""


def _late_window() -> tuple[date, list[str], timedelta]:
    """$1…$3 of the late orders' statements: closures not over before the day before
    yesterday, live orders, paid after the closure was saved (less LATE_SLACK)."""
    return datetime.now(UTC).date() - timedelta(days=2), list(LIVE_STATUSES), LATE_SLACK


def _inside(rows: list[Mapping[str, Any]]
            ) -> Iterator[tuple[Mapping[str, Any], OrderInClosure]]:
    """The candidate rows whose order is inside their closure's days on the restaurant's
    clock (its slot, or its paid time for as soon as possible), with the order."""
    for row in rows:
        order = _order_of(row)
        start, end = _closure_span(str(row["timezone"]), row["starts_on"], row["ends_on"])
        if start <= order.day_moment < end:
            yield row, order


async def late_orders_among(order_refs: Collection[str]) -> set[str]:
    """Of `order_refs`, those `reject_late_orders` rejects (or is about to: queued after the
    payment, or at its next run each minute), in one round trip: live orders paid inside a
    closure after it was saved. Their receipt is not sent (app/notifications/delivery.py):
    the rejection email tells the diner."""
    if not order_refs:
        return set()
    rows = await db.fetch(_LATE_ORDERS_AMONG, *_late_window(), list(order_refs))
    return {order.ref for _row, order in _inside(rows)}


async def reject_late_orders(redis: ArqRedis) -> list[str]:
    """Reject, the closure's way (as `add_closure` does on confirmation, reason and all), the
    live orders inside a closure that were paid after it was saved; returns the refs rejected.
    Safe to run twice at once and again: each order is claimed for one run, and a rejected
    or refunded order is no longer live (the lifecycle's status guard)."""
    rows = await db.fetch(_LATE_ORDERS, *_late_window(), LATE_BATCH)
    rejected: list[str] = []
    for row, order in _inside(rows):
        if order.ref in rejected:
            continue
        claim = LATE_CLAIM_KEY.format(ref=order.ref)
        if not await redis.set(claim, "1", nx=True, ex=LATE_CLAIM_S):
            continue  # another run has it
        try:
            if await _reject(int(row["restaurant"]), order, by="system", redis=redis,
                             reason=str(row["reason"]) or CLOSED_REASON):
                rejected.append(order.ref)
        finally:
            with contextlib.suppress(*DEPENDENCY_ERRORS):
                await redis.delete(claim)
    if rejected:
        log.info("orders paid inside a closure after it was added rejected", orders=rejected)
    return rejected


async def _reject(restaurant_id: int, order: OrderInClosure, *, reason: str, by: str,
                  redis: ArqRedis | None) -> bool:
    """Reject one order the closure covers the kitchen's way; False when it moved on (e.g.
    completed on another screen, or rejected by another run, meanwhile) and was left
    alone. Whatever its status, the diner is told it was rejected for `reason`, and, when it
    was on the kitchen's board, every screen shows a notice saying so until a cook
    acknowledges it (nobody in the kitchen chose this; a cook may be making it)."""
    try:
        if order.status == "ready":  # past rejecting: its money goes back in full, told as
            # a rejection for the closure's reason (the notice: `refund_notice`, lifecycle)
            await partial_refunds.refund_whole(redis or await shared_redis(), order.ref, by=by,
                                               reason=reason, reject_reason=reason)
        else:
            await lifecycle.apply_action(
                order.ref, "reject", actor=by, reason=reason, restaurant_id=restaurant_id,
                redis=redis, extra={PaidOrder.refund_notice: True} if order.on_board else None)
    except (lifecycle.IllegalTransition, lifecycle.OrderNotFound,
            partial_refunds.RefundRefused) as error:
        log.warning("order inside a new closure not rejected", order_id=order.ref,
                    error=str(error)[:300])
        return False
    return True


async def _overlapping(restaurant_id: int, starts_on: date,
                       ends_on: date) -> RestaurantClosure | None:
    """The restaurant's first closure sharing a day with `starts_on`…`ends_on`."""
    return await RestaurantClosure.objects().where(
        (RestaurantClosure.restaurant == restaurant_id)
        & (RestaurantClosure.starts_on <= ends_on)
        & (RestaurantClosure.ends_on >= starts_on)).order_by(
        RestaurantClosure.starts_on).first()


def _clash_message(closure: RestaurantClosure) -> str:
    """Refused rather than merged: the closure there has its own reason, which diners read;
    the owner removes it first, or picks other days."""
    days = (closure.starts_on.isoformat() if closure.starts_on == closure.ends_on
            else f"{closure.starts_on.isoformat()} to {closure.ends_on.isoformat()}")
    reason = f" ({closure.reason})" if closure.reason else ""
    return (f"These days overlap the closure already there, {days}{reason}: remove it "
            "first, or choose other days.")


async def remove_closure(restaurant: Restaurant, closure_id: int, *, by: str) -> None:
    removed = await RestaurantClosure.delete().where(
        (RestaurantClosure.id == closure_id)
        & (RestaurantClosure.restaurant == restaurant.id)).returning(RestaurantClosure.id)
    if not removed:
        raise NotFound(f"no closure {closure_id} at {restaurant.name}")
    log.info("closure removed", restaurant=restaurant.slug, by=by, closure=closure_id)
