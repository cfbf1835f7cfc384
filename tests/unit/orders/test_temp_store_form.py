"""The stored form of a temp order ends with its `link_email` field: intake's cap script
(app/orders/unpaid_caps.py) swaps that tail to store an order past its address's cap as not
emailed, in the one write that stores it. A field added after `link_email`, or a change of
encoder, must fail here, not in intake."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from app.orders.models import Customer, OrderLine, TempOrder
from app.orders.temp_store import LINK_EMAIL_TAIL, NO_LINK_EMAIL_TAIL, TempOrderStore


def new_order() -> TempOrder:
    return TempOrder(
        id="TEMP-abc123def456", restaurant_id=1, restaurant_slug="demo",
        restaurant_name="Demo", currency="eur", capture_mode="automatic", prep_minutes=15,
        lines=[OrderLine(menu_item_id=1, name='say "link_email":true}', unit_amount=1100,
                         quantity=1)],
        total_amount=1100, customer=Customer(name="Ada", email="ada@example.com"),
        fulfillment="pickup", created_at=datetime(2026, 12, 1, tzinfo=UTC))


def test_a_stored_order_ends_with_its_link_email_tail() -> None:
    _, value = TempOrderStore(None, 60).stored_form(new_order())  # type: ignore[arg-type]
    assert value.endswith(LINK_EMAIL_TAIL)
    quiet = value[:-len(LINK_EMAIL_TAIL)] + NO_LINK_EMAIL_TAIL  # what the script stores
    stored = msgspec.json.decode(quiet, type=TempOrder)
    assert stored.link_email is False
    assert stored.lines[0].name == 'say "link_email":true}'  # only the tail changed
