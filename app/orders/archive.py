"""Archiving: closed orders (completed, rejected, refunded) older than ARCHIVE_AFTER_DAYS
move from `paid_order`/`order_item` to `archived_order` (one jsonb document per order, items
included), in batches, each batch one transaction (INSERT … SELECT + DELETE) over rows
claimed with FOR UPDATE SKIP LOCKED, so two workers never archive the same order.

Reports keep counting archived orders: `all_orders_query()` (and the `all_orders` SQL it
returns) is the union of live and archived orders with the columns analytics needs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.querystring import QueryString

from app.infra.logging import get_logger
from app.piccolo_conf import DB
from app.platform.metrics import ORDERS_ARCHIVED
from app.settings import get_settings

log = get_logger("orderpass.archive")

BATCH = 500
CLOSED_STATUSES = ("completed", "rejected", "refunded", "voided", "charged_back")

# One statement: claim a batch, copy it with its items as documents, delete the originals
# (order_item rows go with ON DELETE CASCADE). Runs inside the caller's transaction.
_ARCHIVE_BATCH = """
WITH claimed AS (
    SELECT id FROM paid_order
    WHERE status = ANY($1::text[])
      AND coalesce(completed_at, refunded_at, voided_at, rejected_at, updated_at) < $2
    ORDER BY id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), copied AS (
    INSERT INTO archived_order (id, public_id, restaurant, status, currency, total_amount,
                                paid_at, closed_at, customer_email, document)
    SELECT o.id, o.public_id, o.restaurant, o.status, o.currency, o.total_amount, o.paid_at,
           coalesce(o.completed_at, o.refunded_at, o.voided_at, o.rejected_at),
           o.customer_email,
           to_jsonb(o) || jsonb_build_object('items', coalesce((
               SELECT jsonb_agg(to_jsonb(i) - 'paid_order' ORDER BY i.id)
               FROM order_item i WHERE i.paid_order = o.id), '[]'::jsonb),
               'refunds', coalesce((
               SELECT jsonb_agg(to_jsonb(r) - 'paid_order' ORDER BY r.id)
               FROM order_refund r WHERE r.paid_order = o.id), '[]'::jsonb))
    FROM paid_order o JOIN claimed c ON c.id = o.id
    ON CONFLICT (id) DO NOTHING
    RETURNING id
)
DELETE FROM paid_order WHERE id IN (SELECT id FROM claimed)
RETURNING id, public_id
"""

ALL_ORDERS_SQL = """
SELECT id, public_id, restaurant, status, currency, total_amount, paid_at,
       coalesce(completed_at, refunded_at, rejected_at) AS closed_at, customer_email,
       false AS archived
FROM paid_order
UNION ALL
SELECT id, public_id, restaurant, status, currency, total_amount, paid_at, closed_at,
       customer_email, true AS archived
FROM archived_order
"""


def all_orders_query() -> str:
    """SQL for every paid order, live or archived (columns: id, public_id, restaurant,
    status, currency, total_amount, paid_at, closed_at, customer_email, archived). Use as a
    subquery: `SELECT … FROM ({all_orders_query()}) AS o WHERE …`."""
    return ALL_ORDERS_SQL.strip()


async def archive_batch(older_than: datetime, batch: int = BATCH) -> int:
    """Archive up to `batch` closed orders closed before `older_than`; one transaction."""
    async with DB.transaction() as transaction:
        rows = await transaction.connection.fetch(_ARCHIVE_BATCH, list(CLOSED_STATUSES),
                                                  older_than, batch)
    for row in rows:
        log.info("order archived", order_id=row["public_id"])
    ORDERS_ARCHIVED.inc(len(rows))
    return len(rows)


async def archive_closed_orders(*, after_days: int | None = None, batch: int = BATCH,
                                max_batches: int = 20) -> int:
    """Archive closed orders older than `after_days` (default ARCHIVE_AFTER_DAYS), batch by
    batch, until none are left or `max_batches` ran (the next run carries on)."""
    days = get_settings().archive_after_days if after_days is None else after_days
    cutoff = datetime.now(UTC) - timedelta(days=days)
    total = 0
    for _ in range(max_batches):
        moved = await archive_batch(cutoff, batch)
        total += moved
        if moved < batch:
            break
    if total:
        log.info("archived closed orders", count=total, older_than_days=days)
    return total


async def load_archived_order(public_id: str) -> dict[str, Any] | None:
    """The archived document of one order (with `items`), or None."""
    rows = await DB.run_querystring(QueryString(
        "SELECT document FROM archived_order WHERE public_id = {}", public_id))
    if not rows:
        return None
    document = rows[0]["document"]
    return dict(json.loads(document) if isinstance(document, str) else document)
