"""Read model for customer-facing pages, the JSON API and emails: one `OrderView` whether
the order is still a temp order in Redis or a paid order in Postgres (Postgres wins)."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from app.orders.models import Customer, OrderLine, OrderView, RefundLine, TempOrder
from app.orders.tables import OrderItem, OrderRefund, PaidOrder
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
        prep_minutes=order.prep_minutes, is_paid=False, link_error=order.link_error)


async def view_of_paid(order: PaidOrder) -> OrderView:
    items = await OrderItem.objects().where(OrderItem.paid_order == order.id).order_by(
        OrderItem.id)
    restaurant = await Restaurant.objects().get(Restaurant.id == order.restaurant)
    assert restaurant is not None
    return OrderView(
        id=order.public_id, status=order.status, restaurant_id=restaurant.id,
        restaurant_slug=restaurant.slug, restaurant_name=restaurant.name,
        currency=order.currency,
        lines=[OrderLine(menu_item_id=item.menu_item, name=item.name,
                         unit_amount=item.unit_amount, quantity=item.quantity, notes=item.notes)
               for item in items],
        total_amount=order.total_amount,
        customer=Customer(name=order.customer_name, email=order.customer_email,
                          phone=order.customer_phone),
        fulfillment=order.fulfillment, submitted_at=order.submitted_at,
        delivery_address=order.delivery_address, table_label=order.table_label,
        notes=order.notes, prep_minutes=order.prep_minutes, ticket_number=order.ticket_number,
        paid_at=order.paid_at, accepted_at=order.accepted_at, ready_at=order.ready_at,
        completed_at=order.completed_at, rejected_at=order.rejected_at,
        refunded_at=order.refunded_at, promised_at=order.promised_at,
        reject_reason=order.reject_reason, is_paid=True,
        amount_refunded=order.amount_refunded, voided_at=order.voided_at,
        dispute_status=order.dispute_status, refunds=await refund_lines(order.id))


async def refund_lines(order_id: int) -> list[RefundLine]:
    rows = await OrderRefund.select(OrderRefund.amount, OrderRefund.lines,
                                    OrderRefund.reason).where(
        OrderRefund.paid_order == order_id).order_by(OrderRefund.id)
    found = []
    for row in rows:
        lines = row["lines"] if isinstance(row["lines"], list) else json.loads(row["lines"] or "[]")
        items = ", ".join(f"{line['quantity']} x {line['name']}" for line in lines)
        found.append(RefundLine(amount=row["amount"], description=items or row["reason"]))
    return found


async def load_order_view(redis: Redis, order_ref: str) -> OrderView | None:
    if not is_temp_id(order_ref):
        return None
    paid = await PaidOrder.objects().get(PaidOrder.public_id == order_ref)
    if paid is not None:
        return await view_of_paid(paid)
    temp = await temp_store(redis).get(order_ref)
    return view_of_temp(temp) if temp is not None else None


async def load_order_views(redis: Redis, order_refs: list[str]) -> dict[str, OrderView]:
    """`load_order_view` for many orders at once (an email batch): which are paid is one
    query and the others' temp orders one MGET, where one by one it took two round trips
    and an ORM query each; paid orders are read as `load_order_view` reads them. Unknown
    orders are left out."""
    refs = [ref for ref in dict.fromkeys(order_refs) if is_temp_id(ref)]
    if not refs:
        return {}
    paid = {row["public_id"] for row in await PaidOrder.select(PaidOrder.public_id).where(
        PaidOrder.public_id.is_in(refs))}
    views: dict[str, OrderView] = {}
    for ref in refs:
        if ref in paid and (view := await load_order_view(redis, ref)) is not None:
            views[ref] = view
    waiting = [ref for ref in refs if ref not in paid]
    for ref, temp in zip(waiting, await temp_store(redis).get_many(waiting), strict=True):
        if temp is not None:
            views[ref] = view_of_temp(temp)
    return views
