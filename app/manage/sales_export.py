"""The owner's sales for a period as CSV (`/manage/{slug}/sales.csv?from=…&to=…`): one row
per order kept, on the restaurant's clock, with the goods' net and VAT per rate, the tip and
what went back, and a total row: what an accountant needs for a VAT return, which the
overview (today, 7 days) and the receipts (one order) do not give.

An order counts as on the overview (app/manage/sales.py) and in the admin's analytics: paid
in the period, its money kept (not rejected, refunded in full, released or lost in a
dispute), and charged (a manual-capture card hold counts once the kitchen accepts it). Items
refunded come off their own rate; a refund of money without items (a goodwill amount) has
no rate and is its own column. Live and archived orders alike: an archived order's document
holds its row, items and refunds (app/orders/archive.py), and a live one is read into the
same shape."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from app.infra import db
from app.orders.pricing import format_rate
from app.templating import ZERO_DECIMAL, zone

MAX_DAYS = 366  # a year at a time: a tax year's return

_DOCUMENTS = """
SELECT to_jsonb(o) || jsonb_build_object(
    'items', coalesce((SELECT jsonb_agg(to_jsonb(i) - 'paid_order' ORDER BY i.id)
                       FROM order_item i WHERE i.paid_order = o.id), '[]'::jsonb),
    'refunds', coalesce((SELECT jsonb_agg(to_jsonb(r) - 'paid_order' ORDER BY r.id)
                         FROM order_refund r WHERE r.paid_order = o.id), '[]'::jsonb))
    AS document
FROM paid_order o WHERE o.restaurant = $1 AND o.paid_at >= $2 AND o.paid_at < $3
UNION ALL
SELECT a.document FROM archived_order a
WHERE a.restaurant = $1 AND a.paid_at >= $2 AND a.paid_at < $3
  AND NOT EXISTS (SELECT 1 FROM paid_order p WHERE p.public_id = a.public_id)
"""
GONE = {"rejected", "refunded", "voided", "charged_back"}


@dataclass
class OrderSales:
    paid_at: datetime
    ref: str
    ticket: int | None
    status: str
    fulfillment: str
    by_rate: dict[int, list[int]] = field(default_factory=dict)  # rate: [net, vat, gross]
    tip: int = 0
    other_refunds: int = 0  # money given back with no items named: no rate to take it from
    kept: int = 0  # what the restaurant keeps of the charge


def kept(document: Mapping[str, Any]) -> bool:
    """Its money stays with the restaurant, and was charged (not a standing card hold)."""
    held = document.get("capture_mode") == "manual" and not document.get("accepted_at")
    return document.get("status") not in GONE and not held


def order_sales(document: Mapping[str, Any]) -> OrderSales:
    row = OrderSales(
        paid_at=datetime.fromisoformat(str(document["paid_at"])), ref=str(document["public_id"]),
        ticket=document.get("ticket_number"), status=str(document.get("status", "")),
        fulfillment=str(document.get("fulfillment", "")), tip=int(document.get("tip_amount") or 0))
    for item in document.get("items") or []:
        figures = row.by_rate.setdefault(int(item.get("tax_rate") or 0), [0, 0, 0])
        figures[0] += int(item.get("net_amount") or 0)
        figures[1] += int(item.get("tax_amount") or 0)
        figures[2] += int(item.get("gross_amount") or 0)
    by_items = 0
    for refund in document.get("refunds") or []:
        lines = refund.get("lines")
        for line in (json.loads(lines) if isinstance(lines, str) else lines) or []:
            gross, vat = int(line.get("amount") or 0), int(line.get("tax") or 0)
            figures = row.by_rate.setdefault(int(line.get("tax_rate") or 0), [0, 0, 0])
            figures[0] -= gross - vat
            figures[1] -= vat
            figures[2] -= gross
            by_items += gross
    refunded = int(document.get("amount_refunded") or 0)
    row.other_refunds = max(0, refunded - by_items)
    row.kept = int(document.get("amount_charged") or 0) - refunded
    return row


async def sales_in(restaurant: Any, first: date, last: date) -> list[OrderSales]:
    """The orders kept that were paid from `first` to `last` (local days, both included)."""
    tz = zone(restaurant.timezone)
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    rows = await db.fetch(_DOCUMENTS, int(restaurant.id), start, end)
    documents = (json.loads(row["document"]) if isinstance(row["document"], str)
                 else row["document"] for row in rows)
    return sorted((order_sales(document) for document in documents if kept(document)),
                  key=lambda order: order.paid_at)


def _amount(minor: int, currency: str) -> str:
    """Minor units as a plain decimal for a spreadsheet ("12.50"; "1250" in yen)."""
    if currency.lower() in ZERO_DECIMAL:
        return str(minor)
    return str((Decimal(minor) / 100).quantize(Decimal("0.01")))


def to_csv(orders: Iterable[OrderSales], restaurant: Any) -> str:
    orders = list(orders)
    rates = sorted({rate for order in orders for rate in order.by_rate})
    tz, currency = zone(restaurant.timezone), str(restaurant.currency)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    per_rate = [f"{what} {format_rate(rate)} %" for rate in rates
                for what in ("net", "VAT", "gross")]
    writer.writerow(["date", "time", "order", "ticket", "status", "fulfilment", *per_rate,
                     "tip", "refunds without items", "kept", "currency"])
    totals = [0] * (len(rates) * 3 + 3)
    for order in orders:
        local = order.paid_at.astimezone(tz)
        figures = [value for rate in rates for value in order.by_rate.get(rate, [0, 0, 0])]
        figures += [order.tip, order.other_refunds, order.kept]
        totals = [total + value for total, value in zip(totals, figures, strict=True)]
        writer.writerow([local.date().isoformat(), local.strftime("%H:%M"), order.ref,
                         order.ticket if order.ticket is not None else "", order.status,
                         order.fulfillment, *(_amount(value, currency) for value in figures),
                         currency.upper()])
    writer.writerow(["total", "", f"{len(orders)} orders", "", "", "",
                     *(_amount(value, currency) for value in totals), currency.upper()])
    return out.getvalue()
