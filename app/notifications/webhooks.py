"""Resend delivery webhooks (Svix-signed): verify, record every delivery in `webhook_delivery`,
and move the matching email's status forward (duplicates and stale events change nothing)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from svix.webhooks import Webhook, WebhookVerificationError

from app.infra import db
from app.infra.logging import get_logger
from app.notifications import service
from app.platform.tables import WebhookDelivery

log = get_logger("orderpass.email.webhook")

MAX_BODY_BYTES = 256 * 1024  # enforced by the route; Resend events are a few KiB
MAX_INVALID_BODY = 2048  # what we keep of an unverified body: evidence, not storage for anyone
MAX_VALID_BODY = 64 * 1024
# An event for an email we do not know yet is most likely racing our own "sent" update: for
# this long, answer non-2xx so Svix redelivers it; after that it is noise, acknowledge it.
UNKNOWN_RETRY_WINDOW = timedelta(minutes=10)
UNKNOWN_EMAIL = "unknown email_id "  # such a delivery asked to be sent again: no failure
# SQL: a delivery (alias `d`) that only lost that race, so it is no failure: it is still
# inside the retry window, or the same event was processed on a later delivery.
RACE_ONLY = f"""(d.error LIKE '{UNKNOWN_EMAIL}%' AND (
    d.received_at > now() - interval '{int(UNKNOWN_RETRY_WINDOW.total_seconds())} seconds'
    OR EXISTS (SELECT 1 FROM webhook_delivery later WHERE later.provider = d.provider
               AND later.event_id = d.event_id AND later.processed)))"""  # noqa: S608
# A send's first event can arrive before the worker has recorded Resend's answer (the
# sandbox queues it at once; Resend within seconds). When the event's tags name an email
# still on its way out, its record is waited for this long (~1.5 s, a few indexed reads),
# rather than a 409 that waits for Svix's redelivery (seconds, then minutes) and logs a race.
IN_FLIGHT_WAITS_S = (0.05, 0.1, 0.2, 0.4, 0.8)
EVENT_STATUS = {
    "email.sent": "sent",
    "email.delivered": "delivered",
    "email.delivery_delayed": "delayed",
    "email.bounced": "bounced",
    "email.complained": "complained",
    "email.failed": "failed",
    "email.suppressed": "failed",
}


@dataclass(frozen=True)
class WebhookResult:
    status_code: int
    detail: str


def _pg_text(value: str) -> str:
    """Postgres text cannot hold NUL: a junk body or header must not turn into a 500."""
    return value.replace("\x00", "\ufffd")


async def _record(*, event_id: str, event_type: str, valid: bool, processed: bool,
                  error: str, body: str) -> None:
    await WebhookDelivery.insert(WebhookDelivery(
        provider="resend", event_id=_pg_text(event_id[:255]), type=_pg_text(event_type[:120]),
        signature_valid=valid, processed=processed, error=_pg_text(error[:1000]),
        body=_pg_text(body),
    ))


def _recent(created_at: Any) -> bool:
    try:
        moment = datetime.fromisoformat(str(created_at))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return datetime.now(UTC) - moment < UNKNOWN_RETRY_WINDOW


def _error_detail(event_type: str, data: dict[str, Any]) -> str:
    if event_type == "email.bounced" and isinstance(data.get("bounce"), dict):
        bounce = data["bounce"]
        return f"bounced ({bounce.get('type', '')}): {bounce.get('message', '')}"
    if event_type in ("email.failed", "email.suppressed"):
        reason = data.get("failed") or data.get("suppressed") or {}
        return f"{event_type}: {reason.get('reason', '') if isinstance(reason, dict) else ''}"
    return ""


# One statement, one round trip (two or three of these arrive per email sent): skip an event
# already processed, move the email's status forward (never back), and record the delivery
# with its outcome. Delivery statuses are a record, not money: committed without waiting for
# the WAL flush (the INSERT's one-row source always evaluates ASYNC_COMMIT); a Postgres crash
# can lose the last fraction of a second of them. Two copies racing may both advance the
# status, which is the same forward move. (Postgres runs every data-modifying CTE whether or
# not the final SELECT reads it.)
_APPLY = f"""
WITH seen AS (
    SELECT 1 FROM webhook_delivery
    WHERE provider = 'resend' AND event_id = $1 AND processed LIMIT 1),
moved AS (
    UPDATE email_message SET status = $4, updated_at = now(),
        last_error = CASE WHEN $5 = '' THEN last_error ELSE $5 END
    WHERE provider_id = $3 AND status = ANY($6::text[]) AND NOT EXISTS (SELECT 1 FROM seen)),
outcome AS (
    SELECT EXISTS (SELECT 1 FROM seen) AS duplicate,
        (SELECT idempotency_key FROM email_message WHERE provider_id = $3) AS key),
recorded AS (
    INSERT INTO webhook_delivery (provider, event_id, type, signature_valid, processed,
        error, body)
    SELECT 'resend', $1, $2, true, duplicate OR key IS NOT NULL,
        CASE WHEN duplicate THEN 'duplicate' WHEN key IS NULL THEN '{UNKNOWN_EMAIL}' || $3
             ELSE '' END, $7
    FROM outcome, {db.ASYNC_COMMIT})
SELECT duplicate, key FROM outcome
"""  # noqa: S608 - only a constant is interpolated


async def _apply(event_id: str, event_type: str, email_id: str, status: str, error: str,
                 body: str) -> tuple[bool, str | None]:
    """Run `_APPLY`; (duplicate, the email's idempotency key or None if unknown)."""
    earlier = [name for name, rank in service.STATUS_RANK.items()
               if rank < service.STATUS_RANK[status]]
    rows = await db.fetch(_APPLY, _pg_text(event_id[:255]), _pg_text(event_type[:120]),
                          email_id, status, _pg_text(error[:service.MAX_ERROR]), earlier,
                          _pg_text(body))
    return bool(rows[0]["duplicate"]), rows[0]["key"]


async def _adopt(email_id: str, data: dict[str, Any]) -> bool:
    """An email recorded as sent without Resend's id (its retry met Resend's 409 for a
    reused idempotency key: the first attempt had gone out, under an id we never heard)
    learns that id from the first event about it, by the tags every email carries (kind
    and order). Its events then move it along instead of being refused for days."""
    tags = data.get("tags")
    if not isinstance(tags, dict) or not email_id:
        return False
    kind, order = tags.get("kind"), tags.get("order")
    if not isinstance(kind, str) or not isinstance(order, str):
        return False
    try:
        rows = await db.fetch(
            "UPDATE email_message SET provider_id = $1, updated_at = now() "
            "WHERE idempotency_key = $2 AND provider_id IS NULL AND status <> 'queued' "
            "RETURNING id", email_id, _pg_text(service.idempotency_key(kind, order)))
    except asyncpg.UniqueViolationError:
        return True  # a concurrent event adopted it first
    if rows:
        log.info("email learned its Resend id from a webhook", email_id=email_id,
                 order_id=order, kind=kind)
    return bool(rows)


def _tagged_key(data: dict[str, Any]) -> str | None:
    """The idempotency key of the email an event's tags name (kind, and the order or, for
    an account email, its reference), or None."""
    tags = data.get("tags")
    if not isinstance(tags, dict):
        return None
    kind, ref = tags.get("kind"), tags.get("order") or tags.get("ref")
    if not isinstance(kind, str) or not isinstance(ref, str):
        return None
    return _pg_text(service.idempotency_key(kind, ref))


async def _recorded_soon(email_id: str, data: dict[str, Any]) -> bool:
    """True once the email the tags name is recorded under `email_id`, waiting while it is
    still queued (its send on the way); False at once for any other email or none."""
    key = _tagged_key(data)
    if key is None:
        return False
    for delay in (0.0, *IN_FLIGHT_WAITS_S):
        await asyncio.sleep(delay)
        rows = await db.fetch("SELECT provider_id = $1 AS known, status = 'queued' AS queued "
                              "FROM email_message WHERE idempotency_key = $2", email_id, key)
        if not rows or rows[0]["known"]:
            return bool(rows)
        if not rows[0]["queued"]:
            return False  # sent under another id: not this one's to wait for
    return False


async def handle_resend_webhook(body: bytes, headers: Mapping[str, str],
                                secret: str) -> WebhookResult:
    event_id = headers.get("svix-id", "")[:255]
    try:
        if not secret:
            raise WebhookVerificationError("RESEND_WEBHOOK_SECRET is not configured")
        Webhook(secret).verify(body, dict(headers))
    except Exception as error:  # svix raises its own error, or ValueError for junk secrets
        await _record(event_id=event_id, event_type="", valid=False, processed=False,
                      error=f"invalid signature: {error}"[:300],
                      body=body[:MAX_INVALID_BODY].decode("utf-8", "replace"))
        log.warning("resend webhook with a bad signature", svix_id=event_id)
        return WebhookResult(400, "invalid signature")

    return await process_verified(body, event_id)


async def process_verified(body: bytes, event_id: str) -> WebhookResult:
    """Act on a Resend event whose signature was verified (on receipt, or when an admin
    replays a stored valid delivery); recorded as a new delivery, duplicates change nothing."""
    text = body[:MAX_VALID_BODY].decode("utf-8", "replace")
    try:
        event = json.loads(body)
        event_type = str(event["type"])
        data = event.get("data") or {}
        email_id = _pg_text(str(data.get("email_id") or ""))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        await _record(event_id=event_id, event_type="", valid=True, processed=False,
                      error=f"unreadable event: {error!r}", body=text)
        return WebhookResult(400, "unreadable event")

    status = EVENT_STATUS.get(event_type)
    if status is None or not email_id:
        await _record(event_id=event_id, event_type=event_type, valid=True, processed=True,
                      error=f"ignored: {event_type}", body=text)
        return WebhookResult(200, f"ignored: {event_type}")
    duplicate, key = await _apply(event_id, event_type, email_id, status,
                                  _error_detail(event_type, data), text)
    if duplicate:
        return WebhookResult(200, "duplicate")
    if key is None and (await _adopt(email_id, data)
                        or await _recorded_soon(email_id, data)):
        duplicate, key = await _apply(event_id, event_type, email_id, status,
                                      _error_detail(event_type, data), text)
    if key is None:
        retry = _recent(event.get("created_at") or data.get("created_at"))
        tags = data.get("tags")
        named = tags.get("order") if isinstance(tags, dict) else None
        order = {"order_id": named} if isinstance(named, str) else {}
        # usually the send's own record racing its first event: Resend retries, it lands
        log.info("resend webhook for unknown email", email_id=email_id, retry=retry,
                 type=event_type, **order)
        return WebhookResult(409 if retry else 200, "unknown email")
    log.info("resend webhook processed", type=event_type, email_key=key, status=status,
             order_id=service.order_ref_of(key))
    return WebhookResult(200, "processed")
