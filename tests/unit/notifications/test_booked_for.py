"""A booked order's slot in its emails' subjects names its day by date: a subject outlives
the day it was sent ("booked for tomorrow 20:00", read the next morning, named the wrong day;
an outside try)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.infra import i18n
from app.notifications.compose import booked_for
from app.orders.models import Customer, OrderLine, OrderView


def booked(slot: datetime, paid: datetime) -> OrderView:
    return OrderView(
        id="TEMP-bookedfor123", status="paid", restaurant_id=1, restaurant_slug="demo",
        restaurant_name="Demo Bistro", currency="eur",
        lines=[OrderLine(menu_item_id=1, name="Burrata", unit_amount=1150, quantity=1)],
        total_amount=1150, customer=Customer(name="Ada", email="ada@diner-mail.com"),
        fulfillment="pickup", submitted_at=paid, paid_at=paid, scheduled_for=slot)


def test_the_slot_is_named_by_its_date_even_tomorrow_or_today() -> None:
    paid = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)  # Sun 6 Dec, 18:00 in Berlin
    tomorrow = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
    today = datetime(2026, 12, 6, 19, 30, tzinfo=UTC)
    assert booked_for(booked(tomorrow, paid), "Europe/Berlin") == "Mon 7 Dec 20:00 (CET)"
    assert booked_for(booked(today, paid), "Europe/Berlin") == "Sun 6 Dec 20:30 (CET)"
    with i18n.use("de"):
        assert booked_for(booked(tomorrow, paid), "Europe/Berlin") == "Mo. 7. Dez. 20:00 (CET)"


def test_an_order_for_now_has_no_slot() -> None:
    paid = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    order = booked(paid, paid)
    order.scheduled_for = None
    assert booked_for(order, "Europe/Berlin") == ""
