"""Order intake: validate against the menu in Postgres, keep a temp order in Redis, create
the Stripe payment link, queue the confirmation email. One service for the JSON API and
the HTML form. Validation happens before anything is written."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any, NamedTuple

from arq.connections import ArqRedis

from app.infra import db
from app.infra.logging import get_logger
from app.infra.unavailable import DEPENDENCY_ERRORS
from app.orders import pricing, slot_cap
from app.orders.choices import ChoiceInvalid, Group, Option, choosable, choose
from app.orders.field_checks import customer_problems, details_problems
from app.orders.models import Customer, OrderLine, OrderStatus, TempOrder, with_tax
from app.orders.payment_links import attach_new_payment_link, begin_first_attempt
from app.orders.schemas import OrderIn
from app.orders.temp_store import UNFINISHED_TTL_S, new_temp_id
from app.orders.unpaid_caps import TooManyUnpaid, count_unpaid, uncount
from app.orders.views import temp_store
from app.payments import snapshot
from app.payments.charge_limits import largest_order, minimum_charge
from app.payments.stripe_gateway import get_gateway
from app.platform.metrics import ORDERS_SUBMITTED
from app.restaurants import hours
from app.restaurants.availability import is_paused
from app.restaurants.fulfillment import MODES, no_longer_offered, not_offered
from app.restaurants.opening import (
    HOLD_DAYS,
    asap_time,
    booking_days,
    lead_minutes,
    opening_text,
    schedule_of,
)
from app.settings import get_settings
from app.templating import format_money, local_clock

log = get_logger("orderpass.intake")


@dataclass
class IntakeError(Exception):
    """Field-by-field problems with an order; nothing was stored."""

    errors: dict[str, str] = field(default_factory=dict)
    status_code: int = 400

    def __str__(self) -> str:
        return "; ".join(f"{key}: {message}" for key, message in self.errors.items())


def _check_fulfillment(data: OrderIn, restaurant: MenuRestaurant,
                       errors: dict[str, str]) -> None:
    if data.fulfillment not in restaurant.fulfillment_modes:  # the restaurant's choice
        errors["fulfillment"] = not_offered(restaurant.name, data.fulfillment,
                                            restaurant.fulfillment_modes)
        return
    errors |= details_problems(data.fulfillment, data.delivery_address, data.table)


def _nul_fields(data: OrderIn) -> dict[str, str]:
    """Postgres text cannot hold NUL: such an order could be paid but never stored."""
    texts = {"restaurant": data.restaurant, "customer.name": data.customer.name,
             "customer.email": data.customer.email, "customer.phone": data.customer.phone,
             "notes": data.notes, "delivery_address": data.delivery_address,
             "table": data.table, "allergy": data.allergy,
             **{f"items[{index}].notes": item.notes for index, item in enumerate(data.items)},
             **{f"items[{index}].allergy": item.allergy
                for index, item in enumerate(data.items)}}
    return {key: "must not contain NUL characters" for key, value in texts.items()
            if "\x00" in value}


@dataclass(frozen=True)
class MenuRestaurant:
    """What intake needs of the restaurant an order is for."""

    id: int
    slug: str
    name: str
    currency: str
    capture_mode: str
    default_prep_minutes: int
    accepting_orders: bool
    paused_until: datetime | None = None
    busy_minutes: int = 0
    timezone: str = "UTC"
    tax_mode: str = pricing.TaxMode.INCLUDED
    tips_enabled: bool = True
    default_language: str = "en"
    weekly_hours: str = "[]"
    slot_capacity: int = 0
    schedule_days: int = 0
    closures: str = "[]"
    fulfillment_modes: tuple[str, ...] = MODES
    live_since: datetime | None = None  # None: still being set up (app/restaurants/launch.py)

    @property
    def prep_estimate(self) -> int:
        """Minutes the diner is told to expect: the usual prep plus the kitchen's busy time."""
        return self.default_prep_minutes + self.busy_minutes


@dataclass(frozen=True)
class MenuEntry:
    id: int
    name: str
    price_amount: int
    available: bool
    tax_rate: int = 0  # the item's VAT rate, or the restaurant's default
    groups: list[Group] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)  # in menu order


def _entry(row: list[Any]) -> MenuEntry:
    item_id, name, price, available, rate, groups, options = row
    return MenuEntry(item_id, name, price, available, rate,
                     [Group(*group) for group in groups],
                     [Option(option_id, group, name, delta, available, tuple(codes))
                      for option_id, group, name, delta, available, codes in options])


# The restaurant and the ordered menu items in one round trip (two ORM queries were a tenth
# of the web process's time per order).
_MENU_SQL = """
SELECT r.id, r.slug, r.name, r.currency, r.capture_mode, r.default_prep_minutes,
       r.accepting_orders, r.paused_until, r.busy_minutes, r.timezone, r.tax_mode,
       r.tips_enabled, r.default_language, r.weekly_hours::text, r.slot_capacity, r.schedule_days,
       r.fulfillment_modes, r.live_since,
       coalesce((SELECT json_agg(json_build_array(c.starts_on, c.ends_on, c.reason))
                 FROM restaurant_closure c
                 WHERE c.restaurant = r.id AND c.ends_on >= current_date - 1),
                '[]'::json)::text AS closures,
       coalesce((SELECT json_agg(json_build_array(m.id, m.name, m.price_amount, m.available,
                                                  coalesce(m.tax_rate, r.default_tax_rate),
            coalesce((SELECT json_agg(json_build_array(g.id, g.name, g.min_choices,
                                                       g.max_choices, g.required)
                                      ORDER BY g.position, g.id)
                      FROM modifier_group g WHERE g.menu_item = m.id), '[]'::json),
            coalesce((SELECT json_agg(json_build_array(o.id, o.modifier_group, o.name,
                                                       o.price_delta, o.available,
                                                       o.allergens)
                                      ORDER BY g.position, g.id, o.position, o.id)
                      FROM modifier_option o JOIN modifier_group g ON g.id = o.modifier_group
                      WHERE g.menu_item = m.id), '[]'::json)))
                 FROM menu_item m WHERE m.restaurant = r.id AND m.id = ANY($2::bigint[])
                   AND NOT m.hidden),
                '[]'::json) AS items
FROM restaurant r WHERE r.slug = $1
"""


async def _menu(slug: str, item_ids: list[int]) -> tuple[MenuRestaurant, dict[int, MenuEntry]]:
    rows = await db.fetch(_MENU_SQL, slug, item_ids)
    if not rows:
        raise IntakeError({"restaurant": f"no restaurant called {slug!r}"}, 404)
    row = dict(rows[0])
    items = json.loads(row.pop("items"))
    row["fulfillment_modes"] = tuple(row["fulfillment_modes"])
    return MenuRestaurant(**row), {entry[0]: _entry(entry) for entry in items}


@dataclass(frozen=True)
class Priced:
    """An order's lines with their VAT, and its tip (app/orders/pricing.py)."""

    lines: list[OrderLine]
    tip: int

    @property
    def total(self) -> int:
        """What Stripe charges: the goods with tax, and the tip."""
        return sum(line.gross_amount for line in self.lines) + self.tip


def _tip(data: OrderIn, restaurant: MenuRestaurant, lines: list[OrderLine]) -> int:
    """The diner's tip in minor units (0 for none); 422 naming `tip` when it breaks a rule."""
    choice = data.tip
    if choice is None:
        return 0
    if not restaurant.tips_enabled and ((choice.percent or 0) > 0 or (choice.amount or 0) > 0):
        # said first: "at most the price of the food" told a diner to tip less where no tip
        # can be given at all
        raise IntakeError({"tip": f"{restaurant.name} does not take tips online"}, 422)
    try:
        tip = pricing.tip_amount(subtotal=sum(line.line_total for line in lines),
                                 percent=choice.percent, amount=choice.amount,
                                 step=pricing.charge_step(restaurant.currency))
    except pricing.TipInvalid as error:
        raise IntakeError({"tip": str(error)}, 422) from None
    if tip and not restaurant.tips_enabled:
        raise IntakeError({"tip": f"{restaurant.name} does not take tips online"}, 422)
    return tip


def _check_accepting(restaurant: MenuRestaurant) -> None:
    """409 when the restaurant takes no orders at all: not live yet, or turned off."""
    if restaurant.live_since is None:  # implies not accepting (a CHECK): said as the menu does
        raise IntakeError({"restaurant": f"{restaurant.name} is not taking orders yet"}, 409)
    if not restaurant.accepting_orders:
        raise IntakeError({"restaurant": f"{restaurant.name} is not taking orders right now"},
                          409)


async def price_order(data: OrderIn) -> tuple[MenuRestaurant, Priced, str, When]:
    """Resolve the restaurant and menu lines; raise IntakeError naming every bad field at
    once (a diner fixed an empty name, then met the email, then the phone). Only what is
    about the restaurant, not the order (unknown, not taking orders, closed, paused), is
    said alone: nothing else in the order could change it. 422 when the time or the tip is
    all that is wrong, else 400."""
    errors = _nul_fields(data)
    if "restaurant" in errors:  # a slug Postgres cannot even look up
        raise IntakeError(errors)
    restaurant, menu = await _menu(data.restaurant,
                                   sorted({item.menu_item_id for item in data.items}))
    _check_accepting(restaurant)
    unprocessable: set[str] = set()  # the keys of 422 problems: a slot, the tip
    try:
        when = _when(data, restaurant)
    except IntakeError as error:
        if error.status_code != 422:
            raise
        errors |= error.errors
        unprocessable |= error.errors.keys()
        when = When(None)
    problems, email = customer_problems(data.customer.name, data.customer.email,
                                        data.customer.phone)
    errors |= {key: problem for key, problem in problems.items()
               if key not in errors}  # a NUL is said already
    _check_fulfillment(data, restaurant, errors)
    lines_named = len(errors)
    lines: list[OrderLine] = []
    for index, item in enumerate(data.items):
        menu_item = menu.get(item.menu_item_id)
        if menu_item is None:
            errors[f"items[{index}].menu_item_id"] = (
                f"item {item.menu_item_id} is not on {restaurant.name}'s menu")
        elif not menu_item.available or not choosable(menu_item.groups, menu_item.options):
            errors[f"items[{index}].menu_item_id"] = f"{menu_item.name} is sold out"
        else:
            try:
                modifiers = choose(menu_item.name, menu_item.groups, menu_item.options,
                                   item.modifiers)
            except ChoiceInvalid as error:
                errors[f"items[{index}].modifiers"] = str(error)
                continue
            lines.append(OrderLine(menu_item_id=menu_item.id, name=menu_item.name,
                                   unit_amount=menu_item.price_amount
                                   + sum(modifier.delta for modifier in modifiers),
                                   quantity=item.quantity, notes=item.notes.strip(),
                                   allergy=item.allergy.strip(), tax_rate=menu_item.tax_rate,
                                   modifiers=modifiers))
    tip = 0
    if len(errors) == lines_named:  # a tip is checked against the whole order's food
        try:
            tip = _tip(data, restaurant, lines)
        except IntakeError as error:
            errors |= error.errors
            unprocessable |= error.errors.keys()
    if errors:
        raise IntakeError(errors, 422 if errors.keys() <= unprocessable else 400)
    priced = Priced(with_tax(lines, restaurant.tax_mode), tip)
    if refused := charge_problem(priced.total, restaurant.currency):
        raise IntakeError({"total": refused}, 422)
    return restaurant, priced, email, when


def charge_problem(total: int, currency: str) -> str | None:
    """Why Stripe would refuse a payment link for `total` for good, in intake's words (the
    total charged: goods and tip), or None. Below the currency's minimum (`amount_too_small`)
    or above its maximum (`amount_too_large`; and what a paid order can hold): said now, not
    as a link that never comes."""
    minimum = minimum_charge(currency)
    if total < minimum:
        return (f"the order totals {format_money(total, currency)}; card payments must be at "
                f"least {format_money(minimum, currency)}")
    maximum = largest_order(currency)
    if total > maximum:
        return (f"the order totals {format_money(total, currency)}; card payments can be at "
                f"most {format_money(maximum, currency)}: split it into smaller orders")
    return None


# Said when manual capture caps the days ahead (app/restaurants/opening.py `booking_days`).
HOLD_LIMIT = ("choose a time at most %(days)s days ahead: the card is only authorised when "
              "you pay and charged when the kitchen accepts, and an authorisation lapses after "
              "%(hold)s days")


@functools.lru_cache(maxsize=1024)
def _schedule(timezone: str, weekly_hours: str, closures: str) -> hours.Schedule:
    """A restaurant's schedule from the text its row holds. Cached by that text: the same
    hours are parsed once, not per order, and an owner's edit is new text, so it is never
    served stale (a `Schedule` is immutable)."""
    return schedule_of(
        SimpleNamespace(timezone=timezone, weekly_hours=weekly_hours),
        [hours.Closure(date.fromisoformat(start), date.fromisoformat(end), str(reason))
         for start, end, reason in json.loads(closures)])


class When(NamedTuple):
    """When an order is for: `slot` (UTC), or None for as soon as possible, which is paid by
    `open_until` (the restaurant's current opening ends then; None: not within a day)."""

    slot: datetime | None
    open_until: datetime | None = None


def _when(data: OrderIn, restaurant: MenuRestaurant) -> When:
    """IntakeError naming `scheduled_for` (or `restaurant` while paused) when the order
    cannot be taken for the time it asks now."""
    return _slot_now(data.scheduled_for, restaurant)


def _slot_now(slot: datetime | None, restaurant: MenuRestaurant) -> When:
    now = datetime.now(UTC)
    schedule = _schedule(restaurant.timezone, restaurant.weekly_hours, restaurant.closures)
    if slot is None:
        if is_paused(restaurant.paused_until, now):
            # English around the opening (already in the diner's language), as the other
            # refusals: the checkout says them again in its language (form_messages)
            until = restaurant.paused_until
            assert until is not None
            said = (f"{restaurant.name} has paused new orders until "
                    f"{local_clock(until, restaurant.timezone)}" if hours.is_open(schedule, until)
                    else f"{restaurant.name} has paused new orders: "
                         f"{opening_text(schedule, now, after=until)}.")
            raise IntakeError({"restaurant": said}, 409)
        asap = asap_time(schedule, now, restaurant.prep_estimate)
        later = " Choose a time to order for later." if restaurant.schedule_days else ""
        if asap.closes_at is None:
            raise IntakeError({"scheduled_for": f"{restaurant.name} is closed now: "
                                                f"{opening_text(schedule, now)}.{later}"}, 409)
        if not asap.taken:  # the kitchen could not make it before closing
            assert asap.last_order is not None
            raise IntakeError({"scheduled_for": (
                f"{restaurant.name} takes no more orders now (last orders were at "
                f"{local_clock(asap.last_order, restaurant.timezone)}): "
                f"{opening_text(schedule, now, after=asap.closes_at)}.{later}")}, 409)
        closes = asap.closes_at
        return When(None, closes if closes < now + hours.OPEN_UNTIL_HORIZON else None)
    if slot.tzinfo is None:
        raise IntakeError({"scheduled_for": "give the time with its offset, e.g. "
                                            "2026-12-02T19:30:00+01:00"}, 422)
    try:
        slot = slot.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset: no such moment in UTC
        raise IntakeError({"scheduled_for": "choose a time from the restaurant's slots"},
                          422) from None
    days = booking_days(restaurant)
    problem = hours.slot_problem(
        schedule, slot, now, lead_minutes=lead_minutes(restaurant), days_ahead=days,
        not_before=restaurant.paused_until if is_paused(restaurant.paused_until, now) else None)
    if problem and days < restaurant.schedule_days and slot >= hours.horizon(schedule, now,
                                                                             days):
        problem = HOLD_LIMIT % {"days": days, "hold": HOLD_DAYS}  # say why it is fewer days
    if problem:
        raise IntakeError({"scheduled_for": problem}, 422)
    return When(slot)


def _still_taking(restaurant: MenuRestaurant, slot: datetime | None) -> When:
    """IntakeError (409) when the restaurant would not take an order for `slot` now (None:
    as soon as possible): not taking orders, paused, closed, the slot no longer offered."""
    _check_accepting(restaurant)
    try:
        return _slot_now(slot, restaurant)
    except IntakeError as error:
        raise IntakeError(error.errors, 409) from None


async def renewal_refusal(restaurant_slug: str, slot: datetime | None) -> str | None:
    """Why a new payment link for an unpaid order for `slot` would be refused now by when it
    is for, in intake's words (its dishes are checked when the link is asked for); None when
    it would not. The expired order's page offers the new link only then."""
    try:
        restaurant, _menu_now = await _menu(restaurant_slug, [])
        _still_taking(restaurant, slot)
    except IntakeError as error:
        return next(iter(error.errors.values()), None)
    return None


async def recheck(order: TempOrder) -> None:
    """An unpaid order as the menu takes it now, before a new payment link is made for it:
    the restaurant still takes orders (not paused, open, or the slot still offered) and
    every dish and option is still on the menu and not sold out, and Stripe would charge its
    total. IntakeError (409) naming each problem in intake's words; the order's prices are
    kept (what the diner agreed)."""
    restaurant, menu = await _menu(order.restaurant_slug,
                                   sorted({line.menu_item_id for line in order.lines
                                           if line.menu_item_id is not None}))
    when = _still_taking(restaurant, order.scheduled_for)
    order.open_until = when.open_until  # a new link for now is paid by this opening's end
    errors: dict[str, str] = {}
    if order.fulfillment not in restaurant.fulfillment_modes:  # turned off since
        errors["fulfillment"] = no_longer_offered(restaurant.name, order.fulfillment)
    for index, line in enumerate(order.lines):
        entry = menu.get(line.menu_item_id) if line.menu_item_id is not None else None
        if entry is None:
            errors[f"items[{index}].menu_item_id"] = (
                f"{line.name} is not on {restaurant.name}'s menu any more")
        elif not entry.available:
            errors[f"items[{index}].menu_item_id"] = f"{entry.name} is sold out"
        else:
            options = {option.id: option for option in entry.options}
            gone = [modifier.name for modifier in line.modifiers if modifier.option is not None
                    and not getattr(options.get(modifier.option), "available", False)]
            if gone:
                errors[f"items[{index}].modifiers"] = f"{gone[0]} is sold out"
    # An order taken before intake refused totals over Stripe's maximum: its link never comes.
    if problem := charge_problem(order.total_amount, order.currency):
        errors["total"] = problem
    if errors:
        raise IntakeError(errors, 409)


async def submit_order(redis: ArqRedis, data: OrderIn, client: str = "",
                       language: str | None = None) -> TempOrder:
    """`client`: the caller's address, for the cap on open unpaid orders per address.
    `language`: the diner's (the checkout page's); the API's orders take the restaurant's
    default unless they name one."""
    restaurant, priced, email, when = await price_order(data)
    scheduled_for = when.slot
    lines = priced.lines
    now = datetime.now(UTC)
    order = TempOrder(
        id=new_temp_id(), restaurant_id=restaurant.id, restaurant_slug=restaurant.slug,
        restaurant_name=restaurant.name, currency=restaurant.currency,
        capture_mode=restaurant.capture_mode, prep_minutes=restaurant.prep_estimate,
        lines=lines, total_amount=priced.total, tax_mode=restaurant.tax_mode,
        tip_amount=priced.tip,
        customer=Customer(name=data.customer.name.strip(), email=email,
                          phone=data.customer.phone.strip()),
        fulfillment=data.fulfillment, created_at=now,
        delivery_address=data.delivery_address.strip() if data.fulfillment == "delivery" else "",
        table_label=data.table.strip() if data.fulfillment == "dine_in" else "",
        notes=data.notes.strip(), status=OrderStatus.AWAITING_PAYMENT,
        allergy=data.allergy.strip(), scheduled_for=scheduled_for, open_until=when.open_until,
        language=language or data.language or restaurant.default_language or "en",
    )
    try:  # a paid order must be rebuildable from its Checkout Session: it must fit
        snapshot.encode(order)
    except snapshot.SnapshotTooLarge:
        raise IntakeError({"items": "this order has too many notes and options to pay in one "
                                    "go: please split it into two orders"}, 422) from None
    # The temp order is written before Stripe is called (if Redis is down, nothing is made
    # and the client gets a 503), but only for UNFINISHED_TTL_S: a copy whose payment link
    # was never saved (this process died, Redis went away mid-flight) leaves by itself.
    # Saving the link stores it for the full TTL. It is written with its first Checkout
    # Session request (its idempotency key) and in the same Redis call as its count against
    # the unpaid caps: one round trip, and a refused order writes nothing.
    settings = get_settings()
    begin_first_attempt(order, now)
    store = temp_store(redis)
    key, value = store.stored_form(order)
    client = client or "unknown"
    try:
        emailed = await count_unpaid(redis, store, order.id, client=client, email=email,
                                     until=now.timestamp() + settings.payment_link_minutes * 60,
                                     per_client=settings.unpaid_orders_per_ip,
                                     per_email=settings.unpaid_orders_per_email,
                                     write=(key, value, UNFINISHED_TTL_S))
    except TooManyUnpaid as error:
        log.warning("order refused: unpaid cap", field=error.field, restaurant=restaurant.slug)
        raise IntakeError({error.field: str(error)}, 429) from None
    if not emailed:
        # Past the per-address cap the order is taken (whoever typed the address in must not
        # lock its owner out) and its link answered to the submitter, but not emailed. The
        # stored copy says so already (`count_unpaid` wrote it so): the worker's deferred
        # link and a renewal read that copy, not this one.
        order.link_email = False
        log.warning("payment-link email not sent: open orders for this address were emailed "
                    "already", order_id=order.id, restaurant=restaurant.slug,
                    limit=settings.unpaid_orders_per_email)
    if scheduled_for is not None and restaurant.slot_capacity:
        taken = await slot_cap.reserve(redis, restaurant.id, scheduled_for, order.id,
                                       hold_until=order.pay_by or scheduled_for,
                                       capacity=restaurant.slot_capacity)
        if not taken:
            await uncount(redis, order.id, client=client, email=email, delete=key)
            log.info("order refused: slot full", restaurant=restaurant.slug,
                     slot=scheduled_for.isoformat())
            raise IntakeError({"scheduled_for": "that time is fully booked; please choose "
                                                "another"}, 409)
    ORDERS_SUBMITTED.labels(restaurant=restaurant.slug).inc()
    try:
        # The funnel's "submitted" is counted with the link's outcome: one write, not two.
        linked = await attach_new_payment_link(redis, order, on_failure="defer",
                                               submitted=True, stored=True)
    except DEPENDENCY_ERRORS:
        await _abandon(order)
        raise  # 503 with Retry-After (app/infra/unavailable.py)
    log.info("order submitted", order_id=order.id, restaurant=restaurant.slug,
             total=order.total_amount, tip=order.tip_amount, lines=len(lines),
             session=linked.checkout_session_id, status=linked.status)
    return linked


async def _abandon(order: TempOrder) -> None:
    """Redis failed after the Checkout Session was made, before its link was saved: the
    client is told to retry, so that session must never be paid. Expired at Stripe now;
    the Redis copy expires on its own (UNFINISHED_TTL_S); no email row was written."""
    if not order.checkout_session_id:
        return
    log.warning("order abandoned: link not saved", order_id=order.id,
                session=order.checkout_session_id)
    try:
        await get_gateway().expire_checkout_session(order.checkout_session_id,
                                                    order_ref=order.id)
    except Exception as error:  # it expires at its expires_at anyway; nobody has its URL
        log.warning("abandoned session not expired", order_id=order.id, error=str(error))
