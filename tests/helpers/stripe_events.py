"""Stripe events from the sandbox, signed as Stripe signs them, for posting to the app."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from tests.helpers.infra import TEST_ENV
from tests.helpers.sandbox import RunningSandbox


def sign(payload: bytes, secret: str = TEST_ENV["STRIPE_WEBHOOK_SECRET"],
         timestamp: int | None = None) -> str:
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + payload, hashlib.sha256)
    return f"t={moment},v1={digest.hexdigest()}"


def sandbox_events(sandbox_url: str, *, session_id: str | None = None,
                   types: set[str] | None = None) -> list[dict[str, Any]]:
    """Events the sandbox emitted, oldest first, optionally for one Checkout Session."""
    response = httpx.get(f"{sandbox_url}/v1/events", params={"limit": 100},
                         headers={"Authorization": "Bearer sk_test_orderpass_sandbox"})
    response.raise_for_status()
    events = list(reversed(response.json()["data"]))
    if session_id:
        events = [event for event in events if event["data"]["object"].get("id") == session_id]
    if types:
        events = [event for event in events if event["type"] in types]
    return events


def signed_request(event: dict[str, Any], **sign_options: Any) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(event).encode()
    return payload, {"stripe-signature": sign(payload, **sign_options),
                     "content-type": "application/json"}


async def post_event(client: httpx.AsyncClient, event: dict[str, Any],
                     **sign_options: Any) -> httpx.Response:
    payload, headers = signed_request(event, **sign_options)
    return await client.post("/webhooks/stripe", content=payload, headers=headers)


def paid_events(sandbox: RunningSandbox, session_id: str) -> list[dict[str, Any]]:
    return sandbox_events(sandbox.url, session_id=session_id,
                          types={"checkout.session.completed",
                                 "checkout.session.async_payment_succeeded",
                                 "checkout.session.async_payment_failed",
                                 "checkout.session.expired"})
