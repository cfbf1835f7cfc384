"""Signed Resend (Svix) webhook bodies, as Resend would post them, and a sent email whose
events they can carry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from arq.connections import ArqRedis
from svix.webhooks import Webhook

from app.notifications import service
from app.notifications.tables import EmailMessage
from app.settings import get_settings
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email

_counter = iter(range(10**6))


def signed(event: dict[str, Any], msg_id: str | None = None,
           secret: str | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event)
    msg_id = msg_id or f"msg_test_{next(_counter)}"
    now = datetime.now(UTC)
    signature = Webhook(secret or get_settings().resend_webhook_secret).sign(msg_id, now, body)
    return body.encode(), {"svix-id": msg_id, "svix-timestamp": str(int(now.timestamp())),
                           "svix-signature": signature, "content-type": "application/json"}


async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST a (signed) Resend webhook to the app."""
    return await client.post("/webhooks/resend", content=body, headers=headers)


async def sent_email(redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox,
                     address: str) -> tuple[str, list[dict[str, Any]]]:
    order = await make_order(email_address=address)
    await service.enqueue_email(redis, "payment_received", order.id)
    assert await send_email(ctx(), "payment_received", order.id) == "sent via resend"
    [message] = sandbox.messages(to=address)
    return order.id, message["events"]


async def status_of(ref: str) -> str:
    row = await EmailMessage.select(EmailMessage.status).where(
        EmailMessage.order_ref == ref).first()
    assert row is not None
    return str(row["status"])
