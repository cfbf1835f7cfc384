"""Retention of records that only grow: webhook deliveries (the admin inbox's evidence) and
outbox rows already delivered. Orders are archived, never pruned (app/orders/archive.py); the
Stripe event ids that make webhooks exactly-once are kept; dead-lettered outbox rows wait
for a human.

Deleted in batches of BATCH rows, each its own short statement, so a large first run never
holds locks on a busy table for long; a run stops after `max_batches`, the next one goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.infra import db
from app.infra.logging import get_logger
from app.settings import get_settings

log = get_logger("orderpass.retention")

BATCH = 1000

_PRUNE_DELIVERIES = """
DELETE FROM webhook_delivery WHERE id IN (
    SELECT id FROM webhook_delivery WHERE received_at < $1 ORDER BY received_at LIMIT $2)
RETURNING id
"""
_PRUNE_OUTBOX = """
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox WHERE status = 'done' AND done_at < $1 LIMIT $2)
RETURNING id
"""


@dataclass(frozen=True)
class Pruned:
    webhook_deliveries: int
    outbox_rows: int


async def _prune(sql: str, cutoff: datetime, batch: int, max_batches: int) -> int:
    total = 0
    for _ in range(max_batches):
        removed = len(await db.fetch(sql, cutoff, batch))
        total += removed
        if removed < batch:
            break
    return total


async def prune_old_records(*, now: datetime | None = None, batch: int = BATCH,
                            max_batches: int = 100) -> Pruned:
    """Delete webhook deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS and delivered
    outbox rows older than OUTBOX_RETENTION_DAYS."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    pruned = Pruned(
        webhook_deliveries=await _prune(
            _PRUNE_DELIVERIES, now - timedelta(days=settings.webhook_delivery_retention_days),
            batch, max_batches),
        outbox_rows=await _prune(
            _PRUNE_OUTBOX, now - timedelta(days=settings.outbox_retention_days),
            batch, max_batches))
    if pruned.webhook_deliveries or pruned.outbox_rows:
        log.info("old records pruned", webhook_deliveries=pruned.webhook_deliveries,
                 outbox_rows=pruned.outbox_rows)
    return pruned
