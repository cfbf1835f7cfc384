"""Admin reads and replays of what came in and went out: processed Stripe events, received
webhooks (Stripe and Resend), and the email log with delivery status per order."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.notifications.tables import EmailMessage
from app.payments.tables import StripeEvent
from app.platform.tables import WebhookDelivery

log = get_logger("orderpass.admin.inbox")
PAGE = 100


class ReplayError(Exception):
    def __init__(self, message: str, status_code: int = 409) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class ReplayResult:
    ok: bool
    detail: str


async def stripe_events(limit: int = PAGE) -> list[dict[str, Any]]:
    return list(await StripeEvent.select().order_by(StripeEvent.received_at, ascending=False)
                .order_by(StripeEvent.id, ascending=False).limit(limit))


async def deliveries(provider: str | None = None, limit: int = PAGE) -> list[dict[str, Any]]:
    query = WebhookDelivery.select(
        WebhookDelivery.id, WebhookDelivery.provider, WebhookDelivery.event_id,
        WebhookDelivery.type, WebhookDelivery.signature_valid, WebhookDelivery.processed,
        WebhookDelivery.error, WebhookDelivery.received_at)
    if provider in ("stripe", "resend"):
        query = query.where(WebhookDelivery.provider == provider)
    rows = await query.order_by(WebhookDelivery.received_at, ascending=False).order_by(
        WebhookDelivery.id, ascending=False).limit(limit)
    ids = [row["id"] for row in rows]
    replayable = set()
    if ids:
        replayable = {row["id"] for row in await WebhookDelivery.select(WebhookDelivery.id).where(
            WebhookDelivery.id.is_in(ids) & (WebhookDelivery.signature_valid == True)  # noqa: E712
            & (WebhookDelivery.body != ""))}
    races = await _races(ids)
    return [{**row, "replayable": row["provider"] == "resend" and row["id"] in replayable,
             "race": races.get(row["id"], "")} for row in rows]


async def _races(ids: list[int]) -> dict[int, str]:
    """Resend deliveries that only raced our own "sent" update (an event for an email id we
    had not stored yet): `settled` once the same event was processed on a later delivery,
    `waiting` while Resend is still due to send it again. Neither is a failure."""
    from app.infra import db
    from app.notifications.webhooks import RACE_ONLY

    if not ids:
        return {}
    rows = await db.fetch(
        "SELECT d.id, EXISTS (SELECT 1 FROM webhook_delivery later WHERE later.provider = "  # noqa: S608
        "d.provider AND later.event_id = d.event_id AND later.processed) AS settled "
        f"FROM webhook_delivery d WHERE d.id = ANY($1::bigint[]) AND NOT d.processed "
        f"AND {RACE_ONLY}", ids)
    return {row["id"]: "settled" if row["settled"] else "waiting" for row in rows}


async def replay_stripe_event(redis: ArqRedis, event_id: str) -> ReplayResult:
    """Fetch the event from Stripe by id and run it through the webhook handler again
    (idempotent: an event already acted on is a duplicate, an order is never doubled)."""
    from app.payments.stripe_gateway import get_gateway
    from app.payments.webhooks import count, handle_event

    if not event_id.startswith("evt_"):
        raise ReplayError(f"{event_id!r} is not a Stripe event id (only Stripe's own events "
                          "can be fetched again)", 400)
    event = await get_gateway().retrieve_event(event_id)
    outcome = await handle_event(redis, event, time.perf_counter())
    await outcome.finish()  # nobody is waiting for a 2xx: the follow-up runs now
    count(event.type, outcome.result)
    log.info("admin replayed stripe event", stripe_event=event_id, event_type=event.type,
             result=outcome.result, order_id=outcome.order_ref)
    return ReplayResult(True, f"{event.type}: {outcome.result.replace('_', ' ')}")


async def replay_resend_delivery(delivery_id: int) -> ReplayResult:
    """Re-run a stored, signature-valid Resend delivery through the webhook service."""
    from app.notifications.webhooks import process_verified

    row = await WebhookDelivery.select().where(WebhookDelivery.id == delivery_id).first()
    if row is None:
        raise ReplayError(f"no delivery {delivery_id}", 404)
    if row["provider"] != "resend":
        raise ReplayError("replay Stripe deliveries from the Stripe event list", 400)
    if not row["signature_valid"] or not row["body"]:
        raise ReplayError("only deliveries with a valid signature and a stored body can be "
                          "replayed", 400)
    result = await process_verified(row["body"].encode(), row["event_id"])
    log.info("admin replayed resend delivery", delivery=delivery_id, svix_id=row["event_id"],
             status=result.status_code, detail=result.detail)
    return ReplayResult(result.status_code < 300, f"{row['type']}: {result.detail}")


@dataclass(frozen=True)
class EmailLogRow:
    id: int
    kind: str
    recipient: str
    order_ref: str
    status: str
    transport: str
    attempts: int
    last_error: str
    idempotency_key: str
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime

    @property
    def is_resend(self) -> bool:
        return "/resend-" in self.idempotency_key


EMAIL_FILTERS = {"failed": ("failed", "bounced", "complained"), "skipped": ("skipped",),
                 "queued": ("queued",)}


async def email_counts() -> dict[str, int]:
    """Emails per filter (failed, skipped on purpose, queued) for the log's tabs."""
    from app.infra import db

    rows = await db.fetch("SELECT status, count(*)::int AS n FROM email_message GROUP BY status")
    by_status = {row["status"]: row["n"] for row in rows}
    return {name: sum(by_status.get(status, 0) for status in statuses)
            for name, statuses in EMAIL_FILTERS.items()}


async def email_log(query: str = "", limit: int = PAGE, status: str = "") -> list[EmailLogRow]:
    """Newest first; `query` matches an order ref exactly or a recipient (substring);
    `status` is one of EMAIL_FILTERS (failed, skipped, queued) or "" for all."""
    select = EmailMessage.select()
    if status in EMAIL_FILTERS:
        select = select.where(EmailMessage.status.is_in(list(EMAIL_FILTERS[status])))
    text = query.strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        select = select.where((EmailMessage.order_ref == text)
                              | EmailMessage.recipient.ilike(f"%{escaped}%"))
    rows = await select.order_by(EmailMessage.created_at, ascending=False).order_by(
        EmailMessage.id, ascending=False).limit(limit)
    return [EmailLogRow(
        id=row["id"], kind=row["kind"], recipient=row["recipient"], order_ref=row["order_ref"],
        status=row["status"], transport=row["transport"], attempts=row["attempts"],
        last_error=row["last_error"], idempotency_key=row["idempotency_key"],
        created_at=row["created_at"], sent_at=row["sent_at"], updated_at=row["updated_at"])
        for row in rows]
