"""Payment links (Stripe Checkout Sessions) for temp orders: create, defer when Stripe is
down, expire on time, renew on request. Money taken always wins over an expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from arq.connections import ArqRedis

from app.infra.jobs import JobSpec, enqueue_jobs
from app.infra.logging import get_logger
from app.infra.unavailable import DEPENDENCY_ERRORS
from app.notifications.service import enqueue_email, queue_email
from app.ops.funnel import bump
from app.ops.metrics import ORDERS_EXPIRED, PAYMENT_LINKS
from app.orders.models import OrderStatus, TempOrder
from app.orders.views import temp_store
from app.payments.stripe_gateway import PaymentProviderError, get_gateway
from app.settings import get_settings

log = get_logger("orderpass.payment_links")
LINK_RETRY_DELAYS_S = (5, 15, 30, 60, 120, 300, 600)  # deferred link creation backoff


class LinkNotRenewable(Exception):
    pass


def link_retry_delay(attempt: int) -> int:
    return LINK_RETRY_DELAYS_S[min(attempt, len(LINK_RETRY_DELAYS_S) - 1)]


async def attach_new_payment_link(
    redis: ArqRedis, order: TempOrder, *, on_failure: Literal["defer", "raise"],
    submitted: bool = False
) -> TempOrder:
    """Create a Checkout Session for the order and queue the confirmation email.

    The idempotency key is the temp id plus the link number, so retries (ours, the SDK's or
    a re-run job) of the same link never create a second session. `submitted`: the order is
    new, count it in the funnel too (with the link's outcome, in one write)."""
    also = ("submitted",) if submitted else ()
    settings = get_settings()
    expires_at = datetime.now(UTC) + timedelta(minutes=settings.payment_link_minutes)
    key = order.id if order.link_attempts == 0 else f"{order.id}/link-{order.link_attempts}"
    try:
        session = await get_gateway().create_checkout_session(order, expires_at,
                                                              idempotency_key=key)
    except PaymentProviderError as error:
        PAYMENT_LINKS.labels(result="failed").inc()
        await bump(order.restaurant_id, "link_failed", also=also)
        order.link_error = str(error)[:300]
        await temp_store(redis).put(order)
        log.error("payment link failed", order_id=order.id, error=order.link_error,
                  transient=error.transient, deferred=on_failure == "defer")
        if on_failure == "raise":
            raise
        await redis.enqueue_job("create_payment_link", order.id,
                                _job_id=f"link:{order.id}:{order.link_attempts}",
                                _defer_by=link_retry_delay(0))
        return order
    PAYMENT_LINKS.labels(result="created").inc()
    await bump(order.restaurant_id, "link_created", also=also)
    order.checkout_session_id = session.id
    order.payment_url = session.url
    order.expires_at = datetime.fromtimestamp(session.expires_at, UTC)
    order.status = OrderStatus.AWAITING_PAYMENT
    order.link_error = ""
    order.link_attempts += 1
    jobs = [JobSpec("expire_payment_link", (order.id, session.id),
                    job_id=f"expire:{session.id}", defer_until=order.expires_at)]
    # The order is stored before its email row and jobs exist: the email job reads it, and
    # if Redis fails here no email is queued for an order that was never saved.
    await temp_store(redis).put(order)
    if order.link_attempts == 1:
        # The first link goes out by email. A renewed link is asked for on the status page,
        # which shows it at once, so it needs no second confirmation email.
        email = await queue_email("order_confirmation", order.id,
                                  recipient=order.customer.email,
                                  restaurant_id=order.restaurant_id)
        if email is not None:
            jobs.append(email)
    try:
        await enqueue_jobs(redis, jobs)
    except DEPENDENCY_ERRORS as error:
        # The order and its link are saved: the worker's sweeps finish it once Redis is
        # back (queued emails are re-enqueued, expired links found by the expiry index).
        log.warning("order jobs not enqueued; the sweeps will", order_id=order.id,
                    error=repr(error)[:200])
    log.info("payment link created", order_id=order.id, session=session.id,
             expires_at=order.expires_at.isoformat())
    return order


async def _close_link(redis: ArqRedis, temp_id: str, session_id: str, *, to: OrderStatus,
                      open_states: tuple[OrderStatus, ...], email_kind: str
                      ) -> TempOrder | None:
    """Move a temp order whose current link is `session_id` to the closed state `to` and
    tell the customer; the order itself is kept so a new link can be asked for. Idempotent
    (a repeat only re-queues the same email, which sends once); ignores stale sessions."""
    store = temp_store(redis)
    order = await store.get(temp_id)
    if order is None or order.checkout_session_id != session_id:
        return None
    if order.status == to:
        await enqueue_email(redis, email_kind, order.id)  # finishes an interrupted first try
        return None
    if order.status not in open_states:
        return None
    order.status = to
    await store.put(order)
    await enqueue_email(redis, email_kind, order.id)
    return order


async def mark_link_expired(redis: ArqRedis, temp_id: str, session_id: str) -> bool:
    """The link expired unpaid; True if it was open until now."""
    order = await _close_link(redis, temp_id, session_id, to=OrderStatus.PAYMENT_EXPIRED,
                              open_states=(OrderStatus.AWAITING_PAYMENT,),
                              email_kind="link_expired")
    if order is None:
        return False
    ORDERS_EXPIRED.labels(restaurant=order.restaurant_slug).inc()
    await bump(order.restaurant_id, "expired")
    log.info("payment link expired", order_id=order.id, session=session_id)
    return True


async def mark_payment_failed(redis: ArqRedis, temp_id: str, session_id: str) -> bool:
    """A delayed payment method failed: nothing was charged; a new link can be asked for."""
    order = await _close_link(
        redis, temp_id, session_id, to=OrderStatus.PAYMENT_FAILED,
        open_states=(OrderStatus.AWAITING_PAYMENT, OrderStatus.PAYMENT_EXPIRED),
        email_kind="payment_failed")
    if order is None:
        return False
    log.info("delayed payment failed", order_id=order.id, session=session_id)
    return True


async def expire_link_now(redis: ArqRedis, temp_id: str, session_id: str) -> str:
    """Expire the session at Stripe (so a dead link cannot be paid), then close it here.

    If Stripe says the session is already complete, the customer paid in the last moment:
    leave the temp order alone, the payment webhook creates the order."""
    store = temp_store(redis)
    order = await store.get(temp_id)
    if order is None or order.checkout_session_id != session_id:
        return "stale"
    if order.status != OrderStatus.AWAITING_PAYMENT:
        return "not-open"
    gateway = get_gateway()
    session = await gateway.retrieve_checkout_session(session_id, order_ref=temp_id)
    if session.status == "complete":
        log.info("expiry found a completed session; payment wins", order_id=temp_id)
        return "paid"
    if session.status == "open":
        try:
            session = await gateway.expire_checkout_session(session_id, order_ref=temp_id)
        except PaymentProviderError:
            session = await gateway.retrieve_checkout_session(session_id, order_ref=temp_id)
            if session.status == "complete":
                return "paid"
            raise
    await mark_link_expired(redis, temp_id, session_id)
    return "expired"


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
    if order.status not in (OrderStatus.PAYMENT_EXPIRED, OrderStatus.AWAITING_PAYMENT):
        raise LinkNotRenewable(f"this order is {order.status.replace('_', ' ')}")
    return await attach_new_payment_link(redis, order, on_failure="raise")
