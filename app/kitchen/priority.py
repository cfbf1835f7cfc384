"""Which ticket the kitchen should look at first: a pure, documented ordering rule.

The rule, most important first:

1. **Overdue first.** An order is overdue once its due time has passed. The due time is the
   time promised to the customer (`promised_at`, set on accept); before accept it is a
   scheduled order's slot (`scheduled_for`), else `paid_at + default prep minutes`, so an
   order nobody has accepted yet becomes urgent too.
2. **Then by due time**, earliest first (among overdue orders: the most overdue first).
3. **Then by fulfilment type**: delivery (a driver has a slot), then pickup (a customer is
   on the way), then dine-in (the guest is seated and can be told).
4. **Then by age**, oldest payment first; the ticket number breaks any remaining tie.

Because overdue tickets are exactly those with the earliest due times, rule 1 never reorders
what rule 2 already gives: the order depends on the tickets alone, not on the clock. That is
what lets a screen place one updated ticket (`screen_sort_key`, `data-sort` on each card,
static/js/kitchen.js) among the others without re-sorting the board as time passes.

`timing` grades a ticket against its due time for the colour of its age timer:
`late` once due ("late by N min", `late_minutes`), `at_risk` in the last `AT_RISK_FRACTION`
of its prep window (at least `AT_RISK_MIN_SECONDS`), `on_time` before that. These numbers
live here only: the kitchen page hands them to static/js/kitchen.js (`screen_thresholds`),
which re-grades tickets every second between frames, so server and screen never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

FULFILMENT_RANK = {"delivery": 0, "pickup": 1, "dine_in": 2}
AT_RISK_FRACTION = 0.25
AT_RISK_MIN_SECONDS = 120
# A new ticket shows its auto-reject countdown in its last minutes, and the alarm escalates.
AUTO_REJECT_WARN_SECONDS = 180


class Ticket(Protocol):
    @property
    def paid_at(self) -> datetime: ...
    @property
    def promised_at(self) -> datetime | None: ...
    @property
    def fulfillment(self) -> str: ...
    @property
    def ticket_number(self) -> int: ...


T = TypeVar("T", bound=Ticket)


def due_at(ticket: Ticket, default_prep_minutes: int) -> datetime:
    """When the ticket has to be ready: the promise made, else a scheduled order's slot,
    else payment + default prep."""
    if ticket.promised_at is not None:
        return ticket.promised_at
    scheduled: datetime | None = getattr(ticket, "scheduled_for", None)
    if scheduled is not None:
        return scheduled
    return ticket.paid_at + timedelta(minutes=default_prep_minutes)


def priority_key(ticket: Ticket, now: datetime,
                 default_prep_minutes: int) -> tuple[int, datetime, int, datetime, int]:
    due = due_at(ticket, default_prep_minutes)
    return (
        0 if due <= now else 1,
        due,
        FULFILMENT_RANK.get(ticket.fulfillment, len(FULFILMENT_RANK)),
        ticket.paid_at,
        ticket.ticket_number,
    )


def prioritise(tickets: Iterable[T], now: datetime, default_prep_minutes: int = 15) -> list[T]:
    """The tickets in the order the kitchen should work on them (see the module docstring)."""
    return sorted(tickets, key=lambda ticket: priority_key(ticket, now, default_prep_minutes))


def screen_sort_key(ticket: Ticket, default_prep_minutes: int) -> str:
    """`priority_key` without the clock-dependent part, as whole numbers a browser compares
    left to right: due (ms), fulfilment rank, paid (ms), ticket number."""
    due = due_at(ticket, default_prep_minutes)
    rank = FULFILMENT_RANK.get(ticket.fulfillment, len(FULFILMENT_RANK))
    return (f"{int(due.timestamp() * 1000)} {rank} {int(ticket.paid_at.timestamp() * 1000)} "
            f"{ticket.ticket_number}")


def timing(start: datetime, due: datetime, now: datetime) -> str:
    """`on_time`, `at_risk` or `late` for a ticket started at `start` and due at `due`."""
    if now >= due:
        return "late"
    window = (due - start).total_seconds()
    margin = max(AT_RISK_MIN_SECONDS, window * AT_RISK_FRACTION)
    return "at_risk" if (due - now).total_seconds() <= margin else "on_time"


def late_minutes(due: datetime, now: datetime) -> int:
    """Minutes past the due time, rounded up (0 until then): "late by N min"."""
    if now < due:
        return 0
    return max(1, -int(-(now - due).total_seconds() // 60))


def screen_thresholds() -> dict[str, float]:
    """The timing rules above as the kitchen screen's script reads them (milliseconds)."""
    return {"atRiskFraction": AT_RISK_FRACTION, "atRiskMinMs": AT_RISK_MIN_SECONDS * 1000,
            "autoRejectWarnMs": AUTO_REJECT_WARN_SECONDS * 1000}
