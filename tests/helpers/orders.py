"""Test factory for paid orders: inserts PaidOrder + OrderItems directly (no Stripe)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from app.orders.tables import OrderItem, PaidOrder
from app.restaurants.tables import Restaurant

DEFAULT_ITEMS = [("Margherita pizza", 1100, 2, "no basil"), ("Lemonade", 450, 1, "")]


async def make_paid_order(restaurant_slug: str = "demo", status: str = "paid",
                          items: list[tuple[str, int, int, str]] | None = None,
                          **fields: Any) -> PaidOrder:
    """A paid order of `restaurant_slug` in `status`; `fields` override any PaidOrder column."""
    restaurant = await Restaurant.objects().get(Restaurant.slug == restaurant_slug)
    assert restaurant is not None, restaurant_slug
    ticket = restaurant.last_ticket_number + 1
    await Restaurant.update({Restaurant.last_ticket_number: ticket}).where(
        Restaurant.slug == restaurant_slug)
    now = datetime.now(UTC)
    lines = items if items is not None else DEFAULT_ITEMS
    ref = "TEMP-" + secrets.token_hex(12)
    values: dict[str, Any] = {
        "public_id": ref, "restaurant": restaurant.id, "ticket_number": ticket,
        "stripe_checkout_session_id": "cs_test_" + secrets.token_hex(8),
        "stripe_payment_intent_id": "pi_test_" + secrets.token_hex(8),
        "status": status, "customer_name": "Ada Lovelace", "customer_email": "ada@example.test",
        "fulfillment": "pickup", "currency": restaurant.currency,
        "total_amount": sum(amount * qty for _, amount, qty, _ in lines),
        "capture_mode": restaurant.capture_mode,
        "submitted_at": now - timedelta(minutes=1), "paid_at": now, "updated_at": now,
    }
    values["amount_charged"] = values["total_amount"]
    values["currency_charged"] = values["currency"]
    if status in ("accepted", "preparing", "ready", "completed"):
        values.setdefault("accepted_at", now)
        values.setdefault("prep_minutes", 15)
        values.setdefault("promised_at", now + timedelta(minutes=15))
    if status == "completed":
        values["completed_at"] = now
    values.update(fields)
    order = PaidOrder(**values)
    await order.save()
    for name, amount, quantity, notes in lines:
        await OrderItem(paid_order=order.id, name=name, unit_amount=amount, quantity=quantity,
                        notes=notes).save()
    fresh = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert fresh is not None
    return fresh
