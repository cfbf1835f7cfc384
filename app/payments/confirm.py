"""`confirm_paid_session`: a Checkout Session Stripe holds money for becomes exactly one paid
order, with its kitchen publish and its follow-up (payment email, outbox bookkeeping, funnel,
temp-order clean-up). The one path for the webhook, reconciliation, the admin's "create the
order" fix and the admin's event replay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.live import feed
from app.notifications import service as notifications
from app.orders.views import temp_store
from app.payments.fulfilment import (
    Fulfilment,
    outbox_rows,
    record_event_once,
    record_paid_session,
)
from app.payments.session_state import paid_or_authorised
from app.payments.stripe_data import CheckoutSession
from app.payments.stripe_gateway import get_gateway, temp_order_ref
from app.platform import funnel, outbox
from app.platform.metrics import ORDERS_PAID, PAYMENT_TO_KITCHEN
from app.platform.outbox import OutboxRow
from app.restaurants.services import slug_of

log = get_logger("orderpass.payments.confirm")
# The bookkeeping after a paid order's answer rides out a Postgres restart this long: the
# cook saw the order either way, but the relay's "shown" mark would come 10 to 20 s later.
FOLLOW_UP_RETRY_S = 5.0


@dataclass(frozen=True)
class Outcome:
    result: str
    order_ref: str = ""
    # Work to run once the 2xx is sent (the fast path's email and bookkeeping). A caller that
    # answers nobody (reconciliation, admin) awaits it at once: `await outcome.finish()`.
    follow_up: Callable[[], Awaitable[None]] | None = None

    async def finish(self) -> None:
        if self.follow_up is not None:
            await self.follow_up()


def order_ref_of(session: CheckoutSession) -> str:
    return temp_order_ref(session)


async def confirm_paid_session(redis: ArqRedis, session: CheckoutSession, *,
                               event_id: str, event_type: str,
                               received: float | None = None,
                               remember_unpaid: bool = True) -> Outcome:
    """Record the paid order for `session` once (`event_id` dedupes). A session Stripe does
    not hold money for yet (a delayed payment method) is `awaiting_async_result`: its
    `async_payment_*` event decides; `remember_unpaid` records the event (webhooks only: a
    synthetic id such as `reconcile:<session>` must stay free for when it is paid)."""
    received = time.perf_counter() if received is None else received
    temp_id = order_ref_of(session)
    if not await paid_or_authorised(get_gateway(), session, order_ref=temp_id):
        if remember_unpaid:
            await record_event_once(event_id, event_type, session.id, "awaiting_async_result")
        return Outcome("awaiting_async_result", temp_id)
    fulfilment = await record_paid_session(redis, session, event_id=event_id,
                                           event_type=event_type)
    if fulfilment.outcome != "created":
        return Outcome(fulfilment.outcome, fulfilment.order_ref)
    finish = await publish_paid(redis, fulfilment, received)
    return Outcome(fulfilment.outcome, fulfilment.order_ref, follow_up=finish)


async def publish_paid(redis: ArqRedis, fulfilment: Fulfilment, received: float
                       ) -> Callable[[], Awaitable[None]]:
    """Right after commit, in one Redis round trip: tell the kitchen and the customer's page
    (the latency a cook sees), enqueue the payment email's send job (its row was committed
    with the order) and remove the temp order. Returns the bookkeeping (the delivered outbox
    rows marked done, the funnel's "paid", the metric), which the webhook runs once its 2xx
    has gone out: one statement, committed without waiting for the flush. Failures here are
    logged, never raised: the outbox relay re-delivers what was not done."""
    assert fulfilment.restaurant_id is not None
    restaurant_id = fulfilment.restaurant_id
    kitchen, email = outbox_rows(fulfilment.order_ref, restaurant_id, fulfilment.recipient,
                                 email_kind=fulfilment.email_kind)
    published, queued = await _publish_and_queue(redis, kitchen, fulfilment.order_ref,
                                                 fulfilment.email_kind)
    if published:
        PAYMENT_TO_KITCHEN.observe(time.perf_counter() - received)
    delivered = [row for row, done in ((kitchen, published), (email, queued)) if done]

    async def finish() -> None:
        # "paid" is counted with the bookkeeping (analytics: at most lost with it)
        await outbox.mark_done(delivered, also=funnel.bump_cte("paid", 3),
                               also_args=funnel.bump_parameters(restaurant_id),
                               retry_s=FOLLOW_UP_RETRY_S)
        try:  # labelled by slug, as every metric with a restaurant
            ORDERS_PAID.labels(restaurant=await slug_of(restaurant_id)).inc()
        except Exception as error:
            log.warning("paid order not counted", order_id=fulfilment.order_ref,
                        error=str(error))

    return finish


async def _publish_and_queue(redis: ArqRedis, kitchen: OutboxRow, order_ref: str,
                             email_kind: str) -> tuple[bool, bool]:
    """(the kitchen was told, the payment email's job is in arq's hands): the kitchen row's
    PUBLISHes, the email's job and the temp order's removal, each checked on its own, in
    one round trip where they took three (and two tasks for the timeouts)."""
    try:
        async with redis.pipeline(transaction=False) as pipe:
            feed.queue_order_event(pipe, int(kitchen.payload["restaurant_id"]), order_ref,
                                   str(kitchen.payload["event"]))
            notifications.queue_send(pipe, redis, email_kind, order_ref)
            temp_store(redis).queue_delete(pipe, order_ref)
            async with asyncio.timeout(feed.PUBLISH_TIMEOUT_S):
                results = await pipe.execute(raise_on_error=False)
    except Exception as error:
        log.warning("paid order not published; the outbox relay will", order_id=order_ref,
                    error=str(error)[:300])
        return False, False
    to_kitchen, to_page, email_job, *temp_removal = results
    published = not any(isinstance(result, Exception) for result in (to_kitchen, to_page))
    queued = not isinstance(email_job, Exception)
    if not published:
        log.warning("order event not published; the outbox relay will", order_id=order_ref)
    if not queued:
        log.warning("payment email not enqueued; the outbox relay will", order_id=order_ref)
    if any(isinstance(result, Exception) for result in temp_removal):
        log.warning("temp order not removed (its TTL removes it)", order_id=order_ref)
    return published, queued
