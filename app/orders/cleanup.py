"""Abandoned temporary orders: unpaid orders whose link expired or whose payment failed
(or whose link was never created) more than TEMP_ORDER_CLEANUP_HOURS ago leave Redis before
their TTL would drop them, are counted in the funnel as expired if nothing counted them
yet, and leave no dead member in the link-expiry index. Redis is not the record of a paid
order, so removing a temp copy never loses one (a paid order is rebuilt from Stripe)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from app.infra.logging import get_logger
from app.orders.models import OrderStatus, TempOrder
from app.orders.temp_store import TempOrderStore
from app.orders.views import temp_store
from app.platform.funnel import bump
from app.platform.metrics import ORDERS_EXPIRED, TEMP_ORDERS_CLEANED
from app.settings import get_settings

log = get_logger("orderpass.cleanup")
SCAN_COUNT = 500


@dataclass
class CleanupResult:
    removed: int = 0
    counted_expired: int = 0
    index_pruned: int = 0


def _abandoned_since(order: TempOrder) -> datetime | None:
    """When the order stopped being payable, if it did; None while it can still be paid."""
    if order.status in (OrderStatus.PAYMENT_EXPIRED, OrderStatus.PAYMENT_FAILED):
        return order.updated_at or order.expires_at or order.created_at
    if order.status == OrderStatus.AWAITING_PAYMENT:
        if order.expires_at is not None:
            return order.expires_at  # its expiry was never processed
        if not order.checkout_session_id:
            return order.updated_at or order.created_at  # no link could ever be made
    return None


async def _remove(store: TempOrderStore, temp_id: str, cutoff: datetime,
                  result: CleanupResult) -> None:
    def abandoned(order: TempOrder) -> bool:
        since = _abandoned_since(order)
        return since is not None and since < cutoff

    try:
        order = await store.delete_if(temp_id, abandoned)
    except ValueError:
        log.warning("undecodable temp order left alone", order_id=temp_id)
        return
    if order is None:
        return
    since = _abandoned_since(order)
    assert since is not None
    result.removed += 1
    TEMP_ORDERS_CLEANED.inc()
    if order.status != OrderStatus.PAYMENT_EXPIRED:  # mark_link_expired counted those
        await bump(order.restaurant_id, "expired")
        ORDERS_EXPIRED.labels(restaurant=order.restaurant_slug).inc()
        result.counted_expired += 1
    log.info("abandoned temp order removed", order_id=temp_id, status=order.status,
             abandoned_since=since.isoformat())


async def prune_expiry_index(store: TempOrderStore, older_than_s: float = 3600) -> int:
    """Drop index members whose temp order is gone (TTL, flush) or no longer awaiting."""
    dead = await store.prune_expiry_index(older_than_s)
    if dead:
        log.info("pruned dead link-expiry members", count=dead)
    return dead


async def cleanup_abandoned_temp_orders(redis: Redis, *, older_than_hours: float | None = None
                                        ) -> CleanupResult:
    """Remove temp orders abandoned more than `older_than_hours` ago (default
    TEMP_ORDER_CLEANUP_HOURS) and prune the link-expiry index."""
    hours = get_settings().temp_order_cleanup_hours if older_than_hours is None \
        else older_than_hours
    cutoff = datetime.now(UTC) - timedelta(hours=hours)
    result = CleanupResult()
    store = temp_store(redis)
    async for temp_id in store.ids(SCAN_COUNT):
        await _remove(store, temp_id, cutoff, result)
    result.index_pruned = await prune_expiry_index(store)
    if result.removed or result.index_pruned:
        log.info("temp order cleanup", removed=result.removed,
                 counted_expired=result.counted_expired, index_pruned=result.index_pruned)
    return result
