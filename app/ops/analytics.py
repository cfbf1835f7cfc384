"""Analytics for the admin: per day (UTC, as funnel_daily counts) payment conversion, link
expiry, submission→payment, payment→kitchen and prep times (p50/p95), rejection and email
delivery rates, sales (net, VAT, gross) and tips; customer patterns (busiest hours and
weekdays in each restaurant's own time zone, popular items, repeat customers). Archived
orders count where the archive keeps the data (status, time, customer, money); timings and
items come from live orders only. SQL here, rendering elsewhere."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.piccolo_conf import DB

MAX_DAYS = 366
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Live and archived orders as one relation, used until app.orders.archive provides
# `all_orders_query()` (same columns as far as analytics reads them).
ALL_ORDERS_FALLBACK = """
    SELECT o.restaurant, o.status, o.paid_at, o.customer_email, o.total_amount, o.currency
    FROM paid_order o
    UNION ALL
    SELECT a.restaurant, a.status, a.paid_at, a.customer_email, a.total_amount, a.currency
    FROM archived_order a
    WHERE NOT EXISTS (SELECT 1 FROM paid_order p WHERE p.public_id = a.public_id)
"""


@dataclass
class DayStats:
    day: date
    submitted: int = 0
    link_created: int = 0
    paid: int = 0
    expired: int = 0
    orders: int = 0
    rejected: int = 0
    emails_sent: int = 0
    emails_delivered: int = 0
    revenue: int = 0  # minor units: paid orders not rejected or refunded
    # Sales of the orders kept (as revenue), minor units: the goods with VAT (gross), its
    # VAT and net, less the items refunded; tips apart (no VAT). gross + tips = revenue,
    # except for partial refunds made in the Stripe dashboard, which name no items.
    gross_sales: int = 0
    tax: int = 0
    tips: int = 0

    @property
    def net_sales(self) -> int:
        return self.gross_sales - self.tax
    submit_to_pay_p50: float | None = None
    submit_to_pay_p95: float | None = None
    pay_to_kitchen_p50: float | None = None
    pay_to_kitchen_p95: float | None = None
    prep_p50: float | None = None
    prep_p95: float | None = None

    @property
    def conversion(self) -> float | None:
        return ratio(self.paid, self.submitted)

    @property
    def expiry_rate(self) -> float | None:
        return ratio(self.expired, self.link_created)

    @property
    def rejection_rate(self) -> float | None:
        return ratio(self.rejected, self.orders)

    @property
    def delivery_rate(self) -> float | None:
        return ratio(self.emails_delivered, self.emails_sent)


@dataclass
class Report:
    start: date
    end: date  # inclusive
    restaurant_id: int | None
    restaurant_name: str
    days: list[DayStats]
    total: DayStats
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    weekdays: list[int] = field(default_factory=lambda: [0] * 7)
    popular_items: list[dict[str, Any]] = field(default_factory=list)
    currency: str = ""  # of the revenue figures; "" when restaurants of several currencies mix
    repeat_customers: list[dict[str, Any]] = field(default_factory=list)
    customers: int = 0


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def window(days: int, today: date | None = None) -> tuple[date, date]:
    days = max(1, min(days, MAX_DAYS))
    end = today or datetime.now(UTC).date()
    return end - timedelta(days=days - 1), end


async def _fetch(connection: Any, sql: str, *args: Any) -> list[Any]:
    return list(await connection.fetch(sql, *args))


FUNNEL_SQL = """
SELECT day, sum(submitted)::int AS submitted, sum(link_created)::int AS link_created,
       sum(paid)::int AS paid, sum(expired)::int AS expired
FROM funnel_daily
WHERE day BETWEEN $1 AND $2 AND ($3::int IS NULL OR restaurant = $3)
GROUP BY day
"""

# An order whose money stays with the restaurant: not rejected, refunded, released or lost
# in a dispute, and charged (a manual-capture card hold counts once the kitchen accepts and
# it is captured, as on the owner's overview: app/manage/sales.py).
KEPT = ("status NOT IN ('rejected', 'refunded', 'voided', 'charged_back') "
        "AND NOT coalesce(capture_mode = 'manual' AND accepted_at IS NULL, false)")

TIMING_COLUMNS = f"""
  count(*)::int AS orders,
  -- Revenue: what was charged and kept (partial refunds taken off; a released hold, a
  -- rejection and a lost dispute keep nothing; a card hold not captured yet is no sale).
  coalesce(sum(amount_charged - amount_refunded) FILTER (
      WHERE {KEPT}), 0)::bigint
      AS revenue,
  count(*) FILTER (WHERE status IN ('rejected', 'refunded', 'voided')
                   AND rejected_at IS NOT NULL)::int
      AS rejected,
  coalesce(sum(total_amount - tip_amount - item_refunds.gross) FILTER (
      WHERE {KEPT}), 0)::bigint
      AS gross_sales,
  coalesce(sum(tax_amount - item_refunds.tax) FILTER (
      WHERE {KEPT}), 0)::bigint
      AS tax,
  coalesce(sum(tip_amount) FILTER (
      WHERE {KEPT}), 0)::bigint
      AS tips,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM paid_at - submitted_at))
      AS submit_to_pay_p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM paid_at - submitted_at))
      AS submit_to_pay_p95,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM kitchen_shown_at - paid_at))
      AS pay_to_kitchen_p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM kitchen_shown_at - paid_at))
      AS pay_to_kitchen_p95,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ready_at - accepted_at))
      AS prep_p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM ready_at - accepted_at))
      AS prep_p95
"""

# What refunds of items gave back of each order (gross, and the VAT in it): the lines an
# admin refund records (app/payments/partial_refunds.py).
ITEM_REFUNDS = """
LEFT JOIN LATERAL (
    SELECT coalesce(sum((line->>'amount')::bigint), 0) AS gross,
           coalesce(sum((line->>'tax')::bigint), 0) AS tax
    FROM order_refund r, jsonb_array_elements(
        CASE jsonb_typeof(r.lines) WHEN 'array' THEN r.lines ELSE '[]'::jsonb END) line
    WHERE r.paid_order = paid_order.id) item_refunds ON true
"""

ORDERS_WHERE = f"""
FROM paid_order {ITEM_REFUNDS}
WHERE paid_at >= $1::date::timestamp AT TIME ZONE 'UTC'
  AND paid_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
  AND ($3::int IS NULL OR restaurant = $3)
"""

ORDERS_BY_DAY_SQL = f"""
SELECT (paid_at AT TIME ZONE 'UTC')::date AS day, {TIMING_COLUMNS}
{ORDERS_WHERE}
GROUP BY 1
"""

ORDERS_TOTAL_SQL = f"SELECT {TIMING_COLUMNS} {ORDERS_WHERE}"

# Archived orders: counted and rejections known, no timings.
ARCHIVED_BY_DAY_SQL = """
SELECT (a.paid_at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS orders,
       coalesce(sum(a.total_amount - coalesce((a.document->>'tip_amount')::bigint, 0)
                    - refunded.gross) FILTER (
           WHERE a.status NOT IN ('rejected', 'refunded', 'voided', 'charged_back')),
                0)::bigint AS gross_sales,
       coalesce(sum(coalesce((a.document->>'tax_amount')::bigint, 0) - refunded.tax) FILTER (
           WHERE a.status NOT IN ('rejected', 'refunded', 'voided', 'charged_back')),
                0)::bigint AS tax,
       coalesce(sum(coalesce((a.document->>'tip_amount')::bigint, 0)) FILTER (
           WHERE a.status NOT IN ('rejected', 'refunded', 'voided', 'charged_back')),
                0)::bigint AS tips,
       coalesce(sum(coalesce((a.document->>'amount_charged')::bigint, a.total_amount)
                    - coalesce((a.document->>'amount_refunded')::bigint, 0)) FILTER (
           WHERE a.status NOT IN ('rejected', 'refunded', 'voided', 'charged_back')),
                0)::bigint AS revenue,
       count(*) FILTER (WHERE a.status IN ('rejected', 'refunded', 'voided')
                        AND a.document->>'rejected_at' IS NOT NULL)::int AS rejected
FROM archived_order a
LEFT JOIN LATERAL (
    SELECT coalesce(sum((line->>'amount')::bigint), 0) AS gross,
           coalesce(sum((line->>'tax')::bigint), 0) AS tax
    FROM jsonb_array_elements(CASE jsonb_typeof(a.document->'refunds')
                              WHEN 'array' THEN a.document->'refunds' ELSE '[]'::jsonb END) r,
         jsonb_array_elements(CASE jsonb_typeof(r->'lines')
                              WHEN 'array' THEN r->'lines' ELSE '[]'::jsonb END) line
    ) refunded ON true
WHERE a.paid_at >= $1::date::timestamp AT TIME ZONE 'UTC'
  AND a.paid_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
  AND ($3::int IS NULL OR a.restaurant = $3)
  AND NOT EXISTS (SELECT 1 FROM paid_order p WHERE p.public_id = a.public_id)
GROUP BY 1
"""

EMAIL_SQL = """
SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) FILTER (WHERE sent_at IS NOT NULL
                        OR status IN ('sent', 'delivered', 'delayed', 'bounced', 'complained')
                        )::int AS sent,
       count(*) FILTER (WHERE status = 'delivered')::int AS delivered
FROM email_message
WHERE created_at >= $1::date::timestamp AT TIME ZONE 'UTC'
  AND created_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
  AND ($3::int IS NULL OR restaurant = $3)
GROUP BY 1
"""

PATTERN_SQL = """
SELECT extract(hour FROM o.paid_at AT TIME ZONE r.timezone)::int AS hour,
       extract(isodow FROM o.paid_at AT TIME ZONE r.timezone)::int AS weekday,
       count(*)::int AS orders
FROM ({all_orders}) o JOIN restaurant r ON r.id = o.restaurant
WHERE o.paid_at >= $1::date::timestamp AT TIME ZONE 'UTC'
  AND o.paid_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
  AND ($3::int IS NULL OR o.restaurant = $3)
GROUP BY 1, 2
"""

POPULAR_SQL = """
SELECT i.name, sum(i.quantity)::int AS quantity, sum(i.quantity * i.unit_amount)::bigint
       AS revenue, o.currency, count(DISTINCT o.id)::int AS orders
FROM order_item i JOIN paid_order o ON o.id = i.paid_order
WHERE o.paid_at >= $1::date::timestamp AT TIME ZONE 'UTC'
  AND o.paid_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
  AND ($3::int IS NULL OR o.restaurant = $3)
  AND o.status NOT IN ('rejected', 'refunded', 'voided', 'charged_back')
GROUP BY i.name, o.currency
ORDER BY quantity DESC, revenue DESC, i.name
LIMIT 10
"""

CUSTOMERS_SQL = """
SELECT lower(o.customer_email) AS email, count(*)::int AS orders,
       sum(o.total_amount)::bigint AS spent, min(o.currency) AS currency,
       min(o.paid_at) AS first_order, max(o.paid_at) AS last_order
FROM ({all_orders}) o
WHERE o.paid_at >= $1::date::timestamp AT TIME ZONE 'UTC'
  AND o.paid_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
  AND ($3::int IS NULL OR o.restaurant = $3)
GROUP BY 1
ORDER BY orders DESC, last_order DESC
"""


CURRENCY_SQL = """
SELECT DISTINCT currency FROM restaurant WHERE ($1::int IS NULL OR id = $1)
"""


def all_orders_sql() -> str:
    """Every paid order, live or archived (the archive's own query when it exists)."""
    try:
        from app.orders.archive import all_orders_query
    except ImportError:
        return ALL_ORDERS_FALLBACK
    return all_orders_query()


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


SALES = ("gross_sales", "tax", "tips")


def _add_sales(stats: DayStats, row: Any) -> None:
    for name in SALES:
        setattr(stats, name, getattr(stats, name) + row[name])


def _apply_timings(stats: DayStats, row: Any) -> None:
    stats.orders += row["orders"]
    stats.rejected += row["rejected"]
    stats.revenue += row["revenue"]
    _add_sales(stats, row)
    for name in ("submit_to_pay_p50", "submit_to_pay_p95", "pay_to_kitchen_p50",
                 "pay_to_kitchen_p95", "prep_p50", "prep_p95"):
        setattr(stats, name, _seconds(row[name]))


async def report(restaurant_id: int | None, days: int = 30, *, restaurant_name: str = "",
                 today: date | None = None) -> Report:
    start, end = window(days, today)
    by_day = {start + timedelta(days=offset): DayStats(start + timedelta(days=offset))
              for offset in range((end - start).days + 1)}
    total = DayStats(start)
    async with DB.transaction() as transaction:  # one consistent snapshot for the report
        connection = transaction.connection
        await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        result = await _collect(connection, start, end, restaurant_id, restaurant_name,
                                by_day, total)
    return result


async def _collect(connection: Any, start: date, end: date, restaurant_id: int | None,
                   restaurant_name: str, by_day: dict[date, DayStats], total: DayStats
                   ) -> Report:
    args = (start, end, restaurant_id)
    for row in await _fetch(connection, FUNNEL_SQL, *args):
        stats = by_day[row["day"]]
        for name in ("submitted", "link_created", "paid", "expired"):
            setattr(stats, name, row[name])
            setattr(total, name, getattr(total, name) + row[name])
    for row in await _fetch(connection, ORDERS_BY_DAY_SQL, *args):
        _apply_timings(by_day[row["day"]], row)
    [overall] = await _fetch(connection, ORDERS_TOTAL_SQL, *args)
    _apply_timings(total, overall)
    for row in await _fetch(connection, ARCHIVED_BY_DAY_SQL, *args):
        by_day[row["day"]].orders += row["orders"]
        by_day[row["day"]].rejected += row["rejected"]
        by_day[row["day"]].revenue += row["revenue"]
        _add_sales(by_day[row["day"]], row)
        total.orders += row["orders"]
        total.rejected += row["rejected"]
        total.revenue += row["revenue"]
        _add_sales(total, row)
    for row in await _fetch(connection, EMAIL_SQL, *args):
        by_day[row["day"]].emails_sent = row["sent"]
        by_day[row["day"]].emails_delivered = row["delivered"]
        total.emails_sent += row["sent"]
        total.emails_delivered += row["delivered"]
    result = Report(start=start, end=end, restaurant_id=restaurant_id,
                    restaurant_name=restaurant_name or "All restaurants",
                    days=[by_day[day] for day in sorted(by_day)], total=total)
    currencies = await _fetch(connection, CURRENCY_SQL, restaurant_id)
    result.currency = currencies[0]["currency"] if len(currencies) == 1 else ""
    for row in await _fetch(connection, PATTERN_SQL.format(all_orders=all_orders_sql()),
                             *args):
        result.hours[row["hour"]] += row["orders"]
        result.weekdays[row["weekday"] - 1] += row["orders"]
    result.popular_items = [dict(row) for row in await _fetch(connection, POPULAR_SQL, *args)]
    customers = [dict(row) for row in await _fetch(
        connection, CUSTOMERS_SQL.format(all_orders=all_orders_sql()), *args)]
    result.customers = len(customers)
    result.repeat_customers = [row for row in customers if row["orders"] > 1][:20]
    return result


CSV_COLUMNS = ("day", "submitted", "link_created", "paid", "expired", "conversion_rate",
               "link_expiry_rate", "orders", "rejected", "rejection_rate",
               "submit_to_pay_p50_s", "submit_to_pay_p95_s", "pay_to_kitchen_p50_s",
               "pay_to_kitchen_p95_s", "prep_p50_s", "prep_p95_s", "emails_sent",
               "emails_delivered", "email_delivery_rate", "revenue",
               # Sales (minor units): net + tax = gross; tips apart, no VAT on them.
               "net_sales", "tax", "gross_sales", "tips")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))
    return str(value)


def _row(label: str, stats: DayStats) -> list[str]:
    values = [label, stats.submitted, stats.link_created, stats.paid, stats.expired,
              stats.conversion, stats.expiry_rate, stats.orders, stats.rejected,
              stats.rejection_rate, stats.submit_to_pay_p50, stats.submit_to_pay_p95,
              stats.pay_to_kitchen_p50, stats.pay_to_kitchen_p95, stats.prep_p50,
              stats.prep_p95, stats.emails_sent, stats.emails_delivered, stats.delivery_rate,
              stats.revenue, stats.net_sales, stats.tax, stats.gross_sales, stats.tips]
    return [_cell(value) for value in values]


def to_csv(result: Report) -> str:
    """One row per day, then a `total` row. Cells starting with = + - @ cannot occur (all
    values are numbers or dates), so no spreadsheet formula escaping is needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for stats in result.days:
        writer.writerow(_row(stats.day.isoformat(), stats))
    writer.writerow(_row("total", result.total))
    return buffer.getvalue()
