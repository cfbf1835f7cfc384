"""Read model for customer-facing pages, the JSON API and emails: one `OrderView` whether
the order is still a temp order in Redis, a paid order in Postgres (Postgres wins) or an
order archived long after it closed (its status link keeps working)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec
from redis.asyncio import Redis

from app.infra import db
from app.orders.models import (
    Customer,
    LineModifier,
    OrderLine,
    OrderView,
    RefundLine,
    Seller,
    TempOrder,
    refunded_in_full,
)
from app.orders.temp_store import TempOrderStore, is_temp_id
from app.restaurants.tables import Restaurant
from app.settings import get_settings


def temp_store(redis: Redis) -> TempOrderStore:
    return TempOrderStore(redis, ttl_seconds=get_settings().temp_order_ttl_hours * 3600)


def view_of_temp(order: TempOrder) -> OrderView:
    return OrderView(
        id=order.id, status=order.status, restaurant_id=order.restaurant_id,
        restaurant_slug=order.restaurant_slug, restaurant_name=order.restaurant_name,
        currency=order.currency, lines=list(order.lines), total_amount=order.total_amount,
        customer=order.customer, fulfillment=order.fulfillment, submitted_at=order.created_at,
        delivery_address=order.delivery_address, table_label=order.table_label,
        notes=order.notes, payment_url=order.payment_url, expires_at=order.expires_at,
        prep_minutes=order.prep_minutes, is_paid=False, link_error=order.link_error,
        allergy=order.allergy, tax_mode=order.tax_mode, tip_amount=order.tip_amount,
        language=order.language, scheduled_for=order.scheduled_for,
        capture_mode=order.capture_mode,
        # only the first link is emailed; a renewed one is shown on the page that asked
        link_emailed=order.link_email and order.link_attempts <= 1,
        closure_note=order.closure_note, sold_out=order.sold_out, updated_at=order.updated_at,
        checkout_session_id=order.checkout_session_id)


# A paid order with its restaurant, lines and refunds in one statement: the ORM's five
# queries per order (and building each query in Python) were two fifths of the worker's
# CPU per receipt email (py-spy, `orderpass bench platform`).
_PAID_VIEWS_SQL = """
SELECT o.*, r.slug AS restaurant_slug, r.name AS restaurant_name,
       r.timezone AS restaurant_timezone,
       (SELECT coalesce(json_agg(json_build_object(
                   'id', i.id, 'menu_item', i.menu_item, 'name', i.name,
                   'unit_amount', i.unit_amount,
                   'quantity', i.quantity, 'notes', i.notes, 'allergy', i.allergy,
                   'tax_rate', i.tax_rate, 'net_amount', i.net_amount,
                   'tax_amount', i.tax_amount, 'gross_amount', i.gross_amount,
                   'modifiers', i.modifiers) ORDER BY i.id), '[]')
          FROM order_item i WHERE i.paid_order = o.id) AS items,
       (SELECT coalesce(json_agg(json_build_object(
                   'amount', f.amount, 'lines', f.lines, 'reason', f.reason,
                   'refund_id', f.stripe_refund_id) ORDER BY f.id),
                   '[]')
          FROM order_refund f WHERE f.paid_order = o.id) AS refunds
  FROM paid_order o JOIN restaurant r ON r.id = o.restaurant
 WHERE o.public_id = ANY($1::varchar[])
"""


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def _line(item: dict[str, Any]) -> OrderLine:
    return OrderLine(menu_item_id=item["menu_item"], name=item["name"],
                     unit_amount=item["unit_amount"], quantity=item["quantity"],
                     notes=item["notes"], allergy=item["allergy"], tax_rate=item["tax_rate"],
                     net_amount=item["net_amount"], tax_amount=item["tax_amount"],
                     gross_amount=item["gross_amount"],
                     modifiers=modifiers_of(item["modifiers"]))


def refunded_units(refund_lines: Iterable[Any]) -> dict[int, int]:
    """Units refunded per order line (by its `order_item` id), from each refund's recorded
    `lines` (`[{"item", "name", "quantity", …}]`, as text or decoded; a refund of an amount
    rather than items has none)."""
    done: dict[int, int] = {}
    for lines in refund_lines:
        for line in _json(lines) if lines else []:
            if isinstance(line, dict) and isinstance(line.get("item"), int):
                done[line["item"]] = done.get(line["item"], 0) + int(line.get("quantity", 0))
    return done


def refunded_per_line(items: list[dict[str, Any]], refunds: list[dict[str, Any]], *,
                      in_full: bool = False) -> list[int]:
    """How many units of each of `items` (stored lines, with their `id`) `refunds` gave back,
    in the lines' order: what the diner's page marks refunded. `in_full`: the whole payment
    is back (a "refund everything" or a reject names no lines), so every unit is."""
    if in_full:
        return [int(item["quantity"]) for item in items]
    done = refunded_units(refund.get("lines") for refund in refunds)
    return [min(int(item["quantity"]), done.get(item.get("id") or 0, 0)) for item in items]


def view_of_paid(order: Any) -> OrderView:
    """The view of one row of `_PAID_VIEWS_SQL`."""
    items, refunds = _json(order["items"]), _json(order["refunds"])
    return OrderView(
        id=order["public_id"], status=order["status"], restaurant_id=order["restaurant"],
        restaurant_slug=order["restaurant_slug"], restaurant_name=order["restaurant_name"],
        currency=order["currency"], lines=[_line(item) for item in items],
        refunded_per_line=refunded_per_line(items, refunds, in_full=refunded_in_full(
            order["amount_refunded"], order["total_amount"])),
        total_amount=order["total_amount"],
        customer=Customer(name=order["customer_name"], email=order["customer_email"],
                          phone=order["customer_phone"]),
        fulfillment=order["fulfillment"], submitted_at=order["submitted_at"],
        delivery_address=order["delivery_address"], table_label=order["table_label"],
        notes=order["notes"], prep_minutes=order["prep_minutes"],
        ticket_number=order["ticket_number"], paid_at=order["paid_at"],
        accepted_at=order["accepted_at"], ready_at=order["ready_at"],
        completed_at=order["completed_at"], rejected_at=order["rejected_at"],
        refunded_at=order["refunded_at"], promised_at=order["promised_at"],
        reject_reason=order["reject_reason"], is_paid=True, allergy=order["allergy"],
        amount_refunded=order["amount_refunded"], voided_at=order["voided_at"],
        amount_returned=order["amount_returned"],
        dispute_status=order["dispute_status"],
        refunds=[msgspec.structs.replace(_refund_line(row),
                                         units=refunded_per_line(items, [row]))
                 for row in refunds],
        tax_mode=order["tax_mode"], tip_amount=order["tip_amount"],
        seller=Seller(legal_name=order["seller_legal_name"], address=order["seller_address"],
                      tax_id=order["seller_tax_id"],
                      trading_name=order["seller_trading_name"]),
        language=order["language"], scheduled_for=order["scheduled_for"],
        timezone=order["restaurant_timezone"], released_at=order["released_at"],
        capture_mode=order["capture_mode"] or "automatic", updated_at=order["updated_at"])


async def paid_views(order_refs: list[str]) -> dict[str, OrderView]:
    """The paid orders among `order_refs`, read in one round trip."""
    if not order_refs:
        return {}
    rows = await db.fetch(_PAID_VIEWS_SQL, order_refs)
    return {row["public_id"]: view_of_paid(row) for row in rows}


def modifiers_of(stored: Any) -> list[LineModifier]:
    """An order line's frozen options from its jsonb column (text or already decoded)."""
    if not stored:
        return []
    raw = stored.encode() if isinstance(stored, str) else msgspec.json.encode(stored)
    return msgspec.json.decode(raw, type=list[LineModifier])


def _refund_line(row: dict[str, Any]) -> RefundLine:
    """One refund as the customer reads it: the items it gave back and why (the owner's
    form says its reason is shown to the customer), or its reason alone."""
    lines = _json(row["lines"] or "[]")
    items = ", ".join(f"{line['quantity']} x {line['name']}" for line in lines)
    reason = row["reason"] or ""
    return RefundLine(amount=row["amount"],
                      description=f"{items} ({reason})" if items and reason else items or reason,
                      refund_id=str(row.get("refund_id") or row.get("stripe_refund_id") or ""))


def _moment(document: dict[str, Any], name: str) -> datetime | None:
    value = document.get(name)
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


async def view_of_archived(order_ref: str) -> OrderView | None:
    """An archived order, from the document the archive kept (`app.orders.archive`)."""
    from app.orders.archive import load_archived_order

    document = await load_archived_order(order_ref)
    if document is None:
        return None
    restaurant = await Restaurant.objects().get(Restaurant.id == document["restaurant"])
    if restaurant is None:
        return None
    return OrderView(
        id=order_ref, status=str(document["status"]), restaurant_id=restaurant.id,
        restaurant_slug=restaurant.slug, restaurant_name=restaurant.name,
        currency=str(document["currency"]),
        lines=[OrderLine(menu_item_id=item.get("menu_item"), name=str(item["name"]),
                         unit_amount=int(item["unit_amount"]), quantity=int(item["quantity"]),
                         notes=str(item.get("notes") or ""),
                         allergy=str(item.get("allergy") or ""),
                         tax_rate=int(item.get("tax_rate") or 0),
                         net_amount=int(item.get("net_amount") or 0),
                         tax_amount=int(item.get("tax_amount") or 0),
                         gross_amount=int(item.get("gross_amount") or 0),
                         modifiers=modifiers_of(item.get("modifiers")))
               for item in document.get("items") or []],
        refunded_per_line=refunded_per_line(
            document.get("items") or [], document.get("refunds") or [],
            in_full=refunded_in_full(int(document.get("amount_refunded") or 0),
                                     int(document["total_amount"]))),
        total_amount=int(document["total_amount"]),
        customer=Customer(name=str(document.get("customer_name") or ""),
                          email=str(document.get("customer_email") or ""),
                          phone=str(document.get("customer_phone") or "")),
        fulfillment=str(document.get("fulfillment") or "pickup"),
        submitted_at=_moment(document, "submitted_at") or _moment(document, "paid_at")
        or datetime.now().astimezone(),
        delivery_address=str(document.get("delivery_address") or ""),
        table_label=str(document.get("table_label") or ""),
        notes=str(document.get("notes") or ""), prep_minutes=document.get("prep_minutes"),
        ticket_number=document.get("ticket_number"), paid_at=_moment(document, "paid_at"),
        accepted_at=_moment(document, "accepted_at"), ready_at=_moment(document, "ready_at"),
        completed_at=_moment(document, "completed_at"),
        rejected_at=_moment(document, "rejected_at"),
        refunded_at=_moment(document, "refunded_at"),
        promised_at=_moment(document, "promised_at"),
        reject_reason=str(document.get("reject_reason") or ""), is_paid=True,
        allergy=str(document.get("allergy") or ""), archived=True,
        amount_refunded=int(document.get("amount_refunded") or 0),
        voided_at=_moment(document, "voided_at"),
        dispute_status=str(document.get("dispute_status") or ""),
        refunds=[_refund_line(row) for row in document.get("refunds") or []],
        tax_mode=str(document.get("tax_mode") or "included"),
        tip_amount=int(document.get("tip_amount") or 0),
        seller=Seller(legal_name=str(document.get("seller_legal_name") or ""),
                      address=str(document.get("seller_address") or ""),
                      tax_id=str(document.get("seller_tax_id") or ""),
                      trading_name=str(document.get("seller_trading_name") or "")),
        language=str(document.get("language") or "en"),
        scheduled_for=_moment(document, "scheduled_for"), timezone=restaurant.timezone)


async def load_order_view(redis: Redis, order_ref: str) -> OrderView | None:
    if not is_temp_id(order_ref):
        return None
    if (paid := (await paid_views([order_ref])).get(order_ref)) is not None:
        return paid
    temp = await temp_store(redis).get(order_ref)
    if temp is not None:
        return view_of_temp(temp)
    return await view_of_archived(order_ref)


async def load_order_views(redis: Redis, order_refs: list[str]) -> dict[str, OrderView]:
    """`load_order_view` for many orders at once (an email batch): the paid ones in one
    query, the others' temp orders in one MGET. Unknown orders are left out."""
    refs = [ref for ref in dict.fromkeys(order_refs) if is_temp_id(ref)]
    views = await paid_views(refs)
    waiting = [ref for ref in refs if ref not in views]
    if not waiting:
        return views
    for ref, temp in zip(waiting, await temp_store(redis).get_many(waiting), strict=True):
        if temp is not None:
            views[ref] = view_of_temp(temp)
    return views
