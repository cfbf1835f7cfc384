"""The kitchen's ticket ordering rule and on-time/at-risk/late grading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.kitchen.priority import due_at, prioritise, timing

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass
class T:
    name: str
    paid_at: datetime
    promised_at: datetime | None = None
    fulfillment: str = "pickup"
    ticket_number: int = 0


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def names(tickets: list[T]) -> list[str]:
    return [t.name for t in prioritise(tickets, NOW, default_prep_minutes=15)]


def test_overdue_first_even_if_promised_later_than_a_fresh_order_was_paid() -> None:
    late = T("late", paid_at=NOW - minutes(30), promised_at=NOW - minutes(1))
    soon = T("soon", paid_at=NOW - minutes(2), promised_at=NOW + minutes(3))
    assert names([soon, late]) == ["late", "soon"]


def test_most_overdue_first_then_earliest_promise() -> None:
    a = T("a", paid_at=NOW - minutes(20), promised_at=NOW - minutes(2))
    b = T("b", paid_at=NOW - minutes(20), promised_at=NOW - minutes(8))
    c = T("c", paid_at=NOW - minutes(1), promised_at=NOW + minutes(20))
    d = T("d", paid_at=NOW - minutes(1), promised_at=NOW + minutes(5))
    assert names([a, c, d, b]) == ["b", "a", "d", "c"]


def test_unaccepted_order_is_due_after_default_prep() -> None:
    waiting = T("waiting", paid_at=NOW - minutes(16))  # due 1 min ago
    assert due_at(waiting, 15) == NOW - minutes(1)
    accepted = T("accepted", paid_at=NOW - minutes(5), promised_at=NOW + minutes(1))
    assert names([accepted, waiting]) == ["waiting", "accepted"]


def test_same_promise_breaks_ties_by_fulfilment_then_age_then_ticket() -> None:
    due = NOW + minutes(10)
    dine = T("dine", paid_at=NOW - minutes(9), promised_at=due, fulfillment="dine_in")
    pick = T("pick", paid_at=NOW - minutes(1), promised_at=due, fulfillment="pickup")
    deliv = T("deliv", paid_at=NOW - minutes(2), promised_at=due, fulfillment="delivery")
    old = T("old", paid_at=NOW - minutes(5), promised_at=due, fulfillment="pickup")
    t2 = T("t2", paid_at=NOW - minutes(5), promised_at=due, fulfillment="pickup",
           ticket_number=2)
    assert names([dine, pick, t2, deliv, old]) == ["deliv", "old", "t2", "pick", "dine"]


def test_prioritise_is_pure_and_stable() -> None:
    tickets = [T(str(i), paid_at=NOW - minutes(i)) for i in range(5)]
    before = list(tickets)
    assert names(tickets) == ["4", "3", "2", "1", "0"]
    assert tickets == before


def test_timing_grades() -> None:
    start, due = NOW - minutes(10), NOW + minutes(10)  # 20-minute window: at risk in last 5
    assert timing(start, due, NOW) == "on_time"
    assert timing(start, due, due - minutes(5)) == "at_risk"
    assert timing(start, due, due) == "late"
    # Short windows still get two minutes' warning.
    assert timing(NOW, NOW + minutes(4), NOW + minutes(2.5)) == "at_risk"
