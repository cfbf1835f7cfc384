"""Rebuild a temp order from its Checkout Session when Redis no longer has it (expired,
evicted, flushed): metadata carries the snapshot, line items carry names and prices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import stripe

from app.orders.models import Customer, OrderLine, TempOrder
from app.payments.stripe_gateway import StripeGateway, metadata_of
from app.restaurants.tables import Restaurant


class CannotRebuild(Exception):
    """The session does not carry enough to name a restaurant and an order id."""


def _snapshot(metadata: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(metadata.get("snapshot") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def rebuild_temp_order(gateway: StripeGateway, session: stripe.checkout.Session
                             ) -> TempOrder:
    metadata = metadata_of(session)
    temp_id = metadata.get("temp_order_id") or session.client_reference_id or ""
    restaurant = await Restaurant.objects().get(
        Restaurant.slug == metadata.get("restaurant", ""))
    if not temp_id or restaurant is None:
        raise CannotRebuild(f"session {session.id} names no known restaurant/order")
    snapshot = _snapshot(metadata)
    items = await gateway.list_line_items(session.id, order_ref=temp_id)
    extras = snapshot.get("i") or []
    order_allergy, line_allergies = _allergies(snapshot)
    lines = []
    for index, item in enumerate(items):
        menu_item_id, notes = None, ""
        if index < len(extras) and isinstance(extras[index], list) and len(extras[index]) >= 3:
            menu_item_id, notes = extras[index][0], str(extras[index][2] or "")
        unit = item.price.unit_amount if item.price and item.price.unit_amount is not None \
            else item.amount_total // max(item.quantity or 1, 1)
        lines.append(OrderLine(menu_item_id=menu_item_id, name=item.description or "Item",
                               unit_amount=unit, quantity=item.quantity or 1, notes=notes,
                               allergy=line_allergies[index] if index < len(line_allergies)
                               else ""))
    created = snapshot.get("c") or session.created
    details = session.customer_details
    email = session.customer_email or (details.email if details else None) or ""
    return TempOrder(
        id=temp_id, restaurant_id=restaurant.id, restaurant_slug=restaurant.slug,
        restaurant_name=restaurant.name, currency=(session.currency or restaurant.currency),
        capture_mode=restaurant.capture_mode, prep_minutes=restaurant.default_prep_minutes,
        lines=lines, total_amount=sum(line.line_total for line in lines),
        customer=Customer(name=snapshot.get("n") or (details.name if details else "") or email,
                          email=email, phone=snapshot.get("p") or ""),
        fulfillment=snapshot.get("f") or "pickup",
        created_at=datetime.fromtimestamp(int(created), UTC),
        delivery_address=snapshot.get("a") or "", table_label=snapshot.get("t") or "",
        notes=snapshot.get("o") or "", checkout_session_id=session.id, allergy=order_allergy,
    )


def _allergies(snapshot: dict[str, Any]) -> tuple[str, list[str]]:
    """The snapshot's allergy flags (`y`: [order allergy, [line allergies]]), if any."""
    value = snapshot.get("y")
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], list):
        return "", []
    return str(value[0] or ""), [str(item or "") for item in value[1]]
