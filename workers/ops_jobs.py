"""Operations crons: reconciliation with Stripe, abandoned temp-order cleanup, archiving,
retention and alert evaluation. Jobs only call services (app/payments/reconciliation.py,
app/ops/…)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from app.infra.logging import get_logger
from app.ops.alerts import evaluate_alerts
from app.orders.archive import archive_closed_orders
from app.orders.cleanup import cleanup_abandoned_temp_orders
from app.payments.reconciliation import reconcile
from app.platform.retention import prune_old_records
from app.settings import get_settings

log = get_logger("orderpass.jobs.ops")


async def reconcile_with_stripe(ctx: dict[str, Any]) -> dict[str, int]:
    """Create missing orders, record discrepancies (apply mode) over the configured window."""
    settings = ctx.get("settings") or get_settings()
    report = await reconcile(ctx["redis"], since=timedelta(hours=settings.reconcile_window_hours),
                             apply=True)
    counts = report.counts()
    if report.errors:
        log.error("reconciliation had errors", errors=report.errors[:10])
    return {**counts, "errors": len(report.errors)}


async def cleanup_temp_orders(ctx: dict[str, Any]) -> dict[str, int]:
    result = await cleanup_abandoned_temp_orders(ctx["redis"])
    return {"removed": result.removed, "counted_expired": result.counted_expired,
            "index_pruned": result.index_pruned}


async def archive_orders(ctx: dict[str, Any]) -> int:
    return await archive_closed_orders()


async def prune_records(ctx: dict[str, Any]) -> dict[str, int]:
    return asdict(await prune_old_records())


async def evaluate_ops_alerts(ctx: dict[str, Any]) -> list[str]:
    notices = await evaluate_alerts(ctx["redis"], ctx.get("settings"))
    return [f"{notice.name}:{notice.state}" for notice in notices]
