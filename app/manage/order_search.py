"""The owner's view of orders: search live and archived orders by reference, kitchen number,
customer email or name and day (in the restaurant's time zone), and one order with its
emails, items and refunds (refunds themselves: `app.payments.partial_refunds`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from arq.connections import ArqRedis

from app.infra import db
from app.infra.logging import get_logger
from app.notifications.tables import EmailMessage
from app.orders.models import OrderView
from app.orders.tables import OrderItem, PaidOrder
from app.orders.views import load_order_view
from app.payments.partial_refunds import REFUNDABLE

log = get_logger("orderpass.admin.orders")
PAGE = 100
_NUMBER = re.compile(r"^#?(\d{1,9})$")

# Live and archived orders with what the list shows; the archive keeps the rest in its
# document. Filters are parameters ($1 restaurant slug, $2 ref, $3 number, $4 text, $5 day).
_SEARCH = """
SELECT o.public_id, o.ticket_number, o.status, o.customer_name, o.customer_email,
       o.fulfillment, o.total_amount, o.currency, o.paid_at, o.archived,
       r.slug AS restaurant_slug, r.name AS restaurant_name, r.timezone
FROM (
    SELECT public_id, restaurant, ticket_number, status, customer_name, customer_email,
           fulfillment, total_amount, currency, paid_at, false AS archived
    FROM paid_order
    UNION ALL
    SELECT a.public_id, a.restaurant, (a.document->>'ticket_number')::int, a.status,
           coalesce(a.document->>'customer_name', ''), a.customer_email,
           coalesce(a.document->>'fulfillment', ''), a.total_amount, a.currency, a.paid_at,
           true
    FROM archived_order a
    WHERE NOT EXISTS (SELECT 1 FROM paid_order p WHERE p.public_id = a.public_id)
) o JOIN restaurant r ON r.id = o.restaurant
WHERE ($1::text = '' OR r.slug = $1)
  AND ($2::text = '' OR o.public_id = $2)
  AND ($3::int IS NULL OR o.ticket_number = $3)
  AND ($4::text = '' OR o.customer_email ILIKE $4 OR o.customer_name ILIKE $4)
  AND ($5::date IS NULL OR (o.paid_at AT TIME ZONE r.timezone)::date = $5)
ORDER BY o.paid_at DESC
LIMIT $6
"""


@dataclass(frozen=True)
class Query:
    """What the search form asked for, read leniently (a page, not an API)."""

    text: str = ""
    day: date | None = None
    restaurant: str = ""

    @classmethod
    def parse(cls, text: str, day: str, restaurant: str) -> tuple[Query, str]:
        """The query and a problem to show ("" when there is none)."""
        problem, parsed = "", None
        if day.strip():
            try:
                parsed = date.fromisoformat(day.strip())
            except ValueError:
                problem = f"{day!r} is not a date (use YYYY-MM-DD)"
        return cls(text=text.strip()[:254], day=parsed, restaurant=restaurant.strip()[:64]), \
            problem


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(query: Query, limit: int = PAGE) -> list[dict[str, Any]]:
    """Newest first. `text` is a TEMP- reference (exact), a kitchen number ("12" or "#12"),
    or part of a customer's email or name."""
    ref, number, like = "", None, ""
    if query.text.upper().startswith("TEMP-"):
        ref = "TEMP-" + query.text[5:]
    elif match := _NUMBER.match(query.text):
        number = int(match.group(1))
    elif query.text:
        like = f"%{_escape_like(query.text)}%"
    rows = await db.fetch(_SEARCH, query.restaurant, ref, number, like, query.day, limit)
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class OrderDetail:
    view: OrderView
    restaurant_timezone: str
    payment_intent: str
    checkout_session: str
    capture_mode: str
    emails: list[dict[str, Any]]
    items: list[OrderItem]  # the live order's rows (ids for a refund of items)
    amount_charged: int
    remaining: int  # what is left of the payment to refund

    @property
    def refundable(self) -> bool:
        return (not self.view.archived and bool(self.payment_intent) and self.remaining > 0
                and self.view.status not in ("refunded", "voided", "charged_back"))

    @property
    def items_refundable(self) -> bool:
        """Items can be refunded one by one once the money is captured (not a bare hold)."""
        return (self.refundable and self.view.status in REFUNDABLE
                and not (self.capture_mode == "manual" and self.view.accepted_at is None))


async def detail(redis: ArqRedis, order_ref: str) -> OrderDetail | None:
    view = await load_order_view(redis, order_ref)
    if view is None or not view.is_paid:
        return None
    order = await PaidOrder.objects().get(PaidOrder.public_id == order_ref)
    rows = await db.fetch("SELECT timezone FROM restaurant WHERE id = $1", view.restaurant_id)
    emails = await EmailMessage.select(
        EmailMessage.kind, EmailMessage.status, EmailMessage.recipient, EmailMessage.created_at,
        EmailMessage.last_error).where(EmailMessage.order_ref == order_ref).order_by(
        EmailMessage.created_at)
    items = [] if order is None else await OrderItem.objects().where(
        OrderItem.paid_order == order.id).order_by(OrderItem.id)
    return OrderDetail(
        view=view, restaurant_timezone=rows[0]["timezone"] if rows else "UTC",
        payment_intent=(order.stripe_payment_intent_id or "") if order else "",
        checkout_session=order.stripe_checkout_session_id if order else "",
        capture_mode=order.capture_mode if order else "", emails=list(emails), items=items,
        amount_charged=order.amount_charged if order else 0,
        remaining=(order.amount_charged - order.amount_refunded) if order else 0)

