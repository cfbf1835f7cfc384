"""Payment links (Stripe Checkout Sessions) for temp orders: create, defer when Stripe is
down, expire on time, renew on request. Money taken always wins over an expiry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Literal

from arq.connections import ArqRedis

from app.infra.jobs import JobSpec
from app.infra.logging import get_logger
from app.infra.unavailable import DEPENDENCY_ERRORS
from app.live.feed import publish_unpaid_order_event
from app.notifications.service import enqueue_email, queue_email, send_job
from app.orders.models import OrderStatus, TempOrder
from app.orders.temp_store import EXPIRY_INDEX, UNFINISHED_TTL_S
from app.orders.views import temp_store
from app.payments.stripe_gateway import PaymentLink, PaymentProviderError, get_gateway
from app.platform import funnel
from app.platform.metrics import ORDERS_EXPIRED, PAYMENT_LINKS
from app.settings import get_settings

log = get_logger("orderpass.payment_links")
LINK_RETRY_DELAYS_S = (5, 15, 30, 60, 120, 300, 600)  # deferred link creation backoff
STRIPE_MIN_EXPIRY_S = 30 * 60  # Stripe: expires_at at least 30 min after the request arrives
EXPIRY_MARGIN_S = 120  # request latency and clock skew between us and Stripe
STRIPE_MAX_EXPIRY_S = 24 * 3600  # Stripe: expires_at at most 24 h after the session's creation
REUSE_MIN_S = STRIPE_MIN_EXPIRY_S + 60  # a request is resent as it was while this remains
LIST_SLACK_S = 60  # clock skew when listing the sessions an attempt may have created


class LinkNotRenewable(Exception):
    pass


class MenuChanged(LinkNotRenewable):
    """The order is no longer what the menu takes (a dish sold out, the restaurant not
    taking orders): `errors` in intake's words, field → message."""

    def __init__(self, errors: dict[str, str], restaurant_slug: str) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.restaurant_slug = restaurant_slug


def link_retry_delay(attempt: int) -> int:
    return LINK_RETRY_DELAYS_S[min(attempt, len(LINK_RETRY_DELAYS_S) - 1)]


def _begin_attempt(order: TempOrder, now: datetime) -> None:
    """The Checkout Session request to send: the current one again (same idempotency key,
    same `expires_at`: Stripe refuses a key reused with other parameters) while its expiry
    is still far enough away for Stripe to accept it, else a new one with a new key."""
    if order.link_key and order.link_expires_at - now.timestamp() >= REUSE_MIN_S:
        return
    expires = link_expiry(order, now)
    n = order.link_keys_used
    order.link_key = order.id if n == 0 else f"{order.id}/link-{n}"
    order.link_keys_used = n + 1
    order.link_expires_at = int(expires.timestamp())
    order.link_started_at = int(now.timestamp())


def begin_first_attempt(order: TempOrder, now: datetime) -> None:
    """Give a new order its first Checkout Session request (idempotency key, expiry) before
    it is first stored: intake stores it once, with its caps, then calls
    `attach_new_payment_link(..., stored=True)`."""
    _begin_attempt(order, now)


def link_expiry(order: TempOrder, now: datetime) -> datetime:
    """The `expires_at` sent to Stripe: the link TTL, never past when the order must be paid
    (`pay_by`: slot - prep, or the restaurant's closing for as soon as possible), within
    Stripe's 30 min - 24 h. An order whose `pay_by` is nearer than Stripe's minimum is
    expired by us at `pay_by` (`_linked`)."""
    expires = now + timedelta(minutes=get_settings().payment_link_minutes)
    if order.pay_by is not None:
        expires = min(expires, order.pay_by)
    # Stripe wants expires_at at least 30 min after the request *arrives*: keep a margin.
    expires = max(expires, now + timedelta(seconds=STRIPE_MIN_EXPIRY_S + EXPIRY_MARGIN_S))
    return min(expires, now + timedelta(seconds=STRIPE_MAX_EXPIRY_S - EXPIRY_MARGIN_S))


async def _adopt_open_session(order: TempOrder) -> PaymentLink | None:
    """The open session an earlier request for this order created although its answer was
    lost (a timeout, or a 500/429 after Stripe executed it, which Stripe then repeats for
    that key): found by listing the sessions created since the attempts began. Extra open
    sessions (never expected) are expired, so the order has exactly one payable link."""
    since = (order.link_started_at or int(order.created_at.timestamp())) - LIST_SLACK_S
    try:
        found = await get_gateway().find_open_sessions(order.id, created_gte=since)
    except PaymentProviderError as error:
        log.warning("could not look for an earlier session", order_id=order.id,
                    error=str(error)[:200])
        return None
    if not found:
        return None
    keep, *extra = found  # newest first
    for session in extra:
        try:
            await get_gateway().expire_checkout_session(session.id, order_ref=order.id)
        except PaymentProviderError as error:
            log.warning("could not expire an extra session", order_id=order.id,
                        session=session.id, error=str(error)[:200])
    log.warning("adopted the session an unanswered request created", order_id=order.id,
                session=keep.id)
    return keep


def _permanent(error: PaymentProviderError) -> bool:
    """Stripe refuses these parameters for good (retrying cannot help). A 400 refusing
    `expires_at` is one too: Stripe saved it under the request's key and only repeats it, and
    a fresh request (made with at least Stripe's minimum plus a margin) refused as well means
    Stripe's clock and ours disagree; retried as if Stripe were slow, it kept the diner on
    "slow to answer" for ~30 minutes. The order is `link_failed` at once (page and email); a
    renewal asked for later starts a new request (`link_key` cleared)."""
    if error.transient or error.error_type == "idempotency_error":
        return False
    return error.http_status is not None and 400 <= error.http_status < 500


async def attach_new_payment_link(
    redis: ArqRedis, order: TempOrder, *, on_failure: Literal["defer", "raise"],
    submitted: bool = False, stored: bool = False
) -> TempOrder:
    """Create a Checkout Session for the order and queue the confirmation email.

    Whatever Stripe answers, the end state is one open session per order: a retried request
    reuses its key and parameters; after a failure, a session an earlier request created is
    adopted (`_adopt_open_session`) before any new key is used. A permanent refusal closes the
    order as `link_failed` and tells the customer (page and email); transient failures are
    deferred to the worker (`on_failure="defer"`) or raised. `submitted`: the order is new,
    count it in the funnel too (with the link's outcome, in one write). `stored`: the new
    order was stored as it is now, with `begin_first_attempt` (intake), so it is not again."""
    also = ("submitted",) if submitted else ()
    store = temp_store(redis)
    now = datetime.now(UTC)
    if not stored:
        if order.link_key and order.link_expires_at - now.timestamp() < REUSE_MIN_S:
            # The last request's key can no longer be sent as it was: first look for what
            # it may have created, so a new key never makes a second session.
            adopted = await _adopt_open_session(order)
            if adopted is not None:
                return await _linked(redis, order, adopted, also)
        _begin_attempt(order, now)
        # The key is kept before it is used: a retry reuses it. A new order's first attempt
        # keeps the short life of an unfinished copy (intake) until its link is saved.
        first = order.link_attempts == 0 and not order.link_error
        await store.put(order, ttl_seconds=UNFINISHED_TTL_S if first else None)
    expires_at = datetime.fromtimestamp(order.link_expires_at, UTC)
    try:
        session = await get_gateway().create_checkout_session(order, expires_at,
                                                              idempotency_key=order.link_key)
    except PaymentProviderError as error:
        adopted = None if _permanent(error) else await _adopt_open_session(order)
        if adopted is not None:
            return await _linked(redis, order, adopted, also)
        if error.param == "expires_at":
            order.link_key = ""  # the next try starts a new request
        return await _link_failed(redis, order, error, also, on_failure)
    return await _linked(redis, order, session, also)


async def _link_failed(redis: ArqRedis, order: TempOrder, error: PaymentProviderError,
                       also: tuple[str, ...], on_failure: Literal["defer", "raise"]
                       ) -> TempOrder:
    PAYMENT_LINKS.labels(result="failed").inc()
    await funnel.bump(order.restaurant_id, "link_failed", also=also)
    order.link_error = str(error)[:300]
    permanent = _permanent(error)
    log.error("payment link failed", order_id=order.id, error=order.link_error,
              transient=error.transient, permanent=permanent, deferred=on_failure == "defer")
    if permanent:
        await give_up_on_link(redis, order)
        return order
    await temp_store(redis).put(order)
    if on_failure == "raise":
        raise error
    await redis.enqueue_job("create_payment_link", order.id,
                            _job_id=f"link:{order.id}:{order.link_attempts}",
                            _defer_by=link_retry_delay(0))
    return order


async def give_up_on_link(redis: ArqRedis, order: TempOrder) -> None:
    """No payment link can be made: the order is closed as `link_failed` (its page says so,
    nothing was charged) and the customer is emailed, once."""
    order.status = OrderStatus.LINK_FAILED
    order.checkout_session_id = None
    order.payment_url = None
    await temp_store(redis).put(order)
    if _emails_about_link(order, "link_failed"):
        await enqueue_email(redis, "link_failed", order.id)
    log.error("payment link given up; customer told", order_id=order.id,
              error=order.link_error, emailed=order.link_email)


async def _linked(redis: ArqRedis, order: TempOrder, session: PaymentLink,
                  also: tuple[str, ...]) -> TempOrder:
    PAYMENT_LINKS.labels(result="created").inc()
    order.checkout_session_id = session.id
    order.payment_url = session.url
    order.expires_at = datetime.fromtimestamp(session.expires_at, UTC)
    if order.pay_by is not None and order.pay_by < order.expires_at:
        order.expires_at = order.pay_by  # the expiry job closes it then, at Stripe too
    order.status = OrderStatus.AWAITING_PAYMENT
    order.link_error = ""
    order.link_key = ""
    order.closure_note = None  # a closure closed the last link; this one is open
    order.link_attempts += 1
    jobs = [JobSpec("expire_payment_link", (order.id, session.id),
                    job_id=f"expire:{session.id}", defer_until=order.expires_at)]
    # The first link goes out by email. A renewed link is asked for on the status page,
    # which shows it at once, so it needs no second confirmation email.
    # Not for an order past its address's cap on payment-link emails (intake): its link is
    # answered to whoever submitted it, and shown on its status page.
    confirm = order.link_attempts == 1 and order.link_email
    if confirm:
        jobs.append(send_job("order_confirmation", order.id))
    # The order with its link and its jobs in one Redis transaction (one round trip): if
    # Redis fails here nothing of it was saved and the caller abandons the session (intake
    # expires it and answers 503), so no job or email exists for a link never saved.
    await temp_store(redis).put(order, jobs=jobs)
    # Then Postgres: the email's row (its job, if it runs first, creates it from the order
    # just saved: `ensure_row`) and the funnel, in one statement. The order is complete
    # without them: if Postgres fails here the diner still gets the link; the row comes with
    # the job, only the funnel's count is lost.
    try:
        if confirm:
            await queue_email("order_confirmation", order.id, recipient=order.customer.email,
                              restaurant_id=order.restaurant_id,
                              also=funnel.bump_cte("link_created", 6, also=also),
                              also_args=funnel.bump_parameters(order.restaurant_id))
        else:
            await funnel.bump(order.restaurant_id, "link_created", also=also)
    except DEPENDENCY_ERRORS as error:
        log.warning("email row or funnel not written; the email job writes its row",
                    order_id=order.id, error=repr(error)[:200])
    if "submitted" not in also:  # a new order's one line is intake's, naming the session
        log.info("payment link created", order_id=order.id, session=session.id,
                 expires_at=order.expires_at.isoformat())
    return order


def _emails_about_link(order: TempOrder, kind: str) -> bool:
    """Whether the customer is emailed that the order's link expired or could not be made:
    not for an order past its address's cap on payment-link emails (intake), whose link was
    never emailed either; its status page says so. A failed payment is told all the same
    (someone paid with that link)."""
    return order.link_email or kind == "payment_failed"


async def _close_link(redis: ArqRedis, temp_id: str, session_id: str | None, *,
                      to: OrderStatus,
                      open_states: tuple[OrderStatus, ...], email_kind: str,
                      closure_note: str | None = None) -> TempOrder | None:
    """Move a temp order whose current link is `session_id` to the closed state `to` and
    tell the customer; the order itself is kept so a new link can be asked for. Idempotent
    (a repeat only re-queues the same email, which sends once); ignores stale sessions.
    `closure_note`: a closure closed it (its reason), which its page and email say."""
    store = temp_store(redis)
    found: list[TempOrder] = []  # as read last, to re-queue an interrupted try's email

    def close(order: TempOrder) -> bool:
        found[:] = [order]
        if order.checkout_session_id != session_id or order.status not in open_states:
            return False
        order.status = to
        if closure_note is not None:
            order.closure_note = closure_note
        now = datetime.now(UTC)
        if order.expires_at is not None and order.expires_at > now:
            order.expires_at = now  # closed early: the API's expires_at says when it stopped
        return True

    # Read, checked and written as one (the worker's expiry and Stripe's webhook about it
    # land together): only one of them closes it, counts it and tells the diner.
    order = await store.update_if(temp_id, close)
    if order is None:
        last = found[0] if found else None
        if (last is not None and last.checkout_session_id == session_id
                and last.status == to and _emails_about_link(last, email_kind)):
            await enqueue_email(redis, email_kind, last.id)  # finishes an interrupted try
        return None
    tell = _emails_about_link(order, email_kind)
    # An open status page shows it at once (a Stripe event or the worker's expiry moved it).
    await publish_unpaid_order_event(redis, order.restaurant_id, order.id, f"order.{to}")
    if tell:
        await enqueue_email(redis, email_kind, order.id)
    return order


async def mark_link_expired(redis: ArqRedis, temp_id: str, session_id: str | None, *,
                            closure_note: str | None = None) -> bool:
    """The link expired unpaid; True if it was open until now. `closure_note`: a closure
    closed it (its reason). `session_id` None: the order had no link yet (it was deferred)
    and none will be made."""
    order = await _close_link(redis, temp_id, session_id, to=OrderStatus.PAYMENT_EXPIRED,
                              open_states=(OrderStatus.AWAITING_PAYMENT,),
                              email_kind="link_expired", closure_note=closure_note)
    if order is None:
        return False
    ORDERS_EXPIRED.labels(restaurant=order.restaurant_slug).inc()
    await funnel.bump(order.restaurant_id, "expired")
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


async def expire_link_now(redis: ArqRedis, temp_id: str, session_id: str, *,
                          closure_note: str | None = None) -> str:
    """Expire the session at Stripe (so a dead link cannot be paid), then close it here.
    `closure_note`: a closure is why (its reason), told to the diner.

    If Stripe says the session is already complete, the customer paid in the last moment:
    leave the temp order alone, the payment webhook creates the order."""
    store = temp_store(redis)
    order = await store.get(temp_id)
    if order is None or order.checkout_session_id != session_id:
        return "stale"
    if order.status != OrderStatus.AWAITING_PAYMENT:
        return "not-open"
    if closure_note is None and order.sold_out is None and order.link_ends_at_closing:
        closure_note = ""  # its page and email say the restaurant closed, not "too late"
    gateway = get_gateway()
    session = await gateway.retrieve_checkout_session(session_id, order_ref=temp_id)
    if session.status == "complete":
        log.info("expiry found a completed session; payment wins", order_id=temp_id)
        return "paid"
    if session.status == "open":
        # Why, written before Stripe is asked: its `checkout.session.expired` webhook may
        # close the order here first, and the diner's page and email must say why.
        if closure_note is not None:
            await note_why_closing(redis, temp_id, session_id, closure_note=closure_note)
        try:
            session = await gateway.expire_checkout_session(session_id, order_ref=temp_id)
        except PaymentProviderError:
            session = await gateway.retrieve_checkout_session(session_id, order_ref=temp_id)
            if session.status == "complete":
                return "paid"
            if closure_note is not None:  # still open: it expires on its own, not "closed"
                await note_why_closing(redis, temp_id, session_id)
            raise
    await mark_link_expired(redis, temp_id, session_id, closure_note=closure_note)
    return "expired"


OPEN_LINKS_BATCH = 200  # open orders read per Redis round trip


async def open_links_of(redis: ArqRedis, restaurant_id: int) -> AsyncIterator[TempOrder]:
    """The restaurant's orders whose payment link is open now. Every open link is read (the
    expiry index spans restaurants), a batch per round trip: a closure or a dish sold out
    is an owner's or a cook's press, not a hot path."""
    now = datetime.now(UTC).timestamp()
    open_ids = [raw.decode() if isinstance(raw, bytes) else str(raw)
                for raw in await redis.zrangebyscore(EXPIRY_INDEX, now, "+inf")]
    store = temp_store(redis)
    for first in range(0, len(open_ids), OPEN_LINKS_BATCH):
        for order in await store.get_many(open_ids[first:first + OPEN_LINKS_BATCH]):
            if (order is not None and order.restaurant_id == restaurant_id
                    and order.status == OrderStatus.AWAITING_PAYMENT
                    and order.checkout_session_id):
                yield order


async def note_why_closing(redis: ArqRedis, temp_id: str, session_id: str, *,
                           closure_note: str | None = None, sold_out: str | None = None
                           ) -> None:
    """Write on the order why its open link is being closed (a closure's reason, the dish
    sold out; None clears), before Stripe is asked: its `checkout.session.expired` may close
    the order here first, and the diner's page and email must say why."""

    def noted(order: TempOrder) -> bool:
        if (order.checkout_session_id != session_id
                or order.status != OrderStatus.AWAITING_PAYMENT):
            return False
        order.closure_note, order.sold_out = closure_note, sold_out
        return True

    await temp_store(redis).update_if(temp_id, noted)
