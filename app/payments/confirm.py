"""`confirm_paid_session`: a Checkout Session Stripe holds money for becomes exactly one paid
order, with its kitchen publish and its follow-up (payment email, outbox bookkeeping, funnel,
temp-order clean-up). The one path for the webhook, reconciliation, the admin's "create the
order" fix and the admin's event replay."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.notifications import service as notifications
from app.orders.views import temp_store
from app.payments.fulfilment import (
    PAYMENT_EMAIL,
    Fulfilment,
    outbox_rows,
    record_event_once,
    record_paid_session,
)
from app.payments.session_state import paid_or_authorised
from app.payments.stripe_data import CheckoutSession
from app.payments.stripe_gateway import get_gateway, metadata_of
from app.platform import funnel, outbox
from app.platform.metrics import ORDERS_PAID, PAYMENT_TO_KITCHEN
from app.restaurants.services import slug_of

log = get_logger("orderpass.payments.confirm")


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
    return metadata_of(session).get("temp_order_id") or session.client_reference_id or ""


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
    """Tell the kitchen now (the latency a cook sees) and return the rest of the fast path
    (payment email, outbox bookkeeping, funnel, temp-order clean-up), which the webhook runs
    after its 2xx has gone out: Stripe needs only the commit, and the outbox covers a crash.
    Failures here are logged, never raised: the outbox relay re-delivers what did not get
    done."""
    assert fulfilment.restaurant_id is not None
    restaurant_id = fulfilment.restaurant_id
    kitchen, email = outbox_rows(fulfilment.order_ref, restaurant_id, fulfilment.recipient)
    published = await outbox.deliver_now(redis, [kitchen], mark=False)
    if published:
        PAYMENT_TO_KITCHEN.observe(time.perf_counter() - received)

    async def finish() -> None:
        # One Redis round trip and one Postgres statement, where the email's row, its job,
        # the outbox mark, the funnel and the temp order took three and two.
        delivered = [kitchen] if published else []
        if await _send_email_and_drop_temp(redis, fulfilment.order_ref):
            delivered.append(email)
        # "paid" is counted with the bookkeeping (analytics: at most lost with it)
        await outbox.mark_done(delivered, also=funnel.bump_cte("paid", 3),
                               also_args=funnel.bump_parameters(restaurant_id))
        try:  # labelled by slug, as every metric with a restaurant
            ORDERS_PAID.labels(restaurant=await slug_of(restaurant_id)).inc()
        except Exception as error:
            log.warning("paid order not counted", order_id=fulfilment.order_ref,
                        error=str(error))

    return finish


async def _send_email_and_drop_temp(redis: ArqRedis, order_ref: str) -> bool:
    """Enqueue the payment email's send job (its row was committed with the order) and
    remove the temp order, in one round trip; True if the job is in arq's hands (the
    email's outbox row is then done)."""
    try:
        async with redis.pipeline(transaction=False) as pipe:
            notifications.queue_send(pipe, redis, PAYMENT_EMAIL, order_ref)
            temp_store(redis).queue_delete(pipe, order_ref)
            queued, *dropped = await pipe.execute(raise_on_error=False)
    except Exception as error:
        log.warning("payment email not enqueued; the outbox relay will", order_id=order_ref,
                    error=str(error)[:300])
        return False
    if any(isinstance(result, Exception) for result in dropped):
        log.warning("temp order not removed (it expires)", order_id=order_ref)
    if isinstance(queued, Exception):
        log.warning("payment email not enqueued; the outbox relay will", order_id=order_ref,
                    error=str(queued)[:300])
        return False
    return True
