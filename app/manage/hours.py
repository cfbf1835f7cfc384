"""A restaurant's opening hours as its managers edit them: the weekly hours (one field per
weekday, "11:30-14:30, 17:30-22:00"), how many orders a slot takes and how far ahead diners
may schedule, in one form saved in one statement or not at all; exceptional closures added
and removed one at a time. Read by app/restaurants/opening.py."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from arq.connections import ArqRedis

from app.accounts.forms import FormInvalid, NotFound
from app.infra.form_input import ascii_int, text_error
from app.infra.logging import get_logger
from app.infra.redis import shared_redis
from app.orders import lifecycle
from app.orders.tables import PaidOrder
from app.payments import partial_refunds
from app.piccolo_conf import DB
from app.restaurants import hours
from app.restaurants.opening import schedule_of
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
    capacity = _number(form, "slot_capacity", MAX_SLOT_CAPACITY, errors)
    days = _number(form, "schedule_days", MAX_SCHEDULE_DAYS, errors)
    if errors:
        raise FormInvalid(errors, values)
    await Restaurant.update({Restaurant.weekly_hours: json.dumps(hours.to_rows(intervals)),
                             Restaurant.slot_capacity: capacity,
                             Restaurant.schedule_days: days}).where(
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


# The orders a new closure would leave without a kitchen: paid, not yet done or rejected.
LIVE_STATUSES = lifecycle.ACTIVE_STATUSES
CONFIRM_FIELD = "reject_orders"  # the refs the owner saw and agreed to reject, comma-joined
CLOSED_REASON = "The restaurant is closed that day"  # when the closure gives no reason


@dataclass(frozen=True)
class OrderInClosure:
    ref: str
    ticket_number: int
    slot: datetime  # UTC; shown on the restaurant's clock
    customer_name: str
    total_amount: int
    currency: str
    status: str


class ClosureHitsOrders(Exception):
    """The closure would cover paid orders for later: nothing was saved; the owner confirms."""

    def __init__(self, orders: list[OrderInClosure], values: Mapping[str, Any]) -> None:
        super().__init__(f"{len(orders)} paid orders inside the closure")
        self.orders = orders
        self.values = dict(values)

    @property
    def refs(self) -> str:
        return ",".join(order.ref for order in self.orders)


def _closure_span(restaurant: Restaurant, starts_on: date, ends_on: date
                  ) -> tuple[datetime, datetime]:
    """The closure's whole days on the restaurant's clock, as UTC [start, end)."""
    tz = zone(restaurant.timezone)
    start = datetime.combine(starts_on, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(ends_on + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


async def orders_inside(restaurant: Restaurant, starts_on: date,
                        ends_on: date) -> list[OrderInClosure]:
    """The restaurant's live paid orders whose slot falls within the closure's days."""
    start, end = _closure_span(restaurant, starts_on, ends_on)
    rows = await PaidOrder.select(
        PaidOrder.public_id, PaidOrder.ticket_number, PaidOrder.scheduled_for,
        PaidOrder.customer_name, PaidOrder.total_amount, PaidOrder.currency,
        PaidOrder.status).where(
        (PaidOrder.restaurant == restaurant.id) & PaidOrder.scheduled_for.is_not_null()
        & (PaidOrder.scheduled_for >= start) & (PaidOrder.scheduled_for < end)
        & PaidOrder.status.is_in(list(LIVE_STATUSES))).order_by(PaidOrder.scheduled_for)
    return [OrderInClosure(ref=row["public_id"], ticket_number=row["ticket_number"],
                           slot=row["scheduled_for"], customer_name=row["customer_name"],
                           total_amount=row["total_amount"], currency=row["currency"],
                           status=row["status"]) for row in rows]


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
    hits = await orders_inside(restaurant, starts_on, ends_on)
    confirmed = {ref.strip() for ref in str(form.get(CONFIRM_FIELD, "")).split(",")}
    # Asked again when an order was booked inside since the list was shown.
    if hits and not {hit.ref for hit in hits} <= confirmed:
        if clash := await _overlapping(int(restaurant.id), starts_on, ends_on):
            raise FormInvalid({"starts_on": _clash_message(clash)}, values)
        raise ClosureHitsOrders(hits, values)
    async with DB.transaction():
        # One closure per day: the restaurant's row is locked so two forms sent together
        # cannot both find the days free.
        await Restaurant.raw("SELECT id FROM restaurant WHERE id = {} FOR UPDATE",
                             restaurant.id)
        if clash := await _overlapping(int(restaurant.id), starts_on, ends_on):
            raise FormInvalid({"starts_on": _clash_message(clash)}, values)
        await RestaurantClosure.insert(RestaurantClosure(
            restaurant=restaurant.id, starts_on=starts_on, ends_on=ends_on, reason=reason,
            created_at=datetime.now(UTC)))
    log.info("closure added", restaurant=restaurant.slug, by=by, starts_on=str(starts_on),
             ends_on=str(ends_on), orders_to_reject=len(hits))
    return [hit.ref for hit in hits
            if await _reject(restaurant, hit, reason=reason or CLOSED_REASON, by=by,
                             redis=redis)]


async def _reject(restaurant: Restaurant, order: OrderInClosure, *, reason: str, by: str,
                  redis: ArqRedis | None) -> bool:
    """Reject one order the closure covers the kitchen's way; False when it moved on (e.g.
    completed on another screen meanwhile) and was left alone."""
    try:
        if order.status == "ready":  # past rejecting: its money goes back in full
            await partial_refunds.refund_whole(redis or await shared_redis(), order.ref, by=by,
                                               reason=reason)
        else:
            await lifecycle.apply_action(order.ref, "reject", actor=by, reason=reason,
                                         restaurant_id=int(restaurant.id), redis=redis)
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
