"""Orders as the admin (every restaurant) and a restaurant's owners and managers (theirs
only: `restaurant_id`) see them: search live and archived orders by reference, kitchen
number, customer email or name, day or range of days (in the restaurant's time zone) and
status, and one order with its emails, items (options and what was refunded of each) and
refunds (refunds themselves: `app.payments.partial_refunds`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from arq.connections import ArqRedis

from app.infra import db
from app.infra.logging import get_logger
from app.notifications.compose import RenderedEmail, RestaurantContact, render_email
from app.notifications.tables import EmailMessage
from app.orders.choices import label as modifiers_label
from app.orders.models import OrderView
from app.orders.tables import OrderItem, PaidOrder
from app.orders.views import load_order_view, modifiers_of
from app.payments import refund_failures
from app.payments.dispute_status import CHARGEBACK_OPEN
from app.payments.partial_refunds import (
    REFUNDABLE,
    PendingGiveBack,
    pending_give_back,
    refunded_units,
)
from app.restaurants import fulfillment

log = get_logger("orderpass.admin.orders")
PAGE = 100
_NUMBER = re.compile(r"^#?(\d{1,9})$")

# Live and archived orders with what the list shows; the archive keeps the rest in its
# document. Filters are parameters ($1 restaurant slug, $2 ref, $3 number, $4 text, $5 first
# and $6 last local day, $7 status, $8 restaurant id: a restaurant's own pages).
_SEARCH = """
SELECT o.public_id, o.ticket_number, o.status, o.customer_name, o.customer_email,
       o.fulfillment, o.total_amount, o.amount_refunded, o.currency, o.paid_at, o.archived,
       o.rejected, o.held, r.slug AS restaurant_slug, r.name AS restaurant_name, r.timezone
FROM (
    SELECT public_id, restaurant, ticket_number, status, customer_name, customer_email,
           fulfillment, total_amount, amount_refunded, currency, paid_at, false AS archived,
           rejected_at IS NOT NULL AS rejected,
           (status = 'paid' AND capture_mode = 'manual' AND accepted_at IS NULL) AS held
    FROM paid_order
    UNION ALL
    SELECT a.public_id, a.restaurant, (a.document->>'ticket_number')::int, a.status,
           coalesce(a.document->>'customer_name', ''), a.customer_email,
           coalesce(a.document->>'fulfillment', ''), a.total_amount,
           coalesce((a.document->>'amount_refunded')::int, 0), a.currency, a.paid_at,
           true, a.document->>'rejected_at' IS NOT NULL, false
    FROM archived_order a
    WHERE NOT EXISTS (SELECT 1 FROM paid_order p WHERE p.public_id = a.public_id)
) o JOIN restaurant r ON r.id = o.restaurant
WHERE ($1::text = '' OR r.slug = $1)
  AND ($2::text = '' OR o.public_id = $2)
  AND ($3::int IS NULL OR o.ticket_number = $3)
  AND ($4::text = '' OR o.customer_email ILIKE $4 OR o.customer_name ILIKE $4)
  AND ($5::date IS NULL OR (o.paid_at AT TIME ZONE r.timezone)::date >= $5)
  AND ($6::date IS NULL OR (o.paid_at AT TIME ZONE r.timezone)::date <= $6)
  AND ($7::text = '' OR o.status = $7 OR ($7 = 'rejected' AND o.rejected)
       OR ($7 = 'refunded' AND o.amount_refunded > 0))
  AND ($8::bigint IS NULL OR o.restaurant = $8)
ORDER BY o.paid_at DESC
LIMIT $9
"""


# Every status a paid order can have, for the search's status filter. "rejected" finds every
# order the kitchen (or its timer) rejected, those whose money went back since included: a
# rejection ends `refunded` or `voided`, and the list says "rejected (refunded)". "refunded"
# finds the orders refunded in part as well (an item the kitchen could not make).
STATUSES = ("paid", "accepted", "preparing", "ready", "completed", "rejected", "refunded",
            "voided", "disputed", "charged_back")


@dataclass(frozen=True)
class Query:
    """What the search form asked for, read leniently (a page, not an API). `day` is one
    day (both ends of the range); `restaurant_id` keeps a restaurant's pages to its own
    orders whatever else the query says."""

    text: str = ""
    day: date | None = None
    restaurant: str = ""
    date_from: date | None = None
    date_to: date | None = None
    status: str = ""
    restaurant_id: int | None = None

    @classmethod
    def parse(cls, text: str, day: str, restaurant: str, *, date_from: str = "",
              date_to: str = "", status: str = "", restaurant_id: int | None = None
              ) -> tuple[Query, str]:
        """The query and a problem to show ("" when there is none)."""
        problems: list[str] = []

        def read(value: str) -> date | None:
            if not value.strip():
                return None
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                problems.append(f"{value[:40]!r} is not a date (use YYYY-MM-DD)")
                return None

        parsed, first, last = read(day), read(date_from), read(date_to)
        if first and last and last < first:  # read as "no orders", which said nothing
            problems.append(f"the end date {last.isoformat()} is before the start date "
                            f"{first.isoformat()}")
        if status and status not in STATUSES:
            problems.append(f"{status[:40]!r} is not an order status")
        return cls(text=text.strip()[:254], day=parsed, restaurant=restaurant.strip()[:64],
                   date_from=first, date_to=last, status=status if not problems else "",
                   restaurant_id=restaurant_id), "; ".join(problems)

    @property
    def first_day(self) -> date | None:
        days = [day for day in (self.day, self.date_from) if day is not None]
        return max(days) if days else None

    @property
    def last_day(self) -> date | None:
        days = [day for day in (self.day, self.date_to) if day is not None]
        return min(days) if days else None


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
    rows = await db.fetch(_SEARCH, query.restaurant, ref, number, like, query.first_day,
                          query.last_day, query.status, query.restaurant_id, limit)
    return [dict(row, status_label=status_label(row["status"], bool(row["rejected"]),
                                                held=bool(row["held"])))
            for row in rows]


def status_label(status: str, rejected: bool, *, held: bool = False) -> str:
    """The status as the list shows it: a rejection whose money went back reads "rejected
    (refunded)" (or "(voided)"), told apart from a refund the owner made; a card hold the
    kitchen has not accepted (so not charged) reads "card authorised", not "paid"."""
    if held:
        return "card authorised"
    shown = status.replace("_", " ")
    return f"rejected ({shown})" if rejected and status != "rejected" else shown


async def belongs(order_ref: str, restaurant_id: int) -> bool:
    """Is `order_ref` a paid (live or archived) order of that restaurant?"""
    rows = await db.fetch(
        "SELECT 1 FROM paid_order WHERE public_id = $1 AND restaurant = $2 UNION ALL "
        "SELECT 1 FROM archived_order WHERE public_id = $1 AND restaurant = $2 LIMIT 1",
        order_ref, restaurant_id)
    return bool(rows)


@dataclass(frozen=True)
class RefundRow:
    """One line of the "Refund items" form: its options as the kitchen reads them, and how
    many of its units are left to refund."""

    item: OrderItem
    options: str  # "Doneness: Medium; Extras: Bacon, Cheese" ("" without options)
    refunded: int

    @property
    def left(self) -> int:
        return max(0, self.item.quantity - self.refunded)


@dataclass(frozen=True)
class ReturnedRefund:
    """A refund that did not reach the customer's card, as the owner's order page tells it."""

    amount: int
    why: str  # "the card has expired or was cancelled"
    at: datetime  # when Orderpass learnt it


async def returned_refunds(order_ref: str) -> list[ReturnedRefund]:
    rows = await db.fetch(
        "SELECT details, created_at FROM discrepancy WHERE kind = $1 AND order_ref = $2 "
        "ORDER BY id", refund_failures.DISCREPANCY, order_ref)
    found = []
    for row in rows:
        details = json.loads(row["details"]) if isinstance(row["details"], str) \
            else row["details"]
        found.append(ReturnedRefund(
            int(details.get("amount") or 0),
            refund_failures.why(details.get("failure_reason"), str(details.get("status"))),
            row["created_at"]))
    return found


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
    charged_back: int  # what the cardholder's bank took back (a lost dispute): the rest
    contact: RestaurantContact  # the restaurant as the order's emails name it
    refunded: dict[int, int]  # units of each item (OrderItem id) refunded already
    # A rejection's refund (or release) not made yet: Stripe failed, the cron retries it.
    pending: PendingGiveBack | None = None
    # Refunds the customer's bank returned (app/payments/refund_failures.py): the money is
    # back with the restaurant, the customer still owed it.
    returned: list[ReturnedRefund] = field(default_factory=list)

    @property
    def refund_rows(self) -> list[RefundRow]:
        return [RefundRow(item, modifiers_label(modifiers_of(item.modifiers)),
                          self.refunded.get(int(item.id), 0)) for item in self.items]

    @property
    def refundable(self) -> bool:
        """A refund the owner can ask for; never while all that is left is on its way back
        already (a rejection's refund the cron retries): that would ask for it twice."""
        return (not self.view.archived and bool(self.payment_intent) and self.remaining > 0
                and self.view.status not in ("refunded", "voided", "charged_back")
                and not self.chargeback_open
                and not (self.pending is not None and self.pending.retried))

    @property
    def chargeback_open(self) -> bool:
        """Stripe refuses a refund while a chargeback is open (an inquiry allows one)."""
        return self.view.dispute_status in CHARGEBACK_OPEN

    @property
    def status_label(self) -> str:
        """The status as the list writes it ("charged back", "rejected (voided)")."""
        return status_label(self.view.status, self.view.rejected_at is not None,
                            held=self.hold == "authorised" and self.view.status == "paid")

    @property
    def fulfillment_label(self) -> str:
        """The mode as the owner's settings name it ("Table service (dine-in)")."""
        return fulfillment.LABELS.get(self.view.fulfillment, self.view.fulfillment)

    @property
    def hold(self) -> str:
        """A manual-capture payment never captured took no money, so it has no receipt (the
        diner's receipt goes out on capture, at accept): "authorised" while the card hold
        stands (a rejection's release still pending included), "released" once it is let
        go; "" when the money was taken."""
        if self.view.capture_mode != "manual" or self.view.accepted_at is not None:
            return ""
        if self.view.status == "voided":
            return "released"
        return "authorised" if self.view.status in ("paid", "rejected") else ""

    @property
    def items_refundable(self) -> bool:
        """Items can be refunded one by one once the money is captured (not a bare hold)."""
        return (self.refundable and self.view.status in REFUNDABLE
                and not (self.capture_mode == "manual" and self.view.accepted_at is None))


async def detail(redis: ArqRedis, order_ref: str,
                 restaurant_id: int | None = None) -> OrderDetail | None:
    """The paid order `order_ref`; None when there is none, or (with `restaurant_id`) when it
    is another restaurant's."""
    view = await load_order_view(redis, order_ref)
    if view is None or not view.is_paid:
        return None
    if restaurant_id is not None and view.restaurant_id != restaurant_id:
        return None
    order = await PaidOrder.objects().get(PaidOrder.public_id == order_ref)
    rows = await db.fetch("SELECT name, phone, email, address, timezone, capture_mode "
                          "FROM restaurant WHERE id = $1", view.restaurant_id)
    restaurant = rows[0] if rows else None
    contact = RestaurantContact(
        id=view.restaurant_id, name=restaurant["name"] if restaurant else "",
        phone=restaurant["phone"] if restaurant else "",
        email=restaurant["email"] if restaurant else "",
        address=restaurant["address"] if restaurant else "",
        timezone=restaurant["timezone"] if restaurant else "UTC",
        capture_mode=restaurant["capture_mode"] if restaurant else "automatic")
    emails = await EmailMessage.select(
        EmailMessage.kind, EmailMessage.status, EmailMessage.recipient, EmailMessage.created_at,
        EmailMessage.last_error).where(EmailMessage.order_ref == order_ref).order_by(
        EmailMessage.created_at)
    # A released hold took nothing: nothing is left of it to give back.
    left = (order.amount_charged - order.amount_refunded
            if order is not None and order.status != "voided" else 0)
    lost = view.status == "charged_back"
    items = [] if order is None else await OrderItem.objects().where(
        OrderItem.paid_order == order.id).order_by(OrderItem.id)
    return OrderDetail(
        view=view, restaurant_timezone=contact.timezone, contact=contact,
        refunded=await refunded_units(order.id) if order is not None else {},
        payment_intent=(order.stripe_payment_intent_id or "") if order else "",
        checkout_session=order.stripe_checkout_session_id if order else "",
        capture_mode=order.capture_mode if order else "", emails=list(emails), items=items,
        amount_charged=order.amount_charged if order else 0,
        # A lost dispute returns all that was still charged (a dispute is for no more than
        # that): charged back, not left to refund.
        remaining=0 if lost else left, charged_back=left if lost else 0,
        pending=pending_give_back(order) if order is not None and not view.archived else None,
        returned=await returned_refunds(order_ref))


def receipt(found: OrderDetail, public_base_url: str) -> RenderedEmail | None:
    """The order's receipt as the customer got it (the `payment_received` email), rendered
    again from the stored order (the same bytes as a retried send); None for a card hold
    never captured (`hold`): nothing was charged, and the diner got no receipt."""
    if found.hold:
        return None
    return render_email("payment_received", found.view, found.contact, public_base_url)
