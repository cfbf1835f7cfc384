"""A new payment link for an unpaid order whose link expired, failed or never came: the
order is checked against the menu as it is now first (intake's `recheck`), then linked as
at intake (`payment_links.attach_new_payment_link`). A module of its own: intake itself
uses payment_links, so the check cannot live there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.orders.intake import IntakeError, recheck
from app.orders.models import OrderStatus, TempOrder
from app.orders.payment_links import LinkNotRenewable, MenuChanged, attach_new_payment_link
from app.orders.views import temp_store

log = get_logger("orderpass.payment_links")
# What intake's `recheck` names when the restaurant would not take the order now, whatever
# its dishes (closed, paused, not taking orders, the slot no longer offered): said as it is,
# not as "the menu changed".
WHEN_FIELDS = frozenset({"restaurant", "scheduled_for"})


class NotTakingNow(LinkNotRenewable):
    """The restaurant would not take this order now (closed, paused, the slot gone): a
    conflict with the restaurant's state (409), said in intake's words."""


async def renew_payment_link(redis: ArqRedis, temp_id: str) -> TempOrder:
    """A fresh link for an unpaid order whose link expired (or never got created)."""
    store = temp_store(redis)
    order = await store.get(temp_id)
    if order is None:
        raise LinkNotRenewable("this order is no longer available; please order again")
    open_link = (order.status == OrderStatus.AWAITING_PAYMENT and order.payment_url
                 and order.expires_at and order.expires_at > datetime.now(UTC))
    if open_link:
        return order
    renewable = (OrderStatus.PAYMENT_EXPIRED, OrderStatus.AWAITING_PAYMENT,
                 OrderStatus.PAYMENT_FAILED, OrderStatus.LINK_FAILED)
    if order.status not in renewable:
        raise LinkNotRenewable(f"this order is {order.status.replace('_', ' ')}")
    if (order.scheduled_for is not None and order.pay_by is not None
            and order.pay_by <= datetime.now(UTC) + timedelta(minutes=1)):
        raise LinkNotRenewable("the time you chose is too close now for the kitchen to make "
                               "it; please order again")
    # The menu may have changed since the order was priced: a link paid for a dish sold out
    # meanwhile would charge for what the kitchen cannot make.
    try:
        await recheck(order)
    except IntakeError as error:
        if set(error.errors) <= WHEN_FIELDS:  # closed, paused, the slot gone: not the dishes
            log.info("payment link not renewed: not taking it now", order_id=order.id,
                     problems=list(error.errors.values()))
            raise NotTakingNow(next(iter(error.errors.values()))) from None
        log.info("payment link not renewed: the menu changed", order_id=order.id,
                 problems=list(error.errors.values()))
        raise MenuChanged(error.errors, order.restaurant_slug) from None
    return await attach_new_payment_link(redis, order, on_failure="raise")
