"""Rebuild a temp order from its Checkout Session when Redis no longer has it (expired,
evicted, flushed): metadata carries the snapshot (`app.payments.snapshot`, with the VAT rates
and the tip), line items carry names and prices (the items first, then any VAT and tip lines,
which must match what the snapshot says). A rebuild is complete, or says plainly what is
missing: `review_note` names the gap, and the paid order is flagged for review with it
(shown on the kitchen ticket)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from app.infra import i18n
from app.orders.models import Customer, LineModifier, OrderLine, TempOrder, with_tax
from app.payments import snapshot
from app.payments.stripe_data import CheckoutSession
from app.payments.stripe_gateway import StripeGateway, line_items, metadata_of, temp_order_ref
from app.restaurants.tables import ModifierOption, Restaurant

LEGACY_CUT_RISK = 400  # a one-key snapshot this long may have had notes shortened to fit


class CannotRebuild(Exception):
    """The session does not carry enough to name a restaurant and an order id."""


def _read_snapshot(metadata: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """(the snapshot, what is missing from it)."""
    try:
        found = snapshot.decode(metadata)
    except snapshot.SnapshotUnreadable as error:
        return {}, [f"customer details, fulfilment, every note, VAT rates and tip ({error})"]
    if "v" not in found and len(metadata.get("snapshot", "")) >= LEGACY_CUT_RISK:
        return found, ["notes may have been shortened (order placed before full snapshots)"]
    return found, []


async def rebuild_temp_order(gateway: StripeGateway, session: CheckoutSession
                             ) -> TempOrder:
    metadata = metadata_of(session)
    temp_id = temp_order_ref(session)
    restaurant = await Restaurant.objects().get(
        Restaurant.slug == metadata.get("restaurant", ""))
    if not temp_id or restaurant is None:
        raise CannotRebuild(f"session {session.id} names no known restaurant/order")
    found, gaps = _read_snapshot(metadata)
    every_line = await gateway.list_line_items(session.id, order_ref=temp_id)
    extras = found.get("i") or []
    tip, mode, rates = _money(found)
    # The items come first, then what the order adds (VAT lines, the tip): see line_items().
    known = bool(found) and (len(extras) == len(every_line)
                             or ("x" in found and len(extras) < len(every_line)))
    items = every_line[:len(extras)] if known else every_line
    added = every_line[len(extras):] if known else []
    if found and len(extras) != len(items):
        gaps.append(f"per-line notes ({len(extras)} recorded for {len(items)} lines)")
    if len(rates) != len(items):
        rates = [0] * len(items)
    order_allergy, line_allergies = _allergies(found)
    shapes = found.get("m") if isinstance(found.get("m"), list) else []
    if shapes and len(shapes) != len(items):
        gaps.append("the options chosen (recorded for another number of lines)")
        shapes = []
    lines = []
    for index, item in enumerate(items):
        menu_item_id, notes = None, ""
        extra = extras[index] if index < len(extras) and len(extras) == len(items) else None
        if isinstance(extra, list) and len(extra) >= 3:
            menu_item_id, notes = extra[0], str(extra[2] or "")
        unit = item.price.unit_amount if item.price and item.price.unit_amount is not None \
            else item.amount_total // max(item.quantity or 1, 1)
        name, modifiers = item.description or "Item", list[LineModifier]()
        if shapes and shapes[index]:
            split = snapshot.split_line_name(name, shapes[index])
            if split is None:
                gaps.append(f"the options of line {index + 1} (kept in its name)")
            else:
                name, modifiers = split
        lines.append(OrderLine(menu_item_id=menu_item_id, name=name, modifiers=modifiers,
                               unit_amount=unit, quantity=item.quantity or 1, notes=notes,
                               allergy=line_allergies[index] if extra is not None
                               and index < len(line_allergies) else "",
                               tax_rate=rates[index]))
    lines = with_tax(await _with_allergens(lines, gaps), mode)
    created = found.get("c") or session.created
    scheduled_for, prep = _scheduled(found, restaurant.default_prep_minutes)
    details = session.customer_details
    email = session.customer_email or (details.email if details else None) or ""
    order = TempOrder(
        id=temp_id, restaurant_id=restaurant.id, restaurant_slug=restaurant.slug,
        restaurant_name=restaurant.name, currency=(session.currency or restaurant.currency),
        capture_mode=restaurant.capture_mode, prep_minutes=prep,
        lines=lines, total_amount=sum(line.gross_amount for line in lines) + tip,
        tax_mode=mode, tip_amount=tip,
        customer=Customer(name=found.get("n") or (details.name if details else "") or email,
                          email=email, phone=found.get("p") or ""),
        fulfillment=found.get("f") or "pickup",
        created_at=datetime.fromtimestamp(int(created), UTC),
        delivery_address=found.get("a") or "", table_label=found.get("t") or "",
        notes=found.get("o") or "", checkout_session_id=session.id, allergy=order_allergy,
        review_note="", language=_language(found, restaurant.default_language),
        scheduled_for=scheduled_for,
    )
    if known and not _added_lines_match(order, added):
        gaps.append("the VAT and tip lines Stripe holds differ from the order's snapshot")
    if gaps:
        order.review_note = "Rebuilt from Stripe; missing: " + "; ".join(gaps)
    return order


async def _with_allergens(lines: list[OrderLine], gaps: list[str]) -> list[OrderLine]:
    """The lines with the allergens their options add, read from the menu now: the snapshot
    has no room for them (Stripe's 50 keys), and the kitchen must still see "Pesto (contains
    Nuts)". An option deleted since is a gap: its allergens are unknown."""
    ids = {modifier.option for line in lines for modifier in line.modifiers if modifier.option}
    if not ids:
        return lines
    rows = await ModifierOption.select(ModifierOption.id, ModifierOption.allergens).where(
        ModifierOption.id.is_in(list(ids)))
    codes = {int(row["id"]): tuple(row["allergens"] or ()) for row in rows}
    gone = sorted({modifier.name for line in lines for modifier in line.modifiers
                   if modifier.option and modifier.option not in codes})
    if gone:
        gaps.append(f"the allergens of {', '.join(gone)} (no longer on the menu)")
    return [msgspec.structs.replace(line, modifiers=[
        msgspec.structs.replace(modifier, allergens=codes.get(modifier.option or 0, ()))
        for modifier in line.modifiers]) for line in lines]


def _language(found: dict[str, Any], default: str) -> str:
    """The snapshot's `l` (a non-English order), else English; the restaurant's default only
    when the snapshot could not be read at all."""
    value = found.get("l")
    if isinstance(value, str) and value in i18n.SUPPORTED:
        return value
    return "en" if found else (default if default in i18n.SUPPORTED else "en")


def _scheduled(found: dict[str, Any], default_prep: int) -> tuple[datetime | None, int]:
    """(the slot, the prep minutes) from the snapshot's `w`; (None, the default) for ASAP."""
    value = found.get("w")
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(part, int) and part >= 0 for part in value)):
        return None, default_prep
    return datetime.fromtimestamp(value[0], UTC), value[1]


def _money(found: dict[str, Any]) -> tuple[int, str, list[int]]:
    """(tip, tax mode, each line's VAT rate) from the snapshot's `x`, if any."""
    value = found.get("x")
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], int)
            and value[1] in ("included", "added") and isinstance(value[2], list)
            and all(isinstance(rate, int) and 0 <= rate <= 10_000 for rate in value[2])):
        return 0, "included", []
    return max(0, value[0]), str(value[1]), list(value[2])


def _added_lines_match(order: TempOrder, added: list[Any]) -> bool:
    """The session's lines after the items are exactly the VAT and tip lines the rebuilt
    order would send (names and amounts)."""
    expected = [(entry["price_data"]["product_data"]["name"],
                 entry["price_data"]["unit_amount"] * entry["quantity"])
                for entry in line_items(order)[len(order.lines):]]
    found = [(item.description, item.amount_total) for item in added]
    return found == expected


def _allergies(snapshot: dict[str, Any]) -> tuple[str, list[str]]:
    """The snapshot's allergy flags (`y`: [order allergy, [line allergies]]), if any."""
    value = snapshot.get("y")
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], list):
        return "", []
    return str(value[0] or ""), [str(item or "") for item in value[1]]
