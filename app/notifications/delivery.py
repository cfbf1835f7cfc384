"""Sending an email: load the order, compose, take a rate-limit slot, send through Resend
(a batch when the backlog is large), fall back to the SMTP relay when Resend keeps failing,
and record the outcome on the row. Jobs call `deliver`; `RetryLater` tells them to retry.

A batch is prepared ahead of its slot: the job reserves its send moment on the shared pacer
(`ratelimit`), sleeps until PREPARE_LEAD_S before it, claims and prepares the backlog (one
round trip per step for the whole batch, not per email), and sends on the moment. Rows a
batch sent have their own queued jobs dropped (`drop_queued_jobs`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import uuid
import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from arq.connections import ArqRedis
from redis.exceptions import LockError

from app.accounts import emails as account_emails
from app.infra.jobs import drop_queued_jobs, reschedule_queued_jobs
from app.infra.logging import get_logger
from app.infra.unavailable import DEPENDENCY_ERRORS
from app.infra.urls import redis_url
from app.manage import hours
from app.notifications import gateway, recipient_cap, service
from app.notifications.compose import RenderedEmail, RestaurantContact, render_email
from app.notifications.gateway import AlreadySentError, PermanentSendError, TransientSendError
from app.notifications.ratelimit import RateLimited, SharedRateLimiter, shared_limiter
from app.notifications.service import EmailRow, job_id_of_key
from app.notifications.smtp import SmtpSendError, build_message, send_smtp
from app.orders.models import OrderView
from app.orders.views import load_order_view, load_order_views
from app.platform import funnel
from app.restaurants.tables import Restaurant
from app.settings import Settings, get_settings

log = get_logger("orderpass.email")

MAX_TRIES = 12  # arq tries per email job (registered with this max_tries)
JOB_TIMEOUT_S = 90  # claim wait + rate-limit wait + Resend timeout + SMTP timeout, with room
NOT_READY_TRIES = 4  # a confirmation enqueued before its link exists waits this many tries
BATCH_BACKLOG = 10  # other queued emails that make a job send a batch instead of one email
CLAIM_PREFIX = "orderpass:email:claim:"
BATCH_PREFIX = "batch/"  # a row's provider_id while its batch attempt is unresolved
# An email's claim (and a batch's) lives one job lease (WORKER_JOB_LEASE_SECONDS, 30 s) past
# its holder's last renewal: the worker renews the claims it holds with its jobs' leases
# (`renew_claims`), so a send may take as long as it takes, and the emails of a worker
# killed mid-send are free when its jobs are taken over. A fixed minute used to hold them
# back for a minute or two after a crash.
_RENEW_CLAIMS = """
for index, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[index + 1] then redis.call('pexpire', key, ARGV[1]) end
end
return #KEYS
"""


def claim_ttl_s() -> float:
    return get_settings().worker_job_lease_seconds


async def renew_claims(redis: ArqRedis) -> int:
    """Extend every claim this process holds and still sends under (not the ones whose
    release failed, which the next email job releases): one Lua call."""
    live = {name: token for name, token in _held_claims.items() if name not in _orphaned}
    if not live:
        return 0
    await redis.eval(_RENEW_CLAIMS, len(live), *live,  # type: ignore[misc]
                     str(int(claim_ttl_s() * 1000)), *live.values())
    return len(live)
CLAIM_WAIT_S = 15
OUTAGE_KEY = "orderpass:email:resend-outage-streak"
OUTAGE_TTL_S = 300  # an open breaker half-opens after 5 quiet minutes
BACKOFF_BASE_S = 5.0
BACKOFF_CAP_S = 600.0
# How long before its send slot a batch job claims and prepares the backlog: enough for 100
# emails on a busy machine, short enough that the batch holds what was queued meanwhile.
PREPARE_LEAD_S = 0.35
# The receipt, and for a card hold the authorisation (app/payments/fulfilment.py
# `payment_email`): each says the order is with the kitchen. None for an order rejected,
# refunded in full or whose hold was released before it was prepared (the diner's rejection
# or refund email tells them), nor for one paid inside a closure, which the worker's sweep
# rejects (`hours.late_orders_among`). An order refunded in part is still made: it gets one.
PAID_EMAILS = frozenset({"payment_received", "payment_authorised"})
GIVEN_BACK_STATUSES = ("rejected", "refunded", "voided")  # the money is (on its way) back
# Every email that announces progress (paid, accepted, ready): none once the order has been
# rejected, refunded in full or its hold released, whenever its job runs. Two screens: one
# accepts, another rejects a few ms later; the accept's email must not be the diner's last
# word after the rejection. Nor "ready" for an order refunded in full once ready: the status
# page says refunded and the refund's email tells the diner. The rejection and refund emails
# (`order_rejected`, `order_refunded`) are the ones that go out.
PROGRESS_EMAILS = PAID_EMAILS | {"order_accepted", "order_ready"}
IN_CLOSURE = "the order falls in a closure; its rejection email tells the diner"


class RetryLater(Exception):
    """Not a failure: the job should run again after `defer_s` seconds."""

    def __init__(self, defer_s: float, reason: str) -> None:
        super().__init__(reason)
        self.defer_s = defer_s


def backoff(job_try: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter; a server's retry-after is a floor, never shortened."""
    if retry_after is not None:
        return retry_after + random.uniform(0.1, 1.0)
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, job_try - 1))
    return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Outgoing:
    row: EmailRow
    restaurant: RestaurantContact
    rendered: RenderedEmail
    params: dict[str, Any]


@dataclass(frozen=True)
class Skip:
    outcome: str


@dataclass(frozen=True)
class NotReady:
    reason: str


async def _restaurant(restaurant_id: int) -> RestaurantContact | None:
    row = await Restaurant.select().where(Restaurant._meta.primary_key == restaurant_id).first()
    if row is None:
        return None
    return RestaurantContact(id=row["id"], name=row["name"], phone=row["phone"],
                             email=row["email"], address=row["address"],
                             timezone=row["timezone"], capture_mode=row["capture_mode"])


async def prepare(redis: ArqRedis, settings: Settings, row: EmailRow,
                  restaurants: dict[int, RestaurantContact | None] | None = None,
                  views: dict[str, OrderView] | None = None, *, check_cap: bool = True,
                  in_closures: set[str] | None = None) -> Outgoing | Skip | NotReady:
    """Compose the email for a queued row, or decide it must not (or cannot yet) be sent.
    `restaurants`: contacts already read for this batch (a batch of 100 reads each once);
    `views`: the batch's orders read at once (`load_order_views`; a missing one is unknown);
    `check_cap=False`: the caller counts the batch against the per-recipient cap itself, in
    one round trip (`_admit_batch`); `in_closures`: of the batch's receipts, the orders
    inside a closure, read at once (`_in_closures`; None: read here for a receipt)."""
    if row.kind in service.ACCOUNT_EMAIL_KINDS:
        return await _prepare_account_email(settings, row)
    order = (views.get(row.order_ref) if views is not None
             else await load_order_view(redis, row.order_ref))
    if order is None:
        await service.mark_failed(row.id, "order not found")
        return Skip("failed: order not found")
    if row.kind == "order_confirmation":
        if order.is_paid or order.status != "awaiting_payment":
            await service.mark_skipped(row.id, f"not sent: order is {order.status}")
            return Skip(f"skipped: order is {order.status}")
        if not order.payment_url:
            return NotReady("order has no payment link yet")
    if (row.kind == "payment_received" and order.capture_mode == "manual"
            and order.accepted_at is None):
        # A receipt claims money taken: a hold is only taken when the restaurant accepts
        # (its receipt is queued then); one released, or still held, gets none.
        await service.mark_skipped(row.id, "not sent: the card hold was never captured")
        return Skip("skipped: the card hold was never captured")
    if row.kind in PROGRESS_EMAILS and order.status in GIVEN_BACK_STATUSES:
        reason = f"order is {order.status}; its rejection or refund email tells the diner"
        await service.mark_skipped(row.id, "not sent: " + reason)
        return Skip("skipped: " + reason)
    if row.kind in PAID_EMAILS and order.id in (
            in_closures if in_closures is not None else await _in_closures([order])):
        await service.mark_skipped(row.id, "not sent: " + IN_CLOSURE)
        log.info("receipt not sent: the order is in a closure", order_id=row.order_ref)
        return Skip("skipped: " + IN_CLOSURE)
    if (row.kind == "order_refunded" and order.amount_returned
            and row.refund_id not in {refund.refund_id for refund in order.refunds}):
        # Not sent before the diner's bank returned its refund (refund_failures.py): it
        # would say "refunded"; `refund_returned` tells them what happened instead.
        reason = "its refund was returned by the customer's bank"
        await service.mark_skipped(row.id, "not sent: " + reason)
        return Skip("skipped: " + reason)
    if row.kind in ("link_expired", "payment_failed") and order.is_paid:
        await service.mark_skipped(row.id, "not sent: order was paid")
        return Skip("skipped: order was paid")
    if check_cap and row.kind in service.CAPPED_EMAIL_KINDS and not await recipient_cap.admit(
            redis, row.recipient, row.idempotency_key, settings.emails_per_recipient_per_hour):
        return await _over_cap(settings, row)
    restaurants = {} if restaurants is None else restaurants
    if order.restaurant_id not in restaurants:
        restaurants[order.restaurant_id] = await _restaurant(order.restaurant_id)
    restaurant = restaurants[order.restaurant_id]
    if restaurant is None:
        await service.mark_failed(row.id, "restaurant not found")
        return Skip("failed: restaurant not found")
    rendered = render_email(row.kind, order, restaurant, settings.public_base_url,
                            refund_id=row.refund_id)
    params: dict[str, Any] = {
        "from": settings.email_from, "to": [row.recipient], "subject": rendered.subject,
        "html": rendered.html, "text": rendered.text,
        "tags": [{"name": "kind", "value": row.kind},
                 {"name": "order", "value": row.order_ref}],
    }
    if restaurant.email:
        params["reply_to"] = restaurant.email  # customers' replies reach the restaurant
    return Outgoing(row=row, restaurant=restaurant, rendered=rendered, params=params)


async def _in_closures(orders: list[OrderView]) -> set[str]:
    """Of these orders, the paid and live ones inside a closure of their restaurant that the
    worker's sweep rejects (the sweep's own statement, `hours.late_orders_among`): one
    round trip for a whole batch, none when no order could be."""
    return await hours.late_orders_among([order.id for order in orders if order.is_paid
                                          and order.status in hours.LIVE_STATUSES])


def _over_cap_reason(settings: Settings) -> str:
    return (f"not sent: {settings.emails_per_recipient_per_hour} emails to this "
            "address in the last hour")


async def _over_cap(settings: Settings, row: EmailRow) -> Skip:
    reason = _over_cap_reason(settings)
    await service.mark_skipped(row.id, reason)
    log.warning("email over the per-recipient cap", kind=row.kind, order_id=row.order_ref)
    return Skip("skipped: " + reason)


async def _admit_batch(redis: ArqRedis, settings: Settings, items: list[Outgoing]
                       ) -> list[Outgoing]:
    """The unpaid orders' emails of a batch counted against the per-recipient cap in one round
    trip (`service.CAPPED_EMAIL_KINDS`); those over it are recorded skipped, as `prepare`
    does."""
    capped = [item for item in items if item.row.kind in service.CAPPED_EMAIL_KINDS]
    allowed = await recipient_cap.admit_many(
        redis, [(item.row.recipient, item.row.idempotency_key) for item in capped],
        settings.emails_per_recipient_per_hour)
    refused = {id(item) for item, ok in zip(capped, allowed, strict=True) if not ok}
    for item in items:
        if id(item) in refused:
            await _over_cap(settings, item.row)
    return [item for item in items if id(item) not in refused]


async def _prepare_account_email(settings: Settings, row: EmailRow) -> Outgoing | Skip:
    """An invitation or password reset (app/accounts/emails.py) instead of an order email."""
    composed = await account_emails.compose(row.kind, row.order_ref, settings.public_base_url)
    if isinstance(composed, str):
        await service.mark_failed(row.id, f"not sent: {composed}")
        return Skip(f"skipped: {composed}")
    rendered = composed.rendered
    params: dict[str, Any] = {
        "from": settings.email_from, "to": [row.recipient], "subject": rendered.subject,
        "html": rendered.html, "text": rendered.text,
        "tags": [{"name": "kind", "value": row.kind}, {"name": "ref", "value": row.order_ref}],
    }
    return Outgoing(row=row, restaurant=composed.restaurant, rendered=rendered, params=params)


# -- the Resend outage breaker (shared by all workers) ------------------------------------

async def _note_outage(redis: ArqRedis) -> int:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(OUTAGE_KEY)
        pipe.expire(OUTAGE_KEY, OUTAGE_TTL_S)
        streak, _ = await pipe.execute()
    return int(streak)


async def _outage_streak(redis: ArqRedis) -> int:
    return int(await redis.get(OUTAGE_KEY) or 0)


def _fallback_due(settings: Settings, row: EmailRow, streak: int, job_try: int) -> bool:
    if not settings.smtp_relay_url:
        return False
    age_min = (datetime.now(UTC) - row.created_at).total_seconds() / 60
    return (streak >= settings.email_fallback_after_failures
            or age_min >= settings.email_fallback_after_minutes
            or job_try >= MAX_TRIES)


# -- outcomes ------------------------------------------------------------------------------

async def _sent(item: Outgoing, provider_id: str | None, transport: str, note: str = "") -> str:
    if await service.mark_sent(item.row.id, provider_id, transport, note):
        if item.row.kind in service.EMAIL_KINDS:  # the order funnel counts order emails
            await funnel.bump(item.restaurant.id, "email_sent")
        log.info("email sent", kind=item.row.kind, order_id=item.row.order_ref,
                 transport=transport, provider_id=provider_id)
    return f"sent via {transport}"


async def _via_smtp(settings: Settings, item: Outgoing, job_try: int, cause: str) -> str:
    message = build_message(item.rendered, sender=settings.email_from,
                            recipient=item.row.recipient,
                            idempotency_key=item.row.idempotency_key,
                            reply_to=item.restaurant.email)
    log.warning("email falling back to smtp", kind=item.row.kind,
                order_id=item.row.order_ref, cause=cause)
    await service.record_attempts([item.row.id])
    try:
        await send_smtp(settings.smtp_relay_url, message, settings.smtp_timeout_seconds)
    except SmtpSendError as error:
        reason = f"{cause}; {error}"
        log.warning("smtp fallback failed", order_id=item.row.order_ref, error=str(error))
        if job_try >= MAX_TRIES:
            await service.mark_failed(item.row.id, f"gave up after {job_try} tries: {reason}")
            return "failed"
        await service.record_error(item.row.id, reason)
        raise RetryLater(backoff(job_try), reason) from error
    return await _sent(item, None, "smtp", note=f"resend failed: {cause}")


async def _transient(redis: ArqRedis, settings: Settings, item: Outgoing, job_try: int,
                     error: TransientSendError) -> str:
    if not error.outage:  # 429: every worker waits out the retry-after, not only this job
        await _back_off(settings, error.retry_after)
    streak = await _note_outage(redis) if error.outage else await _outage_streak(redis)
    log.warning("resend send failed, will retry", kind=item.row.kind,
                order_id=item.row.order_ref, error=str(error), job_try=job_try, streak=streak)
    if _fallback_due(settings, item.row, streak, job_try):
        return await _via_smtp(settings, item, job_try, str(error))
    if job_try >= MAX_TRIES:
        await service.mark_failed(item.row.id, f"gave up after {job_try} tries: {error}")
        return "failed"
    await service.record_error(item.row.id, str(error))
    raise RetryLater(backoff(job_try, error.retry_after), str(error))


def _pacer(settings: Settings) -> SharedRateLimiter:
    return shared_limiter(redis_url(), settings.resend_requests_per_second)


async def _acquire_slot(settings: Settings) -> None:
    try:
        await _pacer(settings).acquire()
    except RateLimited as error:
        raise RetryLater(backoff(1, error.retry_after), str(error)) from error


async def _reserve_slot(settings: Settings, lead_s: float = 0.0) -> float:
    """The loop time this job may send at (reserved for it on the shared pacer), at least
    `lead_s` from now."""
    try:
        return await _pacer(settings).reserve(lead_s=lead_s)
    except RateLimited as error:
        raise RetryLater(backoff(1, error.retry_after), str(error)) from error


async def _wait_slot(settings: Settings, slot: float) -> None:
    try:
        await _pacer(settings).wait_for(slot)
    except RateLimited as error:
        raise RetryLater(backoff(1, error.retry_after), str(error)) from error


async def _back_off(settings: Settings, retry_after: float | None) -> None:
    try:
        await _pacer(settings).back_off(retry_after or 1.0)
    except Exception as error:  # the job retries after retry-after on its own anyway
        log.warning("resend pacer not told of a 429", error=str(error))


async def _send_single(redis: ArqRedis, settings: Settings, item: Outgoing, job_try: int,
                       *, slot: float | None = None) -> str:
    """Send one email on `slot` (reserved by the caller) or on one reserved here."""
    streak = await _outage_streak(redis)
    if settings.smtp_relay_url and streak >= settings.email_fallback_after_failures:
        # Breaker open: Resend failed for everyone lately; don't spend this email's time on it.
        return await _via_smtp(settings, item, job_try, f"resend outage ({streak} failures)")
    if slot is None:
        slot = await _reserve_slot(settings)
    await service.record_attempts([item.row.id])
    await _wait_slot(settings, slot)  # nothing between the slot and the request
    try:
        provider_id = await gateway.send_one(item.params, item.row.idempotency_key, settings)
    except AlreadySentError as error:
        return await _sent(item, None, "resend", note=str(error))
    except PermanentSendError as error:
        await service.mark_failed(item.row.id, str(error))
        log.warning("email rejected by resend", kind=item.row.kind,
                    order_id=item.row.order_ref, error=str(error))
        return "failed"
    except TransientSendError as error:
        return await _transient(redis, settings, item, job_try, error)
    await redis.delete(OUTAGE_KEY)
    return await _sent(item, provider_id, "resend")


async def _begin_batch(redis: ArqRedis, items: list[Outgoing]) -> tuple[list[Outgoing], str]:
    """Record the attempt on the batch's rows (under its Idempotency-Key) before the slot,
    so that nothing (another job's work on this event loop) comes between the slot and the
    request, and hold their queued jobs back while it is in flight (`_send_batch` drops
    them, or makes them due again if the batch fails); returns the items in the order a
    retry rebuilds, and the key."""
    items = sorted(items, key=lambda item: item.row.id)
    keys = "\n".join(sorted(item.row.idempotency_key for item in items))
    batch_key = BATCH_PREFIX + hashlib.sha256(keys.encode()).hexdigest()[:40]
    await service.mark_batch_attempt([item.row.id for item in items], batch_key)
    await _reschedule_jobs(redis, [item.row for item in items], claim_ttl_s())
    return items, batch_key


async def _send_batch(redis: ArqRedis, settings: Settings, first: Outgoing,
                      items: list[Outgoing], batch_key: str, job_try: int,
                      slot: float) -> str:
    """Send `items` (begun by `_begin_batch`; `first` is the email whose job answers for a
    failed batch) in one /emails/batch request, on the send slot the caller reserved."""
    try:
        await _wait_slot(settings, slot)
        result = await gateway.send_batch([item.params for item in items], batch_key, settings)
    except PermanentSendError as error:
        log.warning("batch rejected, sending alone", order_id=first.row.order_ref,
                    error=str(error))
        await service.clear_batch(batch_key)
        await _reschedule_jobs(redis, [item.row for item in items], 0)  # sent alone
        return await _send_single(redis, settings, first, job_try)
    except TransientSendError as error:
        for item in items:  # their own jobs retry them
            if item is not first:
                await service.record_error(item.row.id, str(error))
        await _reschedule_jobs(redis, [item.row for item in items], 0)
        return await _transient(redis, settings, first, job_try, error)
    except BaseException:  # no slot, a cancelled job: their own jobs resume the batch
        await _reschedule_jobs(redis, [item.row for item in items], 0)
        raise
    await redis.delete(OUTAGE_KEY)
    for index, reason in result.errors.items():
        await service.mark_failed(items[index].row.id, reason)
    accepted = [(item, result.ids[index]) for index, item in enumerate(items)
                if index in result.ids and index not in result.errors]
    try:
        moved = await service.mark_batch_sent({item.row.id: str(pid) for item, pid in accepted})
    except BaseException:
        # Sent, not recorded (Postgres restarting): the rows' own jobs, held back for the
        # flight, resume the batch now rather than after a claim's lease; this job may not
        # (its own email need not be in the batch: a skipped confirmation).
        await _reschedule_jobs(redis, [item.row for item in items], 0)
        raise
    # Every row of the batch is sent or failed now (or was moved by someone else): their
    # jobs have nothing left to do (but the one answering for `first`, this job).
    await _drop_jobs(redis, [item.row for item in items if item is not first])
    per_restaurant = Counter(item.restaurant.id for item, _ in accepted  # order emails only
                             if item.row.id in moved and item.row.kind in service.EMAIL_KINDS)
    for restaurant_id, count in per_restaurant.items():
        await funnel.bump(restaurant_id, "email_sent", count)
    for item, provider_id in accepted:
        if item.row.id in moved:
            log.info("email sent", kind=item.row.kind, order_id=item.row.order_ref,
                     transport="resend", provider_id=provider_id)
    log.info("email batch sent", order_id=first.row.order_ref, size=len(items),
             rejected=len(result.errors))
    if any(item is first for item, _ in accepted):
        return f"sent via resend batch of {len(items)}"
    return "failed"


async def _reschedule_jobs(redis: ArqRedis, rows: list[EmailRow], delay_s: float) -> None:
    """The rows' queued jobs held back `delay_s` (their batch is in flight), or due now
    (0: it failed). Best effort: held back, a job runs after a claim's lease anyway, when the
    batch's claims have expired, and finds its row sent or resumes the batch."""
    try:
        await reschedule_queued_jobs(redis, [job_id_of_key(row.idempotency_key)
                                             for row in rows], delay_s)
    except Exception as error:
        log.warning("email jobs not rescheduled", error=str(error)[:200])


async def _drop_jobs(redis: ArqRedis, rows: list[EmailRow]) -> None:
    """The sent rows' own jobs have nothing left to do: out of the queue (best effort)."""
    try:
        await drop_queued_jobs(redis, [job_id_of_key(row.idempotency_key) for row in rows])
    except Exception as error:  # each job would find its row sent: only time is lost
        log.warning("sent emails' jobs left queued", error=str(error))


async def _resume_batch(redis: ArqRedis, settings: Settings, batch_key: str,
                        job_try: int) -> str:
    """Retry a batch attempt whose outcome is unknown (worker died, timeout) as the same
    batch under the same key: Resend replays it if it went out, or reports the key used
    with a different payload (then it went out too); only if it never arrived is it sent.
    One job at a time per batch: the rest of its rows' jobs, due together, then find their
    rows sent instead of spending a send slot each on the same replay."""
    lock = redis.lock(CLAIM_PREFIX + batch_key, timeout=claim_ttl_s(), blocking=True,
                      blocking_timeout=CLAIM_WAIT_S)
    if not await lock.acquire():
        raise RetryLater(backoff(1), "batch being resumed by another worker")
    _hold(lock)
    try:
        return await _replay_batch(redis, settings, batch_key, job_try)
    finally:
        await _release([lock])


async def _replay_batch(redis: ArqRedis, settings: Settings, batch_key: str,
                        job_try: int) -> str:
    rows = await service.batch_rows(batch_key)
    if any(row.status not in ("queued", "failed") for row in rows):
        for row in rows:  # part of the batch is recorded as sent: all of it went out
            if row.status == "queued":
                await service.mark_sent(row.id, None, "resend", note="sent in " + batch_key)
        return "already sent in a batch"
    items = []
    for row in rows:
        if row.status == "queued":
            prepared = await prepare(redis, settings, row)
            if isinstance(prepared, Outgoing):
                items.append(prepared)
    if not items:
        return "nothing left in the batch"
    await _acquire_slot(settings)
    try:
        result = await gateway.send_batch([item.params for item in items], batch_key, settings)
    except AlreadySentError as error:
        for item in items:
            await _sent(item, None, "resend", note=str(error))
        return "already sent in a batch"
    except PermanentSendError:
        await service.clear_batch(batch_key)
        raise RetryLater(1, "batch refused; its emails are sent alone") from None
    except TransientSendError as error:
        if job_try >= MAX_TRIES:
            for item in items:
                await service.mark_failed(item.row.id, f"gave up after {job_try} tries: {error}")
            return "failed"
        raise RetryLater(backoff(job_try, error.retry_after), str(error)) from error
    for index, item in enumerate(items):
        if index in result.errors:
            await service.mark_failed(item.row.id, result.errors[index])
        elif index in result.ids:
            await _sent(item, result.ids[index], "resend")
    return f"sent via resend batch of {len(items)} (resumed)"


async def deliver(redis: ArqRedis, settings: Settings, kind: str, order_ref: str,
                  job_try: int = 1, key: str | None = None) -> str:
    """Send one email at most once; returns a short outcome, raises RetryLater to retry.
    `key` names a resend row (`<kind>/<ref>/resend-<n>`); first sends leave it out."""
    key = key or service.idempotency_key(kind, order_ref)
    if _orphaned:
        await _release_orphans(redis)
    row = await service.get_row(key)
    if row is None and key == service.idempotency_key(kind, order_ref):
        row = await service.ensure_row(redis, kind, order_ref)
    if row is None:
        return "skipped: order not found"
    if row.status != "queued":
        return f"already {row.status}"
    claim = redis.lock(CLAIM_PREFIX + key, timeout=claim_ttl_s(), blocking=True,
                       blocking_timeout=CLAIM_WAIT_S)
    if not await claim.acquire():
        raise RetryLater(backoff(1), "email claimed by another worker")
    _hold(claim)
    others = Claims(redis, {})
    try:
        fresh = await service.get_row(key)  # a batch may have sent it while we waited
        if fresh is None or fresh.status != "queued":
            return f"already {fresh.status if fresh else 'gone'}"
        if service.batch_of(fresh):
            return await _resume_batch(redis, settings, service.batch_of(fresh), job_try)
        # An email attempted alone before keeps its own Idempotency-Key: never batched.
        if not fresh.attempts and await service.queued_backlog(fresh.id) >= BATCH_BACKLOG:
            # The send slot first, then the backlog: the batch takes everything queued while
            # this job waited for its slot (up to 100), not only what was there when it
            # started; with several jobs waiting, that was a handful each (14 emails/s at 2
            # requests/s). It is claimed and prepared just before the slot, so the batch
            # leaves on time. This email is let go meanwhile and prepared with the batch
            # (not before: most such jobs see their email go out in an earlier batch): a
            # batch leaving earlier takes it, rather than each of the jobs waiting at the end
            # of a backlog sending its own email alone.
            with contextlib.suppress(LockError):
                await claim.release()
            # At least PREPARE_LEAD_S ahead: a slot free *now* is missed by the time the
            # batch is prepared, and a missed slot costs a new one (0.6 s) or the job.
            slot = await _reserve_slot(settings, lead_s=PREPARE_LEAD_S)
            loop = asyncio.get_running_loop()
            await asyncio.sleep(max(0.0, slot - PREPARE_LEAD_S - loop.time()))
            # One batch prepared at a time in a process, its attempt recorded before the next
            # is claimed: two batches claiming the oldest rows at once split them (a batch
            # of 5 next to one of 95, and a slot lost).
            async with _preparing():
                items, others, own = await _claim_backlog(redis, settings, fresh)
                if len(items) > 1:
                    items, batch_key = await _begin_batch(redis, items)
            lead = own if isinstance(own, Outgoing) else (items[0] if items else None)
            if lead is not None and len(items) == 1:
                outcome = await _send_single(redis, settings, lead, job_try, slot=slot)
            elif lead is not None:
                outcome = await _send_batch(redis, settings, lead, items, batch_key, job_try,
                                            slot)
            if isinstance(own, Outgoing):
                return outcome
            if isinstance(own, Skip):
                return own.outcome
            if isinstance(own, NotReady):
                return await _not_ready(fresh, own, job_try)
            return await _sent_elsewhere(key)
        prepared = await prepare(redis, settings, fresh)
        if isinstance(prepared, Skip):
            return prepared.outcome
        if isinstance(prepared, NotReady):
            return await _not_ready(fresh, prepared, job_try)
        return await _send_single(redis, settings, prepared, job_try)
    finally:
        await _release([claim])
        await others.release()


async def _not_ready(row: EmailRow, not_ready: NotReady, job_try: int) -> str:
    """A confirmation whose payment link is not there yet: wait a few tries, then fail."""
    if job_try >= NOT_READY_TRIES:
        await service.mark_failed(row.id, f"not sent: {not_ready.reason}")
        return f"skipped: {not_ready.reason}"
    raise RetryLater(backoff(job_try), not_ready.reason)


_preparing_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary())


def _preparing() -> asyncio.Lock:
    """This process's lock on preparing a batch (one per event loop)."""
    loop = asyncio.get_running_loop()
    lock = _preparing_locks.get(loop)
    if lock is None:
        lock = _preparing_locks[loop] = asyncio.Lock()
    return lock


async def _sent_elsewhere(key: str) -> str:
    """This job's email went in a batch another job claimed it for: done once it is sent,
    else run again (that batch is in flight, or failed and left the email queued)."""
    row = await service.get_row(key)
    if row is None or row.status != "queued":
        return f"already {row.status if row else 'gone'}"
    raise RetryLater(backoff(1), "email claimed by another worker's batch")


class Claims:
    """Claims on many emails taken and released in one round trip each. A claim is the same
    Redis key and value a `redis.lock(CLAIM_PREFIX + key)` holds, so a job waiting on its
    own email's lock waits for the batch that claimed it, as before."""

    _RELEASE = ("local n = 0 for i, key in ipairs(KEYS) do "
                "if redis.call('get', key) == ARGV[i] then n = n + redis.call('del', key) end "
                "end return n")

    def __init__(self, redis: ArqRedis, held: dict[str, str]) -> None:
        self.redis = redis
        self.held = held  # claim key → token

    @classmethod
    async def take(cls, redis: ArqRedis, keys: list[str], keep: int) -> Claims:
        """Claim what it can of `keys`; keep the first `keep` taken, free the others."""
        tokens = {key: uuid.uuid4().hex for key in keys}
        if not keys:
            return cls(redis, {})
        async with redis.pipeline(transaction=False) as pipe:
            for key, token in tokens.items():
                pipe.set(key, token, nx=True, px=int(claim_ttl_s() * 1000))
            taken = await pipe.execute()
        won = [key for key, ok in zip(keys, taken, strict=True) if ok]
        _held_claims.update({key: tokens[key] for key in won})
        await cls(redis, {key: tokens[key] for key in won[keep:]}).release()
        return cls(redis, {key: tokens[key] for key in won[:keep]})

    async def release(self) -> None:
        if not self.held:
            return
        held, self.held = self.held, {}
        try:
            await self.redis.eval(self._RELEASE, len(held), *held, *held.values())  # type: ignore[misc]
        except DEPENDENCY_ERRORS as error:  # released by the next job (`_orphaned`)
            log.warning("email claims not released", claims=len(held), error=repr(error)[:200])
            _orphaned.update(held)
            return
        except Exception as error:  # they expire after a claim's lease anyway
            log.warning("email claims not released", claims=len(held), error=repr(error)[:200])
        for key in held:
            _held_claims.pop(key, None)


# Claims this process holds (claim key → token): a job's own email lock and a batch's
# `Claims` alike. A claim whose release failed because Redis went away mid-send stays here;
# the worker, restarted in-process once Redis answers, releases it
# (`release_orphaned_claims`), where its email used to wait out a claim's lease.
_held_claims: dict[str, Any] = {}
# Of those, the ones whose release failed (Redis restarting under the send): the next email
# job releases them once Redis answers. A worker that rides a restart out (its commands
# retried) never restarts in-process, and their emails waited out a claim's lease, deferred
# again and again as "claimed by another worker" (a minute of a Redis restart test's budget).
_orphaned: dict[str, Any] = {}


def _hold(lock: Any) -> None:
    _held_claims[lock.name] = lock.local.token


async def _release(locks: list[Any]) -> None:
    for lock in locks:
        token = lock.local.token
        try:
            await lock.release()
        except LockError:
            pass  # expired, or taken over: not ours any more
        except DEPENDENCY_ERRORS as error:
            log.warning("email claim not released", claim=lock.name, error=repr(error)[:200])
            _orphaned[lock.name] = token
            continue
        # Only this lock's own entry: a batch may hold the same key under its token now, and
        # forgetting that one left its claim to wait out a claim's lease after a Redis restart.
        if _held_claims.get(lock.name) == token:
            _held_claims.pop(lock.name, None)


async def release_orphaned_claims(redis: ArqRedis) -> int:
    """Release the claims of sends cut short by a lost Redis (see `_held_claims`): all of
    them when the worker restarts in-process (nothing of this process runs any more)."""
    released = await _release_claims(redis, _held_claims)
    _orphaned.clear()
    if released:
        log.warning("orphaned email claims released", count=released)
    return released


async def _release_orphans(redis: ArqRedis) -> None:
    """The claims whose release failed, released now that Redis answers (best effort)."""
    try:
        released = await _release_claims(redis, _orphaned)
    except DEPENDENCY_ERRORS:
        return  # still away: the next job tries again
    if released:
        log.info("email claims released after Redis came back", count=released)


async def _release_claims(redis: ArqRedis, claims: dict[str, Any]) -> int:
    released = 0
    for name, token in list(claims.items()):
        with contextlib.suppress(LockError):  # expired, or another's since: not ours
            await redis.lock(name, timeout=claim_ttl_s()).do_release(token)
            released += 1
        claims.pop(name, None)
        if _held_claims.get(name) == token:
            _held_claims.pop(name, None)
    return released


async def _claim_backlog(redis: ArqRedis, settings: Settings, own: EmailRow
                         ) -> tuple[list[Outgoing], Claims, Outgoing | Skip | NotReady | None]:
    """Claim this job's email (first, unless a batch has taken it) and up to 99 other queued
    emails (skipping ones another worker holds) for a batch: the claims in one round trip,
    the rows read again and their orders read in a few. Returns the batch (this job's email
    first when it is in it), the claims, and what became of this job's email (None: another
    batch has it)."""
    # Twice as many as fit: the oldest may be claimed by a batch about to leave.
    candidates = [own, *await service.queued_rows(2 * (gateway.MAX_BATCH - 1),
                                                  exclude_id=own.id)]
    claims = await Claims.take(redis, [CLAIM_PREFIX + row.idempotency_key
                                       for row in candidates], keep=gateway.MAX_BATCH)
    try:
        return await _prepare_claimed(redis, settings, own, candidates, claims)
    except BaseException:
        # Not the caller's to release yet: a failed read here (Postgres restarting) left
        # up to 100 other jobs' emails claimed for a claim's lease of nothing.
        await claims.release()
        raise


async def _prepare_claimed(redis: ArqRedis, settings: Settings, own: EmailRow,
                           candidates: list[EmailRow], claims: Claims
                           ) -> tuple[list[Outgoing], Claims, Outgoing | Skip | NotReady | None]:
    held = [row.id for row in candidates if CLAIM_PREFIX + row.idempotency_key in claims.held]
    fresh = [row for row in await service.rows_by_id(held)
             if row.status == "queued" and not row.attempts and not row.provider_id]
    views = await load_order_views(redis, [row.order_ref for row in fresh])
    in_closures = await _in_closures([views[row.order_ref] for row in fresh
                                      if row.kind in PAID_EMAILS and row.order_ref in views])
    restaurants: dict[int, RestaurantContact | None] = {}
    items: list[Outgoing] = []
    own_result: Outgoing | Skip | NotReady | None = None
    for row in fresh:
        prepared = await prepare(redis, settings, row, restaurants, views, check_cap=False,
                                 in_closures=in_closures)
        if row.id == own.id:
            own_result = prepared
        if isinstance(prepared, Outgoing):
            items.insert(0 if row.id == own.id else len(items), prepared)
        await asyncio.sleep(0)  # another job's slot may be due: let it send on time
    admitted = await _admit_batch(redis, settings, items)
    if isinstance(own_result, Outgoing) and not any(item is own_result for item in admitted):
        own_result = Skip("skipped: " + _over_cap_reason(settings))
    return admitted, claims, own_result
