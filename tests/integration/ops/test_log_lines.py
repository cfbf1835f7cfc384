"""What on-call reads: a transition names the ticket the kitchen calls out, an event about
no order of ours names no order (it wrote an empty `order_id=`), an email event that
raced its send names the order, and a Stripe webhook during a Postgres or Redis outage is
one warning line per retry (a bug keeps its traceback)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from arq.connections import ArqRedis

from app.notifications import webhooks as resend_webhooks
from app.orders import lifecycle
from app.payments import webhooks
from tests.helpers.logs import capture_info
from tests.helpers.orders import make_paid_order, submit
from tests.helpers.resend_events import post, signed
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.stripe_events import paid_events, post_event, signed_request


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


async def test_a_webhook_during_an_outage_is_one_warning_line_without_a_traceback(
        client: httpx.AsyncClient, sandbox: RunningSandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis (or Postgres) down: each of Stripe's retries is one line naming the order, the
    event and the error, not a 40-line traceback per retry; still a 503, so Stripe retries."""
    order_id, session_id = await submit(client)
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    payload, headers = signed_request(event)
    logs = capture_info(monkeypatch, webhooks).entries
    down = ArqRedis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        reply = await webhooks.answer(down, payload, headers["stripe-signature"],
                                      time.perf_counter())
    finally:
        await down.aclose()
    assert reply.status == 503, reply.body
    [line] = [line for line in logs if line["log_level"] in ("warning", "error")]
    assert line["log_level"] == "warning" and not line.get("exc_info"), line
    assert (line["order_id"], line["stripe_event"]) == (order_id, event["id"])
    assert line["error"].startswith("ConnectionError: "), line


@pytest.mark.parametrize("error", [asyncpg.CannotConnectNowError("the database system is "
                                                                  "starting up"),
                                   ConnectionRefusedError(111, "Connect call failed")])
async def test_postgres_unavailable_is_one_line_too(
        client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    logs = capture_info(monkeypatch, webhooks).entries

    async def unavailable(*args: object, **kwargs: object) -> None:
        raise error
    monkeypatch.setattr(webhooks, "handle_event", unavailable)
    event = {"id": "evt_outage_1", "object": "event", "type": "charge.refunded",
             "created": 1_700_000_000, "data": {"object": {"id": "ch_1", "object": "charge"}}}
    response = await post_event(client, event)
    assert response.status_code == 503
    [line] = [line for line in logs if line["log_level"] in ("warning", "error")]
    assert line["log_level"] == "warning" and not line.get("exc_info"), line
    assert line["stripe_event"] == "evt_outage_1"
    assert line["error"] == f"{type(error).__name__}: {error}"


async def test_a_bug_in_a_webhook_keeps_its_traceback(
        client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = capture_info(monkeypatch, webhooks).entries

    async def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("amount")
    monkeypatch.setattr(webhooks, "handle_event", broken)
    event = {"id": "evt_bug_1", "object": "event", "type": "charge.refunded",
             "created": 1_700_000_000, "data": {"object": {"id": "ch_1", "object": "charge"}}}
    response = await post_event(client, event)
    assert response.status_code == 503
    [line] = [line for line in logs if line["log_level"] in ("warning", "error")]
    assert line["log_level"] == "error" and line["exc_info"], line
