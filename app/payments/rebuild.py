"""Rebuild a temp order from its Checkout Session when Redis no longer has it (expired,
evicted, flushed): metadata carries the snapshot (`app.payments.snapshot`), line items carry
names and prices. A rebuild is complete, or says plainly what is missing: `review_note` names
the gap, and the paid order is flagged for review with it (shown on the kitchen ticket)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe

from app.orders.models import Customer, OrderLine, TempOrder
from app.payments import snapshot
from app.payments.stripe_gateway import StripeGateway, metadata_of
from app.restaurants.tables import Restaurant

LEGACY_CUT_RISK = 400  # a one-key snapshot this long may have had notes shortened to fit


class CannotRebuild(Exception):
    """The session does not carry enough to name a restaurant and an order id."""


def _read_snapshot(metadata: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """(the snapshot, what is missing from it)."""
    try:
        found = snapshot.decode(metadata)
    except snapshot.SnapshotUnreadable as error:
        return {}, [f"customer details, fulfilment and every note ({error})"]
    if "v" not in found and len(metadata.get("snapshot", "")) >= LEGACY_CUT_RISK:
        return found, ["notes may have been shortened (order placed before full snapshots)"]
    return found, []


async def rebuild_temp_order(gateway: StripeGateway, session: stripe.checkout.Session
                             ) -> TempOrder:
    metadata = metadata_of(session)
    temp_id = metadata.get("temp_order_id") or session.client_reference_id or ""
    restaurant = await Restaurant.objects().get(
        Restaurant.slug == metadata.get("restaurant", ""))
    if not temp_id or restaurant is None:
        raise CannotRebuild(f"session {session.id} names no known restaurant/order")
    found, gaps = _read_snapshot(metadata)
    items = await gateway.list_line_items(session.id, order_ref=temp_id)
    extras = found.get("i") or []
    if found and len(extras) != len(items):
        gaps.append(f"per-line notes ({len(extras)} recorded for {len(items)} lines)")
    order_allergy, line_allergies = _allergies(found)
    lines = []
    for index, item in enumerate(items):
        menu_item_id, notes = None, ""
        extra = extras[index] if index < len(extras) and len(extras) == len(items) else None
        if isinstance(extra, list) and len(extra) >= 3:
            menu_item_id, notes = extra[0], str(extra[2] or "")
        unit = item.price.unit_amount if item.price and item.price.unit_amount is not None \
            else item.amount_total // max(item.quantity or 1, 1)
        lines.append(OrderLine(menu_item_id=menu_item_id, name=item.description or "Item",
                               unit_amount=unit, quantity=item.quantity or 1, notes=notes,
                               allergy=line_allergies[index] if extra is not None
                               and index < len(line_allergies) else ""))
    created = found.get("c") or session.created
    details = session.customer_details
    email = session.customer_email or (details.email if details else None) or ""
    return TempOrder(
        id=temp_id, restaurant_id=restaurant.id, restaurant_slug=restaurant.slug,
        restaurant_name=restaurant.name, currency=(session.currency or restaurant.currency),
        capture_mode=restaurant.capture_mode, prep_minutes=restaurant.default_prep_minutes,
        lines=lines, total_amount=sum(line.line_total for line in lines),
        customer=Customer(name=found.get("n") or (details.name if details else "") or email,
                          email=email, phone=found.get("p") or ""),
        fulfillment=found.get("f") or "pickup",
        created_at=datetime.fromtimestamp(int(created), UTC),
        delivery_address=found.get("a") or "", table_label=found.get("t") or "",
        notes=found.get("o") or "", checkout_session_id=session.id, allergy=order_allergy,
        review_note=("Rebuilt from Stripe; missing: " + "; ".join(gaps)) if gaps else "",
    )


def _allergies(snapshot: dict[str, Any]) -> tuple[str, list[str]]:
    """The snapshot's allergy flags (`y`: [order allergy, [line allergies]]), if any."""
    value = snapshot.get("y")
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], list):
        return "", []
    return str(value[0] or ""), [str(item or "") for item in value[1]]
