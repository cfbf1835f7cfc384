"""The owner's view of orders: search live and archived orders by reference, kitchen number,
customer email or name and day (in the restaurant's time zone), one order with its emails,
and a full refund from there."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from arq.connections import ArqRedis

from app.infra import db
from app.infra.logging import get_logger
from app.notifications.tables import EmailMessage
from app.orders import lifecycle
from app.orders.models import OrderView
from app.orders.tables import PaidOrder
from app.orders.views import load_order_view

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


class RefundRefused(Exception):
    def __init__(self, message: str, status_code: int = 409) -> None:
        super().__init__(message)
        self.status_code = status_code


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

    @property
    def refundable(self) -> bool:
        return (not self.view.archived and bool(self.payment_intent)
                and self.view.status != "refunded")


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
    return OrderDetail(
        view=view, restaurant_timezone=rows[0]["timezone"] if rows else "UTC",
        payment_intent=(order.stripe_payment_intent_id or "") if order else "",
        checkout_session=order.stripe_checkout_session_id if order else "",
        capture_mode=order.capture_mode if order else "", emails=list(emails))


async def refund(redis: ArqRedis, order_ref: str, *, by: str, reason: str = "") -> PaidOrder:
    """Give the whole payment back (or release an uncaptured hold) and mark the order
    refunded. Uses the kitchen's refund path (`lifecycle`), with its idempotency keys
    (`refund/<ref>`, `void/<ref>`), so a refund is never sent twice whoever triggers it."""
    from app.ops.discrepancies import mark_refunded

    order = await PaidOrder.objects().get(PaidOrder.public_id == order_ref)
    if order is None:
        raise RefundRefused(f"no live order {order_ref} (archived orders are refunded in the "
                            "Stripe dashboard)", 404)
    if order.status == "refunded":
        raise RefundRefused(f"order #{order.ticket_number} is already refunded")
    if not order.stripe_payment_intent_id:
        raise RefundRefused(f"order #{order.ticket_number} has no payment to refund")
    if order.status == "rejected":  # the kitchen's reject whose refund is still pending
        settled = await lifecycle.settle_rejection(order, redis=redis)
        if settled.status != "refunded":
            raise RefundRefused(f"Stripe refused the refund: {settled.review_reason}", 502)
        return settled
    await lifecycle.give_money_back(order)
    await mark_refunded(order_ref, redis=redis)
    log.info("admin refunded order", order_id=order_ref, by=by, reason=reason[:300],
             from_status=order.status)
    refreshed = await PaidOrder.objects().get(PaidOrder.public_id == order_ref)
    assert refreshed is not None
    return refreshed

