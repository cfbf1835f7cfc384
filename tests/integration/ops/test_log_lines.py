"""What on-call reads: a transition names the ticket the kitchen calls out, an event about
no order of ours names no order (it wrote an empty `order_id=`), and an email event that
raced its send names the order."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from arq.connections import ArqRedis

from app.notifications import webhooks as resend_webhooks
from app.orders import lifecycle
from app.payments import webhooks
from tests.helpers.logs import capture_info
from tests.helpers.orders import make_paid_order
from tests.helpers.resend_events import post, signed
from tests.helpers.stripe_events import post_event


async def test_a_transition_line_names_the_ticket(redis: ArqRedis,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    order = await make_paid_order()
    logs = capture_info(monkeypatch, lifecycle).entries
    await lifecycle.apply_action(order.public_id, "accept", actor="kitchen:test",
                                 prep_minutes=10, redis=redis)
    line = next(line for line in logs if line["event"] == "order transition")
    assert (line["order_id"], line["ticket"], line["to_status"]) == (
        order.public_id, order.ticket_number, "accepted")


async def test_an_event_about_no_order_names_none(client: httpx.AsyncClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    event = {"id": "evt_payout_1", "object": "event", "type": "payout.paid",
             "created": 1_700_000_000, "data": {"object": {"id": "po_1", "object": "payout"}}}
    logs = capture_info(monkeypatch, webhooks).entries
    response = await post_event(client, event)
    assert response.status_code == 200, response.text
    line = next(line for line in logs if line["event"] == "stripe webhook")
    assert line["result"] == "ignored" and "order_id" not in line, line


async def test_a_resend_event_before_its_send_is_recorded_names_the_order(
        client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Resend's first event often arrives before the worker has recorded the send: a 409
    that Resend retries. Its line says which order's email it was, from the email's tags."""
    logs = capture_info(monkeypatch, resend_webhooks).entries
    event = {"type": "email.sent", "created_at": datetime.now(UTC).isoformat(),
             "data": {"email_id": "em_not_recorded_yet",
                      "tags": {"kind": "payment_received", "order": "TEMP-abc123"}}}
    response = await post(client, *signed(event))
    assert response.status_code == 409, response.text
    line = next(line for line in logs if line["event"] == "resend webhook for unknown email")
    assert (line["order_id"], line["type"]) == ("TEMP-abc123", "email.sent")
