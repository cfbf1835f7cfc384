"""Signed Resend (Svix) webhook bodies, as Resend would post them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from svix.webhooks import Webhook

from app.settings import get_settings

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
