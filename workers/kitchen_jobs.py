"""Kitchen cron jobs: auto-reject (and refund or void) paid orders nobody accepted in time,
and retry refunds that failed; put scheduled orders on the board when their time comes;
reject orders paid inside a closure after it was added. Call the lifecycle, release and
hours services; safe to run twice."""

from __future__ import annotations

from typing import Any

from app.infra.logging import get_logger
from app.manage import hours
from app.orders import lifecycle, release, sold_out_links

log = get_logger("orderpass.worker.kitchen")


async def auto_reject_unaccepted(ctx: dict[str, Any]) -> dict[str, list[str]]:
    redis = ctx["redis"]
    rejected = await lifecycle.auto_reject_overdue(redis=redis)
    refunded = await lifecycle.retry_failed_refunds(redis=redis)
    if rejected or refunded:
        log.info("kitchen sweep", auto_rejected=rejected, refunds_retried=refunded)
    return {"auto_rejected": rejected, "refunds_retried": refunded}


async def expire_links_with_sold_out(ctx: dict[str, Any], restaurant_id: int, dish: str,
                                     item_id: int | None, option_id: int | None) -> list[str]:
    """Queued when the kitchen 86's a dish or option (`app.kitchen.floor`)."""
    return await sold_out_links.expire_links_with(ctx["redis"], restaurant_id, dish,
                                                  item_id=item_id, option_id=option_id)


async def release_scheduled_orders(ctx: dict[str, Any]) -> list[str]:
    return await release.release_due(ctx["redis"])


async def reject_orders_in_closures(ctx: dict[str, Any]) -> list[str]:
    """Queued shortly after each closure is added (`hours.LATE_ORDERS_JOB`), and a cron."""
    return await hours.reject_late_orders(ctx["redis"])


async def expire_links_in_closure(ctx: dict[str, Any], closure_id: int) -> list[str]:
    """Queued when a closure is added (`hours.CLOSE_LINKS_JOB`)."""
    return await hours.expire_links_in_closure(ctx["redis"], closure_id)
