"""The owner's sales at a glance (`/manage/{slug}`): today and the last 7 days on the
restaurant's own clock, from its paid orders, live and archived. The admin's analytics
(app/ops/analytics.py) count UTC days over every restaurant and sit on the operator side,
which no domain imports: this is the one-restaurant, local-clock reading.

Every figure is of the orders paid in the period (by `paid_at`), whatever became of them:
- paid orders: how many (a card hold is no payment: one still standing, or released, is
  not counted);
- rejected: how many of the orders (card holds too) the kitchen or its timer turned away,
  and how many of those the timer did (nobody accepted them in time): an owner reads there
  that the screen went unwatched;
- gross sales: what their diners paid (tips included; a hold, never captured, is not money
  and counts nothing);
- card holds: what diners' cards are authorised for and not charged yet (manual capture:
  charged when the kitchen accepts, released if it rejects);
- refunds: what went back of them since (rejections, the owner's refunds, partial ones;
  a lost dispute's money too);
- net: gross less refunds;
- tips: the tips of the orders kept (not rejected, refunded in full or charged back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from app.infra import db
from app.templating import zone

_SALES_SQL = """
WITH o AS (
    SELECT status, paid_at, amount_charged::bigint AS charged,
           amount_refunded::bigint AS refunded, tip_amount::bigint AS tip,
           coalesce(capture_mode = 'manual' AND accepted_at IS NULL, false) AS held,
           rejected_at IS NOT NULL AS rejected, auto_rejected
    FROM paid_order WHERE restaurant = $1 AND paid_at >= $2
    UNION ALL
    SELECT a.status, a.paid_at,
           coalesce((a.document->>'amount_charged')::bigint, a.total_amount),
           coalesce((a.document->>'amount_refunded')::bigint, 0),
           coalesce((a.document->>'tip_amount')::bigint, 0),
           coalesce(a.document->>'capture_mode' = 'manual'
                    AND a.document->>'accepted_at' IS NULL, false),
           a.document->>'rejected_at' IS NOT NULL,
           coalesce((a.document->>'auto_rejected')::boolean, false)
    FROM archived_order a
    WHERE a.restaurant = $1 AND a.paid_at >= $2
      AND NOT EXISTS (SELECT 1 FROM paid_order p WHERE p.public_id = a.public_id)
)
SELECT w.name, count(o.paid_at) FILTER (WHERE NOT o.held)::int AS orders,
       coalesce(sum(o.charged) FILTER (WHERE NOT o.held), 0)::bigint AS gross,
       coalesce(sum(CASE WHEN o.status = 'charged_back' THEN o.charged ELSE o.refunded END)
                FILTER (WHERE NOT o.held), 0)::bigint AS refunds,
       coalesce(sum(o.tip) FILTER (
           WHERE NOT o.held AND o.status NOT IN ('rejected', 'refunded', 'charged_back')),
                0)::bigint AS tips,
       count(o.paid_at) FILTER (WHERE o.rejected)::int AS rejected,
       count(o.paid_at) FILTER (WHERE o.rejected AND o.auto_rejected)::int AS auto_rejected,
       coalesce(sum(o.charged) FILTER (
           WHERE o.held AND o.status NOT IN ('voided', 'rejected')), 0)::bigint AS held
FROM (VALUES ('today', $3::timestamptz), ('week', $2::timestamptz)) w(name, since)
LEFT JOIN o ON o.paid_at >= w.since
GROUP BY w.name
"""


@dataclass(frozen=True)
class Figures:
    orders: int = 0
    gross: int = 0  # minor units
    refunds: int = 0
    tips: int = 0
    held: int = 0  # card holds standing, not charged yet
    rejected: int = 0  # orders turned away (card holds included)
    auto_rejected: int = 0  # of them, by the timer

    @property
    def net(self) -> int:
        return self.gross - self.refunds


@dataclass(frozen=True)
class Sales:
    today: Figures
    week: Figures  # the last 7 days, today included
    currency: str
    timezone: str
    week_from: datetime  # local midnight the week starts


async def sales_of(restaurant: Any, now: datetime | None = None) -> Sales:
    tz = zone(restaurant.timezone)
    today = (now or datetime.now(UTC)).astimezone(tz).date()
    day_start = datetime.combine(today, time(0), tzinfo=tz)
    week_start = datetime.combine(today - timedelta(days=6), time(0), tzinfo=tz)
    rows = {row["name"]: row for row in await db.fetch(
        _SALES_SQL, int(restaurant.id), week_start.astimezone(UTC), day_start.astimezone(UTC))}

    def figures(name: str) -> Figures:
        row = rows.get(name)
        return Figures(int(row["orders"]), int(row["gross"]), int(row["refunds"]),
                       int(row["tips"]), int(row["held"]), int(row["rejected"]),
                       int(row["auto_rejected"])) if row else Figures()

    return Sales(today=figures("today"), week=figures("week"), currency=restaurant.currency,
                 timezone=restaurant.timezone, week_from=week_start)
