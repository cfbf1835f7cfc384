"""When a diner can order: the restaurant's hours and closures (app/restaurants/hours.py)
with its own switches (accepting orders, the kitchen's pause and busy time), as the menu, the
checkout and intake all read them. `OrderWindow` says whether "as soon as possible" is open
now, what the menu should say when it is not, and which slots can be scheduled."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from babel import dates as babel_dates

from app.infra import i18n
from app.infra.i18n import N_
from app.restaurants import hours
from app.restaurants.availability import is_paused
from app.restaurants.tables import RestaurantClosure
from app.templating import day_label, local_clock, zone

# A scheduled order must be paid before the kitchen starts it (slot - prep), so the first
# slot leaves the diner this long to pay on top of the prep (and busy) time.
PAY_WINDOW_MINUTES = 10
# Manual capture holds the diner's card until the kitchen accepts, and Stripe cancels a hold 7
# days after payment: a booking accepted later could not be charged. So such a restaurant
# takes bookings at most this many whole days ahead (`hours.horizon`: every slot less than 6
# days after the order, so paid), leaving the kitchen a day to accept before the hold lapses.
HOLD_DAYS = 7
MANUAL_CAPTURE_DAYS = 5


def booking_days(restaurant: Any) -> int:
    """How many days ahead diners may book: the restaurant's `schedule_days`, capped at
    MANUAL_CAPTURE_DAYS in manual-capture mode (the owner's setting is kept for automatic)."""
    days = int(restaurant.schedule_days)
    return min(days, MANUAL_CAPTURE_DAYS) if restaurant.capture_mode == "manual" else days


def lead_minutes(restaurant: Any) -> int:
    """How far ahead the first slot is: prep + the kitchen's busy time + time to pay."""
    return int(restaurant.default_prep_minutes + restaurant.busy_minutes + PAY_WINDOW_MINUTES)


@dataclass(frozen=True)
class OrderWindow:
    asap: bool  # an order for as soon as possible is taken now
    notice: str  # why not, for the diner: "Opens today at 17:30" ("" when open)
    slots: list[datetime] = field(default_factory=list)  # UTC, choosable now

    @property
    def can_schedule(self) -> bool:
        return bool(self.slots)


def schedule_of(restaurant: Any, closures: list[hours.Closure]) -> hours.Schedule:
    """`restaurant`: anything with `timezone` and `weekly_hours` (a row or intake's view)."""
    raw = restaurant.weekly_hours
    if isinstance(raw, str):  # Piccolo and asyncpg hand JSONB back as text
        raw = json.loads(raw or "[]")
    return hours.Schedule(restaurant.timezone, hours.from_rows(raw), tuple(closures))


async def closures_of(restaurant_id: int, *, today: date | None = None) -> list[hours.Closure]:
    """The closures that have not ended (yesterday's kept: a zone ahead of UTC is there)."""
    since = (today or datetime.now(UTC).date()) - timedelta(days=1)
    rows = await RestaurantClosure.select(
        RestaurantClosure.starts_on, RestaurantClosure.ends_on, RestaurantClosure.reason
    ).where((RestaurantClosure.restaurant == restaurant_id)
            & (RestaurantClosure.ends_on >= since)).order_by(RestaurantClosure.starts_on)
    return [hours.Closure(row["starts_on"], row["ends_on"], row["reason"]) for row in rows]


def _weekday(local: datetime) -> str:
    # Translators: a Babel (CLDR) pattern for the weekday a closed restaurant opens, "Mon".
    return babel_dates.format_date(local, i18n.gettext("EEE"), locale=i18n.locale())


def opening_text(schedule: hours.Schedule, now: datetime, after: datetime | None = None) -> str:
    """"Opens today at 17:30", "Opens tomorrow at 11:30", "Closed until Mon 11:30 (holiday)",
    in the current language (a diner's page settles it; the API's stays English). `after`:
    the opening after that moment (the end of an opening or of a pause), still said from
    `now`'s day."""
    moment = after or now
    closure = hours.closure_at(schedule, moment)
    reason = f" ({closure.reason})" if closure and closure.reason else ""
    opening = hours.next_opening(schedule, moment)
    if opening is None:
        return i18n.gettext(N_("Closed for now")) + reason
    local, today = opening.astimezone(schedule.zone), now.astimezone(schedule.zone).date()
    clock = local_clock(opening, schedule.timezone)
    if local.date() == today and not reason:
        return i18n.gettext(N_("Opens today at %(time)s")) % {"time": clock}
    if local.date() == today + timedelta(days=1) and not reason:
        return i18n.gettext(N_("Opens tomorrow at %(time)s")) % {"time": clock}
    return i18n.gettext(N_("Closed until %(day)s %(time)s")) % {
        "day": _weekday(local), "time": clock} + reason


def prep_minutes(restaurant: Any) -> int:
    """Minutes the kitchen needs now: its usual prep plus its busy time."""
    return int(restaurant.default_prep_minutes + restaurant.busy_minutes)


@dataclass(frozen=True)
class AsapTime:
    """Whether an order for as soon as possible is taken `now`. Such an order is taken until
    `last_order` (the opening's end less the kitchen's prep time), so the food is ready by
    closing; its payment link closes at `closes_at` (`TempOrder.open_until`)."""

    now: datetime
    closes_at: datetime | None  # when the current opening ends; None: closed now
    last_order: datetime | None = None

    @property
    def taken(self) -> bool:
        return self.last_order is not None and self.now <= self.last_order


def asap_time(schedule: hours.Schedule, now: datetime, prep: int) -> AsapTime:
    closes = hours.open_until(schedule, now)
    if closes is None:
        return AsapTime(now, None)
    return AsapTime(now, closes, closes - timedelta(minutes=prep))


def last_orders_text(schedule: hours.Schedule, asap: AsapTime) -> str:
    """"Last orders were at 22:45. Opens tomorrow at 12:00", in the current language."""
    assert asap.closes_at is not None and asap.last_order is not None
    return (i18n.gettext(N_("Last orders were at %(time)s.")) % {
        "time": local_clock(asap.last_order, schedule.timezone)}
        + " " + opening_text(schedule, asap.now, after=asap.closes_at))


def pause_text(restaurant: Any, schedule: hours.Schedule, now: datetime) -> str:
    """"Bistro has paused new orders until 19:30", or, when it is closed by then, when it
    next opens: a pause for the rest of the day ends at midnight, long after closing."""
    until = restaurant.paused_until
    if hours.is_open(schedule, until):
        return i18n.gettext(N_("%(restaurant)s has paused new orders until %(time)s.")) % {
            "restaurant": restaurant.name, "time": local_clock(until, schedule.timezone)}
    return i18n.gettext(N_("%(restaurant)s has paused new orders: %(opening)s.")) % {
        "restaurant": restaurant.name, "opening": opening_text(schedule, now, after=until)}


def order_window(restaurant: Any, schedule: hours.Schedule, now: datetime | None = None
                 ) -> OrderWindow:
    """`restaurant`: live_since, accepting_orders, paused_until, busy_minutes, default_prep_minutes,
    schedule_days, capture_mode, timezone (a row or intake's view of one)."""
    now = now or datetime.now(UTC)
    lead = lead_minutes(restaurant)
    if restaurant.live_since is None:  # still being set up (app/restaurants/launch.py)
        return OrderWindow(False, i18n.gettext(N_("%(restaurant)s is not taking orders "
                                                  "yet.")) % {"restaurant": restaurant.name})
    if not restaurant.accepting_orders:
        return OrderWindow(False, i18n.gettext(N_("%(restaurant)s is not taking orders right "
                                                  "now.")) % {"restaurant": restaurant.name})
    paused = is_paused(restaurant.paused_until, now)
    slots = hours.slots(schedule, now, lead_minutes=lead, days_ahead=booking_days(restaurant),
                        not_before=restaurant.paused_until if paused else None)
    if paused:
        return OrderWindow(False, pause_text(restaurant, schedule, now), slots)
    asap = asap_time(schedule, now, prep_minutes(restaurant))
    if asap.closes_at is None:
        return OrderWindow(False, f"{opening_text(schedule, now)}.", slots)
    if not asap.taken:
        return OrderWindow(False, f"{last_orders_text(schedule, asap)}.", slots)
    return OrderWindow(True, "", slots)


@dataclass(frozen=True)
class SlotDay:
    """One local day of slots, as the checkout's day select offers it."""
    day: date
    label: str  # "Today", "Tomorrow" or "Sat 6 Dec", in the current language
    slots: list[datetime]


def slots_by_day(slots: list[datetime], timezone: str, now: datetime | None = None
                 ) -> list[SlotDay]:
    """The slots grouped by local day, labelled "Today", "Tomorrow" or "Sat 6 Dec"."""
    tz = zone(timezone)
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    groups: dict[date, list[datetime]] = {}
    for slot in slots:
        groups.setdefault(slot.astimezone(tz).date(), []).append(slot)
    return [SlotDay(day, day_label(day, today), members) for day, members in groups.items()]
