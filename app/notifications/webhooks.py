"""Resend delivery webhooks (Svix-signed): verify, record every delivery in `webhook_delivery`,
and move the matching email's status forward (duplicates and stale events change nothing)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from svix.webhooks import Webhook, WebhookVerificationError

from app.infra.logging import get_logger
from app.notifications import service
from app.payments.tables import WebhookDelivery
from app.piccolo_conf import DB

log = get_logger("orderpass.email.webhook")

MAX_BODY_BYTES = 256 * 1024  # enforced by the route; Resend events are a few KiB
MAX_INVALID_BODY = 2048  # what we keep of an unverified body: evidence, not storage for anyone
MAX_VALID_BODY = 64 * 1024
# An event for an email we do not know yet is most likely racing our own "sent" update: for
# this long, answer non-2xx so Svix redelivers it; after that it is noise, acknowledge it.
UNKNOWN_RETRY_WINDOW = timedelta(minutes=10)
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
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        await _record(event_id=event_id, event_type="", valid=True, processed=False,
                      error=f"unreadable event: {error!r}", body=text)
        return WebhookResult(400, "unreadable event")

    async with DB.transaction() as transaction:
        # Delivery statuses are a record, not money: committed without waiting for the WAL
        # flush, so a burst of them (two or three per email) holds pool connections briefly.
        # A Postgres crash can lose the last fraction of a second of them.
        await transaction.connection.execute("SET LOCAL synchronous_commit TO OFF")
        seen = await WebhookDelivery.exists().where(
            (WebhookDelivery.provider == "resend") & (WebhookDelivery.event_id == event_id)
            & (WebhookDelivery.processed == True)  # noqa: E712 - Piccolo column expression
        )
        status = EVENT_STATUS.get(event_type)
        if seen or status is None or not email_id:
            reason = "duplicate" if seen else f"ignored: {event_type}"
            await _record(event_id=event_id, event_type=event_type, valid=True,
                          processed=True, error=reason, body=text)
            return WebhookResult(200, reason)
        key = await service.advance_status(email_id, status, _error_detail(event_type, data))
        if key is None:
            await _record(event_id=event_id, event_type=event_type, valid=True,
                          processed=False, error=f"unknown email_id {email_id}", body=text)
            retry = _recent(event.get("created_at") or data.get("created_at"))
            log.info("resend webhook for unknown email", email_id=email_id, retry=retry)
            return WebhookResult(409 if retry else 200, "unknown email")
        await _record(event_id=event_id, event_type=event_type, valid=True, processed=True,
                      error="", body=text)
        log.info("resend webhook processed", type=event_type, email_key=key, status=status,
                 order_id=key.partition("/")[2])
    return WebhookResult(200, "processed")
