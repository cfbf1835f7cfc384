"""The checkout's "When?": a day select, then a time select with that day's slots.

One select of every slot grew past what a phone can scroll (a restaurant that takes orders
60 days ahead offers thousands), so the form names the day first and lists the times of
that day only. A change of day re-renders the form (htmx; a "Show times" button without
JavaScript). The order still carries one `scheduled_for`, as the API takes it; the day is
only the form's way there, and a time from another day than the one shown is refused
rather than placed for a day the diner did not pick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.infra import i18n
from app.infra.i18n import N_
from app.orders.cart import CartForm
from app.restaurants.opening import OrderWindow, SlotDay, slots_by_day
from app.templating import zone

DAY_FIELD = "schedule_day"
TIME_FIELD = "scheduled_for"
CHOOSE_TIME = N_("Please choose a time on the day you picked.")
MISMATCH = N_("The time you chose is not on the day you picked: please choose it again.")


@dataclass(frozen=True)
class TimeChoice:
    days: list[SlotDay]
    day: SlotDay | None  # whose times the time select lists; None: as soon as possible
    chosen: str  # the chosen slot as the form sends it ("" when none of `day`'s)


def _slot_day(value: str, timezone: str) -> str:
    """The local day (ISO) a slot the form sent falls on; "" if it is not a time."""
    try:
        return datetime.fromisoformat(value).astimezone(zone(timezone)).date().isoformat()
    except (TypeError, ValueError):
        return ""


def time_choice(window: OrderWindow, cart: CartForm, timezone: str, now: datetime
                ) -> TimeChoice:
    """What the day and time selects show for this form."""
    days = slots_by_day(window.slots, timezone, now)
    by_iso = {slot_day.day.isoformat(): slot_day for slot_day in days}
    chosen = cart.field(TIME_FIELD).strip()
    # The day select decides once the form has one; a form without it (the first render,
    # or a post that names only the time) shows the chosen time's day.
    wanted = cart.fields.get(DAY_FIELD)
    wanted = _slot_day(chosen, timezone) if wanted is None else wanted.strip()
    day = by_iso.get(wanted)
    if day is None and not window.asap and days:
        day = days[0]  # closed or paused now: later is the only choice
    if day is None or chosen not in {slot.isoformat() for slot in day.slots}:
        chosen = ""
    return TimeChoice(days, day, chosen)


def unchosen_time(cart: CartForm, timezone: str) -> str:
    """A message when the time the form sends is not on the day its day select shows ("":
    as soon as possible), else "". Without JavaScript a diner can change the day and place
    the order before the times follow."""
    wanted = cart.fields.get(DAY_FIELD)
    if wanted is None:
        return ""  # a form that names only the time (or none): intake checks it
    chosen = cart.field(TIME_FIELD).strip()
    if wanted.strip() and not chosen:
        return i18n.gettext(CHOOSE_TIME)
    if chosen and _slot_day(chosen, timezone) != wanted.strip():
        return i18n.gettext(MISMATCH)
    return ""
