"""An email announcing progress (accepted, ready, the receipt) is not sent for an order that
has since been rejected, refunded in full or whose hold was released: two cooks, one accepts
and another rejects a few ms later (allowed), and the worker's `order_accepted` job runs after
the refund; the diner's last word was "Accepted … being prepared" for an order refunded. The
rejection and refund emails themselves still go out."""

from __future__ import annotations

import httpx
import pytest
from arq.connections import ArqRedis

from app.notifications.tables import EmailMessage
from app.orders import lifecycle
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import reload, send_as_worker
from tests.helpers.sandbox import RunningSandbox

DINER = "ada@example.com"
KITCHEN = "kitchen@demo.test"


async def _row(kind: str, ref: str) -> dict[str, object]:
    row = await EmailMessage.select().where(
        (EmailMessage.kind == kind) & (EmailMessage.order_ref == ref)).first()
    assert row is not None, (kind, ref)
    return row


def _subjects(sandbox: RunningSandbox, ref: str) -> list[str]:
    return [message["subject"] for message in sandbox.messages(to=DINER)
            if ref in message["text"]]


@pytest.mark.parametrize("capture_mode", ["automatic", "manual"])
async def test_accepted_then_rejected_gets_only_the_rejection(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
        capture_mode: str) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode=capture_mode)
    ref = order.public_id
    await lifecycle.apply_action(ref, "accept", actor=KITCHEN, redis=redis, prep_minutes=15)
    await lifecycle.apply_action(ref, "reject", actor="cook2@demo.test", redis=redis,
                                 reason="Out of dough")
    assert (await reload(ref)).status == "refunded"

    assert (await send_as_worker(redis, sandbox, "order_rejected", ref)).startswith("sent")
    outcome = await send_as_worker(redis, sandbox, "order_accepted", ref)
    assert outcome.startswith("skipped"), outcome
    accepted = await _row("order_accepted", ref)
    assert accepted["status"] == "skipped", accepted
    assert accepted["last_error"] == ("not sent: order is refunded; its rejection or refund "
                                      "email tells the diner"), accepted
    if capture_mode == "manual":  # the receipt queued by the capture on accept
        assert (await send_as_worker(redis, sandbox, "payment_received", ref)).startswith("skipped")
    [subject] = sandbox.wait_for(lambda: _subjects(sandbox, ref), timeout=10)
    assert subject.startswith("Sorry, "), subject
    assert await send_as_worker(redis, sandbox, "order_accepted", ref) == "already skipped"
    assert _subjects(sandbox, ref) == [subject]


async def test_ready_then_refunded_in_full_is_not_told_to_come_and_get_it(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """A full refund after the food was ready (the status page says refunded): the queued
    "ready" email would send the diner to fetch an order whose money is back; the refund's
    email is the one that goes out."""
    order = await paid_order_via_sandbox(client, sandbox)
    ref = order.public_id
    await lifecycle.apply_action(ref, "accept", actor=KITCHEN, redis=redis, prep_minutes=15)
    await lifecycle.apply_action(ref, "ready", actor=KITCHEN, redis=redis)
    await lifecycle.apply_action(ref, "refund", actor="admin@orderpass.test", redis=redis)
    assert (await reload(ref)).status == "refunded"

    for kind in ("order_accepted", "order_ready"):
        outcome = await send_as_worker(redis, sandbox, kind, ref)
        assert outcome.startswith("skipped"), (kind, outcome)
        assert "order is refunded" in str((await _row(kind, ref))["last_error"])
    assert (await send_as_worker(redis, sandbox, "order_refunded", ref)).startswith("sent")
    [subject] = sandbox.wait_for(lambda: _subjects(sandbox, ref), timeout=10)
    assert "refunded" in subject, subject


async def test_progress_emails_still_go_out_for_a_live_order(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    ref = order.public_id
    await lifecycle.apply_action(ref, "accept", actor=KITCHEN, redis=redis, prep_minutes=15)
    await lifecycle.apply_action(ref, "ready", actor=KITCHEN, redis=redis)
    for kind in ("order_accepted", "order_ready"):
        assert (await send_as_worker(redis, sandbox, kind, ref)).startswith("sent"), kind
