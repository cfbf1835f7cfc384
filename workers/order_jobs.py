"""Jobs for unpaid orders: deferred payment-link creation, link expiry and the expiry sweep.

Each change made to an unpaid order is published on the order's channel, as paid orders'
changes are: its status page, open on its live stream, shows the late link (or that none
could be made) by itself, as it promises; an expiry is published by the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from arq import Retry

from app.infra.logging import get_logger
from app.live.feed import publish_unpaid_order_event
from app.manage import hours
from app.orders import payment_links
from app.orders.models import OrderStatus, TempOrder
from app.orders.temp_store import EXPIRY_INDEX
from app.orders.views import temp_store
from app.payments.stripe_gateway import PaymentProviderError

log = get_logger("orderpass.jobs.orders")
MAX_LINK_TRIES = 8  # ~30 minutes of backoff before a human has to look (alerted)


async def _tell_page(redis: Any, order: TempOrder, event: str) -> None:
    """The order's status page re-reads it (best effort: its stream's next snapshot, at
    most a minute away, catches up on a lost one)."""
    await publish_unpaid_order_event(redis, order.restaurant_id, order.id, event)


async def create_payment_link(ctx: dict[str, Any], temp_id: str) -> str:
    """Stripe was down at intake: keep trying, then send the confirmation email."""
    redis = ctx["redis"]
    order = await temp_store(redis).get(temp_id)
    if order is None:
        return "gone"
    if order.checkout_session_id or order.status != OrderStatus.AWAITING_PAYMENT:
        return "already-linked"
    closing = order.open_until if order.scheduled_for is None else None
    if closing is not None and closing <= datetime.now(UTC):  # nobody would make it now
        await payment_links.mark_link_expired(redis, order.id, None, closure_note="")
        log.info("deferred payment link not made: the restaurant has closed",
                 order_id=temp_id)
        return "closed"
    # A closure saved since intake: a link paid then would be rejected and refunded.
    closure = await hours.closure_covering(order.restaurant_id,
                                           order.scheduled_for or datetime.now(UTC))
    if closure is not None:
        await payment_links.mark_link_expired(redis, order.id, None,
                                              closure_note=closure.reason or "")
        log.info("deferred payment link not made: the restaurant is closed then",
                 order_id=temp_id, reason=closure.reason)
        return "closed"
    try:
        order = await payment_links.attach_new_payment_link(redis, order, on_failure="raise")
    except PaymentProviderError as error:
        tries = ctx.get("job_try", 1)
        if tries >= MAX_LINK_TRIES:
            # Never a silent end: the customer is told (page and email), nothing was charged.
            log.error("payment link still failing; giving up", order_id=temp_id, tries=tries)
            await payment_links.give_up_on_link(redis, order)
            await _tell_page(redis, order, "order.link_failed")
            return "failed"
        raise Retry(defer=payment_links.link_retry_delay(tries)) from error
    failed = order.status == OrderStatus.LINK_FAILED  # Stripe refused it for good
    await _tell_page(redis, order, "order.link_failed" if failed else "order.link_created")
    return "failed" if failed else "linked"


async def expire_payment_link(ctx: dict[str, Any], temp_id: str, session_id: str) -> str:
    try:  # an open status page is told by the service (`payment_links._close_link`)
        return await payment_links.expire_link_now(ctx["redis"], temp_id, session_id)
    except PaymentProviderError as error:
        raise Retry(defer=30) from error


async def sweep_expired_links(ctx: dict[str, Any]) -> int:
    """Belt and braces for the deferred expiry jobs (lost on a Redis flush, say)."""
    redis = ctx["redis"]
    grace = datetime.now(UTC) - timedelta(seconds=60)
    closed = 0
    for temp_id in await temp_store(redis).links_expired_before(grace):
        order = await temp_store(redis).get(temp_id)
        if order is None or order.checkout_session_id is None:
            await redis.zrem(EXPIRY_INDEX, temp_id)
            continue
        try:
            if await payment_links.expire_link_now(redis, temp_id,
                                                   order.checkout_session_id) == "expired":
                closed += 1
        except PaymentProviderError as error:
            log.warning("sweep could not expire link", order_id=temp_id, error=str(error))
    return closed
