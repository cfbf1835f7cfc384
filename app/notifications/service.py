"""Email records: enqueue an email (row + arq job) and move rows through their statuses.

One `email_message` row per (kind, order) is the unit of exactly-once sending; its
idempotency key `<kind>/<order ref>` is also the Resend `Idempotency-Key`. A deliberate
resend (admin) is a new row keyed `<kind>/<order ref>/resend-<n>`, so Resend sends it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio.client import Pipeline

from app.infra import db
from app.infra.jobs import JobSpec, enqueue_jobs, enqueue_jobs_in, forget_finished_jobs
from app.infra.logging import get_logger
from app.notifications.tables import EmailMessage
from app.orders.views import load_order_view
from app.platform import outbox

log = get_logger("orderpass.email")

EMAIL_KINDS = frozenset(
    {"order_confirmation", "link_expired", "payment_failed", "payment_received",
     "payment_authorised", "order_accepted", "order_ready", "order_rejected", "link_failed",
     "order_refunded", "refund_returned"}
)
# Emails about orders nobody has paid: anyone can have these sent to any address for free,
# so they count against the per-recipient cap (app/notifications/recipient_cap.py). The
# emails that follow a payment (received, accepted, ready, rejected, refunded) are not
# capped: each needs a card payment, and a diner ordering often must still hear about
# their money ("your refund", "rejected") however many they had this hour.
CAPPED_EMAIL_KINDS = frozenset({"order_confirmation", "link_expired", "payment_failed",
                                "link_failed"})
# Emails about staff accounts (app/accounts/emails.py): same rows, jobs and idempotency keys;
# their `order_ref` names the invitation (INV-…) or password reset (RST-…) instead.
ACCOUNT_EMAIL_KINDS = frozenset({"staff_invitation", "password_reset"})
SEND_JOB = "send_email"
# Webhook statuses only move forward along this order; terminal outcomes share the top rank.
STATUS_RANK = {
    "queued": 0, "sent": 1, "delayed": 2, "delivered": 3,
    "bounced": 4, "complained": 4, "failed": 4, "skipped": 4,
}
MAX_ERROR = 1000


def idempotency_key(kind: str, order_ref: str) -> str:
    return f"{kind}/{order_ref}"


def order_ref_of(key: str) -> str:
    """The order an email's key names: `kind/<ref>` or `kind/<ref>/<suffix>` (a refund's)."""
    parts = key.split("/")
    return parts[1] if len(parts) > 1 else ""


def job_id(kind: str, order_ref: str) -> str:
    return f"email:{kind}:{order_ref}"


def job_id_of_key(key: str) -> str:
    """The arq job id for a row's idempotency key (`job_id` for first sends)."""
    return "email:" + key.replace("/", ":")


@dataclass(frozen=True)
class EmailRow:
    id: int
    idempotency_key: str
    kind: str
    recipient: str
    order_ref: str
    restaurant_id: int | None
    status: str
    attempts: int
    transport: str
    provider_id: str | None
    created_at: datetime
    refund_id: str = ""  # the refund an `order_refunded` email tells ('' otherwise)

    @classmethod
    def of(cls, row: dict[str, Any]) -> EmailRow:
        return cls(
            id=row["id"], idempotency_key=row["idempotency_key"], kind=row["kind"],
            recipient=row["recipient"], order_ref=row["order_ref"],
            restaurant_id=row["restaurant"], status=row["status"], attempts=row["attempts"],
            transport=row["transport"], provider_id=row["provider_id"],
            created_at=row["created_at"], refund_id=row.get("refund_id") or "",
        )


# What `EmailRow.of` reads, for raw statements.
_ROW_COLUMNS = ("id, idempotency_key, kind, recipient, order_ref, restaurant, status, "
                "attempts, transport, provider_id, created_at, refund_id")


def _check_kind(kind: str) -> None:
    if kind not in EMAIL_KINDS and kind not in ACCOUNT_EMAIL_KINDS:
        raise ValueError(f"unknown email kind: {kind!r}")


async def get_row(key: str) -> EmailRow | None:
    row = await EmailMessage.select().where(EmailMessage.idempotency_key == key).first()
    return EmailRow.of(row) if row else None


async def ensure_row(redis: ArqRedis, kind: str, order_ref: str, *, suffix: str = "",
                     refund_id: str = "") -> EmailRow | None:
    """The email's row, created in status `queued` if missing; None if the order is unknown.
    `suffix`: a later email of the same kind, keyed `<kind>/<order ref>/<suffix>`.
    `refund_id`: the refund an `order_refunded` email tells (kept on its row, so whenever
    it is sent it describes that refund, not a later one)."""
    _check_kind(kind)
    key = idempotency_key(kind, order_ref) + (f"/{suffix}" if suffix else "")
    existing = await get_row(key)
    if existing is not None:
        return existing
    order = await load_order_view(redis, order_ref)
    if order is None:
        log.warning("email for unknown order not queued", kind=kind, order_id=order_ref)
        return None
    await EmailMessage.insert(
        EmailMessage(idempotency_key=key, kind=kind, recipient=order.customer.email,
                     order_ref=order_ref, restaurant=order.restaurant_id, status="queued",
                     refund_id=refund_id)
    ).on_conflict(target=EmailMessage.idempotency_key, action="DO NOTHING")
    return await get_row(key)


async def _queue_row(kind: str, order_ref: str, recipient: str, restaurant_id: int, *,
                     also: str = "", also_args: Sequence[Any] = ()) -> str:
    """Insert the queued row if missing and return the row's status, in one round trip.
    `also`: a CTE of the caller's bookkeeping run in the same statement, with parameters
    from `$6` (`also_args`): intake's funnel count.

    Committed without waiting for the WAL flush (intake's hot path): if a crash lost the
    row, the send job recreates it (`ensure_row`) before sending."""
    _check_kind(kind)
    key = idempotency_key(kind, order_ref)
    rows = await db.fetch(
        f"WITH {also + ', ' if also else ''}"  # noqa: S608 - the caller's CTE, no input
        "inserted AS (INSERT INTO email_message (idempotency_key, kind, recipient, "
        "order_ref, restaurant, status) SELECT $1, $2, $3, $4, $5, 'queued' "
        f"FROM {db.ASYNC_COMMIT} ON CONFLICT (idempotency_key) DO NOTHING RETURNING status) "
        "SELECT status FROM inserted UNION ALL "
        "SELECT status FROM email_message WHERE idempotency_key = $1 LIMIT 1",
        key, kind, recipient, order_ref, restaurant_id, *also_args)
    return str(rows[0]["status"])


def queue_after(source: str, first: int) -> str:
    """A CTE that inserts an email's queued row once for each row of CTE `source` (none if it
    is empty), for composing into the caller's statement: a new paid order writes its
    payment email's row with the order, so the fast path after commit only enqueues the
    send job. Parameters `$first`… are `queue_parameters`; a row that exists is kept."""
    if not source.isidentifier():
        raise ValueError(f"not a CTE name: {source!r}")
    key, kind, recipient, order_ref, restaurant = (f"${first + offset}" for offset in range(5))
    # Only a checked identifier and parameter numbers are interpolated.
    return (
        f"email_row AS (INSERT INTO email_message (idempotency_key, kind, recipient, "  # noqa: S608
        f"order_ref, restaurant, status) SELECT {key}::text, {kind}::text, {recipient}::text, "
        f"{order_ref}::text, {restaurant}::integer, 'queued' FROM {source} "
        f"ON CONFLICT (idempotency_key) DO NOTHING)")


def queue_parameters(kind: str, order_ref: str, recipient: str, restaurant_id: int
                     ) -> list[Any]:
    """The parameters of `queue_after` for the `kind` email about `order_ref`."""
    _check_kind(kind)
    return [idempotency_key(kind, order_ref), kind, recipient, order_ref, restaurant_id]


async def new_resend_row(redis: ArqRedis, kind: str, order_ref: str, *,
                         refund_id: str = "") -> EmailRow | None:
    """A fresh queued row `<kind>/<ref>/resend-<n>` (n = 1, 2, …); None if the order is
    unknown. Concurrent resends each get their own n (the key is unique). `refund_id`: as
    for `ensure_row`."""
    _check_kind(kind)
    order = await load_order_view(redis, order_ref)
    if order is None:
        return None
    base = idempotency_key(kind, order_ref)
    for _attempt in range(5):
        earlier = await EmailMessage.count().where(
            (EmailMessage.kind == kind) & (EmailMessage.order_ref == order_ref)
            & (EmailMessage.idempotency_key != base))
        key = f"{base}/resend-{earlier + 1}"
        inserted = await EmailMessage.insert(
            EmailMessage(idempotency_key=key, kind=kind, recipient=order.customer.email,
                         order_ref=order_ref, restaurant=order.restaurant_id, status="queued",
                         refund_id=refund_id)
        ).on_conflict(target=EmailMessage.idempotency_key, action="DO NOTHING").returning(
            EmailMessage.id)
        if inserted:
            return await get_row(key)
    raise RuntimeError(f"could not allocate a resend key for {base}")


async def enqueue_email(redis: ArqRedis, kind: str, order_ref: str, *,
                        defer_by: float | None = None, resend: bool = False,
                        recipient: str | None = None, restaurant_id: int | None = None,
                        suffix: str = "", refund_id: str = "") -> None:
    """Create the queued row (if missing) and enqueue its send job; safe to call repeatedly
    (the row is unique per idempotency key and arq collapses jobs with the same id).

    `resend=True` is a deliberate second send (admin): a new row and a new Resend key.
    `suffix` names a later email of the kind about something new, sent once like a first
    one under its own key (`<kind>/<ref>/<suffix>`): a repeat finds its row and sends nothing.
    Callers that know the recipient pass `recipient` and `restaurant_id`, which saves
    reading the order back. `refund_id`: the refund an `order_refunded` email tells (its
    row keeps it: the email describes that refund whenever the worker sends it)."""
    if suffix:
        row = await ensure_row(redis, kind, order_ref, suffix=suffix, refund_id=refund_id)
        if row is None or row.status != "queued":
            return
        await redis.enqueue_job(SEND_JOB, kind, order_ref, row.idempotency_key,
                                _job_id=job_id_of_key(row.idempotency_key),
                                _defer_by=defer_by)
        log.info("email enqueued", kind=kind, order_id=order_ref, key=row.idempotency_key)
        return
    if resend:
        fresh = await new_resend_row(redis, kind, order_ref, refund_id=refund_id)
        if fresh is None:
            raise LookupError(f"no order {order_ref}")
        await redis.enqueue_job(SEND_JOB, kind, order_ref, fresh.idempotency_key,
                                _job_id=job_id_of_key(fresh.idempotency_key),
                                _defer_by=defer_by)
        log.info("email resend enqueued", kind=kind, order_id=order_ref,
                 key=fresh.idempotency_key)
        return
    if recipient is not None and restaurant_id is not None and not refund_id:
        status: str | None = await _queue_row(kind, order_ref, recipient, restaurant_id)
    else:
        row = await ensure_row(redis, kind, order_ref, refund_id=refund_id)
        status = row.status if row is not None else None
    if status != "queued":
        return  # unknown order, or already sent (or failed for good): nothing to do
    job = send_job(kind, order_ref, defer_by_s=defer_by)
    enqueued = await enqueue_jobs(redis, [job])
    log.info("email enqueued", kind=kind, order_id=order_ref, duplicate=not enqueued[0])


async def queue_email(kind: str, order_ref: str, *, recipient: str, restaurant_id: int,
                      also: str = "", also_args: Sequence[Any] = ()) -> JobSpec | None:
    """The queued row for a new order's email, written without reading the order back
    (the caller knows recipient and restaurant); returns its send job for the caller to
    enqueue with its own jobs (one Redis round trip), or None if it was sent already.
    `also`/`also_args`: see `_queue_row`."""
    if await _queue_row(kind, order_ref, recipient, restaurant_id, also=also,
                        also_args=also_args) != "queued":
        return None
    return send_job(kind, order_ref)


def queue_send(pipe: Pipeline, redis: ArqRedis, kind: str, order_ref: str) -> None:
    """Enqueue the send job of an email whose row is queued already (`queue_after`, written
    with its order) as one command of the caller's pipeline; its result is `[1]` when
    enqueued, `[0]` when arq has that job id already (queued, running or done)."""
    enqueue_jobs_in(pipe, redis, [send_job(kind, order_ref)])


def send_job(kind: str, order_ref: str, *, defer_by_s: float | None = None) -> JobSpec:
    return JobSpec(SEND_JOB, (kind, order_ref), job_id=job_id(kind, order_ref),
                   defer_by_s=defer_by_s)


async def requeue_stale(redis: ArqRedis, older_than_s: float = 120, limit: int = 500) -> int:
    """Re-enqueue queued emails whose job was lost (enqueue failed, Redis flushed) or ended
    without sending (arq's job timeout, after a frozen worker: arq never retries it); a job
    that is still pending, deferred or running keeps its id, so this never doubles one. A
    send that did reach Resend before its job ended is repeated under the same
    Idempotency-Key: Resend answers it without a second email."""
    cutoff = datetime.now().astimezone() - timedelta(seconds=older_than_s)
    rows = await EmailMessage.select(EmailMessage.kind, EmailMessage.order_ref,
                                     EmailMessage.idempotency_key).where(
        (EmailMessage.status == "queued") & (EmailMessage.updated_at < cutoff)
    ).order_by(EmailMessage.created_at).limit(limit)
    ended = await forget_finished_jobs(redis, [job_id_of_key(row["idempotency_key"])
                                               for row in rows])
    if ended:
        log.warning("email jobs ended without sending; enqueued again", count=ended)
    enqueued = 0
    for row in rows:
        key = row["idempotency_key"]
        extra = [] if key == idempotency_key(row["kind"], row["order_ref"]) else [key]
        job = await redis.enqueue_job(SEND_JOB, row["kind"], row["order_ref"], *extra,
                                      _job_id=job_id_of_key(key))
        enqueued += job is not None
    if enqueued:
        log.warning("re-enqueued stale emails", count=enqueued)
    return enqueued


async def queued_backlog(exclude_id: int) -> int:
    return await EmailMessage.count().where(
        (EmailMessage.status == "queued") & (EmailMessage.id != exclude_id))


async def queued_rows(limit: int, exclude_id: int) -> list[EmailRow]:
    """The oldest queued rows never attempted (a row tried before, alone or in a batch, is
    retried under its first Idempotency-Key, never in a new batch)."""
    # Raw SQL: Piccolo built these two statements at a tenth of a batch's claiming time.
    rows = await db.fetch(
        f"SELECT {_ROW_COLUMNS} FROM email_message WHERE status = 'queued' AND id <> $1 "  # noqa: S608
        "AND attempts = 0 AND provider_id IS NULL ORDER BY created_at LIMIT $2",
        exclude_id, limit)
    return [EmailRow.of(row) for row in rows]


async def rows_by_id(row_ids: list[int]) -> list[EmailRow]:
    """The rows with these ids, in id order (one query for a batch)."""
    if not row_ids:
        return []
    rows = await db.fetch(
        f"SELECT {_ROW_COLUMNS} FROM email_message WHERE id = ANY($1::bigint[]) ORDER BY id",  # noqa: S608
        row_ids)
    return [EmailRow.of(row) for row in rows]


async def mark_batch_attempt(row_ids: list[int], batch_key: str) -> None:
    """Count an attempt and remember the batch's Idempotency-Key on each row (in
    `provider_id`, until the real id replaces it): a row whose batch may have gone out must
    only ever be retried as that same batch, under that key, never alone under its own.
    One statement (one WAL flush) for the whole batch; provider_id is unique, hence
    `<batch key>#<row id>`."""
    await db.execute(
        "UPDATE email_message SET attempts = attempts + 1, "
        "provider_id = $2 || '#' || id::text, updated_at = now() WHERE id = ANY($1::bigint[])",
        row_ids, batch_key)


def batch_of(row: EmailRow) -> str:
    """The batch key of a row whose batch attempt is unresolved, else ''."""
    marker = row.provider_id or ""
    return marker.split("#", 1)[0] if marker.startswith("batch/") and "#" in marker else ""


async def batch_rows(batch_key: str) -> list[EmailRow]:
    """The rows of a batch attempt, in the order they were sent (by id)."""
    rows = await EmailMessage.select().where(
        EmailMessage.provider_id.like(batch_key + "#%")).order_by(EmailMessage.id)
    return [EmailRow.of(row) for row in rows]


async def clear_batch(batch_key: str) -> None:
    """The batch was refused as a whole (nothing sent): its rows go back to single sends."""
    await EmailMessage.update({EmailMessage.provider_id: None}).where(
        EmailMessage.provider_id.like(batch_key + "#%") & (EmailMessage.status == "queued"))


async def record_attempts(row_ids: list[int]) -> None:
    """Count one more send attempt on each row (before the request goes out)."""
    await EmailMessage.update(
        {EmailMessage.attempts: EmailMessage.attempts + 1,
         EmailMessage.updated_at: datetime.now().astimezone()}
    ).where(EmailMessage.id.is_in(row_ids))


async def record_error(row_id: int, error: str) -> None:
    """Note a transient failure on a row that stays queued (it will be retried)."""
    await EmailMessage.update(
        {EmailMessage.last_error: error[:MAX_ERROR],
         EmailMessage.updated_at: datetime.now().astimezone()}
    ).where(EmailMessage.id == row_id)


async def mark_sent(row_id: int, provider_id: str | None, transport: str,
                    note: str = "") -> bool:
    """queued → sent; True only for the call that moved it (so counters bump once)."""
    now = datetime.now().astimezone()
    moved = await EmailMessage.update(
        {EmailMessage.status: "sent", EmailMessage.provider_id: provider_id,
         EmailMessage.transport: transport, EmailMessage.sent_at: now,
         EmailMessage.last_error: note[:MAX_ERROR], EmailMessage.updated_at: now}
    ).where((EmailMessage.id == row_id) & (EmailMessage.status == "queued")).returning(
        EmailMessage.id)
    return bool(moved)


async def mark_batch_sent(sent: dict[int, str]) -> set[int]:
    """queued → sent for a batch's rows (row id → Resend id) in one statement; returns the
    ids this call moved (so counters bump once)."""
    if not sent:
        return set()
    rows = await db.fetch(
        "UPDATE email_message AS e SET status = 'sent', provider_id = v.provider_id, "
        "transport = 'resend', sent_at = now(), last_error = '', updated_at = now() "
        "FROM unnest($1::bigint[], $2::text[]) AS v (id, provider_id) "
        "WHERE e.id = v.id AND e.status = 'queued' RETURNING e.id",
        list(sent), list(sent.values()))
    return {int(row["id"]) for row in rows}


async def mark_skipped(row_id: int, reason: str) -> None:
    """queued → skipped: not sent on purpose (a confirmation for an order paid meanwhile),
    which the email log and the failure alerts keep apart from real failures."""
    await EmailMessage.update(
        {EmailMessage.status: "skipped", EmailMessage.last_error: reason[:MAX_ERROR],
         EmailMessage.updated_at: datetime.now().astimezone()}
    ).where((EmailMessage.id == row_id) & (EmailMessage.status == "queued"))


async def mark_failed(row_id: int, error: str) -> None:
    """queued → failed, for errors retrying cannot fix (validation, unknown order)."""
    await EmailMessage.update(
        {EmailMessage.status: "failed", EmailMessage.last_error: error[:MAX_ERROR],
         EmailMessage.updated_at: datetime.now().astimezone()}
    ).where((EmailMessage.id == row_id) & (EmailMessage.status == "queued"))


@outbox.consumer("email.send")
async def deliver_outbox_row(redis: ArqRedis, payload: dict[str, Any]) -> None:
    """The outbox's `email.send` rows (`outbox.email`): queue the email."""
    await enqueue_email(redis, str(payload["kind"]), str(payload["order_ref"]),
                        recipient=payload.get("recipient"),
                        restaurant_id=payload.get("restaurant_id"),
                        suffix=str(payload.get("suffix") or ""),
                        refund_id=str(payload.get("refund_id") or ""))
