"""Reconciliation with Stripe: a paid order is never lost, nothing is created twice, and
anything Stripe disagrees with becomes one discrepancy."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
from arq.connections import ArqRedis

from app.ops import discrepancies
from app.orders.tables import PaidOrder
from app.orders.views import temp_store
from app.payments import reconciliation
from app.payments.reconciliation import parse_window, reconcile
from app.payments.stripe_gateway import get_gateway
from app.payments.tables import Discrepancy, StripeEvent
from app.piccolo_conf import DB
from app.settings import reset_settings_cache
from tests.helpers.kitchen_listener import KitchenListener
from tests.helpers.orders import submit
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import ROOT
from tests.helpers.stripe_events import paid_events, post_event

WINDOW = timedelta(hours=72)


async def paid_order_without_webhook(client: httpx.AsyncClient,
                                     sandbox: RunningSandbox) -> tuple[str, str]:
    """The customer paid; the webhook never arrives (this sandbox delivers none)."""
    order_id, session_id = await submit(client)
    sandbox.pay(session_id)
    return order_id, session_id


def test_window_parsing() -> None:
    assert parse_window("72h") == timedelta(hours=72)
    assert parse_window("30m") == timedelta(minutes=30)
    assert parse_window("3d") == timedelta(days=3)
    for bad in ("", "72", "h", "0h", "-3d", "3w"):
        with pytest.raises(ValueError):
            parse_window(bad)


async def test_dropped_webhook_order_is_created_and_reaches_the_kitchen(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order_id, session_id = await paid_order_without_webhook(client, sandbox)
    assert await PaidOrder.count() == 0
    async with KitchenListener(redis) as kitchen:
        report = await reconcile(redis, since=WINDOW, apply=True)
        assert [e["order_ref"] for e in await kitchen.events()] == [order_id]
    assert await temp_store(redis).get(order_id) is None  # the fast path cleaned up
    [finding] = report.findings
    assert (finding.kind, finding.order_ref, finding.session_id, finding.action) == (
        "missing_order", order_id, session_id, "order created")
    order = await PaidOrder.objects().get(PaidOrder.public_id == order_id)
    assert order is not None and order.status == "paid" and order.kitchen_shown_at is not None
    event = await StripeEvent.objects().get(StripeEvent.event_id == f"reconcile:{session_id}")
    assert event is not None
    status = (await client.get(f"/api/orders/{order_id}")).json()
    assert status["status"] == "paid"


async def test_twice_or_with_a_late_webhook_creates_nothing_twice(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order_id, session_id = await paid_order_without_webhook(client, sandbox)
    async with KitchenListener(redis) as kitchen:
        first = await reconcile(redis, since=WINDOW, apply=True)
        second = await reconcile(redis, since=WINDOW, apply=True)
        [event] = paid_events(sandbox, session_id)
        late = await post_event(client, event)  # Stripe's webhook, finally
        assert late.status_code == 200 and late.json() == {"result": "duplicate_order"}
        assert [e["order_ref"] for e in await kitchen.events()] == [order_id]
    assert [f.action for f in first.findings] == ["order created"]
    assert second.findings == [] and second.paid_sessions == 1
    assert await PaidOrder.count() == 1
    assert await Discrepancy.count() == 0


async def test_a_session_paid_moments_ago_is_left_to_its_webhook(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """No false "missing order" while the webhook is still on its way: within the grace
    the run counts the session and leaves it; after it, the order is created."""
    order_id, session_id = await paid_order_without_webhook(client, sandbox)
    monkeypatch.setenv("RECONCILE_GRACE_SECONDS", "300")
    reset_settings_cache()
    early = await reconcile(redis, since=WINDOW, apply=True)
    assert early.findings == [] and early.paid_sessions == 1
    assert early.left_to_webhook == [(order_id, session_id)]
    table = early.as_table()
    assert "left to their webhook (younger than the grace): 1" in table
    # which ones, and how an engineer who knows their webhooks are lost creates them now
    assert f"  {order_id}  {session_id}" in table and "--grace 0" in table
    assert await PaidOrder.count() == 0
    monkeypatch.setenv("RECONCILE_GRACE_SECONDS", "0")  # the grace has passed
    reset_settings_cache()
    later = await reconcile(redis, since=WINDOW, apply=True)
    assert [(f.kind, f.order_ref) for f in later.findings] == [("missing_order", order_id)]
    assert await PaidOrder.count() == 1


async def test_reconciliation_racing_the_webhook_makes_one_order(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    for _ in range(3):
        _order_id, session_id = await paid_order_without_webhook(client, sandbox)
        [event] = paid_events(sandbox, session_id)
        report, response = await asyncio.gather(
            reconcile(redis, since=WINDOW, apply=True), post_event(client, event))
        assert response.status_code == 200
        assert response.json()["result"] in ("created", "duplicate_order")
        assert not report.errors
    assert await PaidOrder.count() == 3
    assert await Discrepancy.count() == 0


async def test_an_order_stripe_does_not_know_becomes_one_discrepancy(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order_id, session_id = await paid_order_without_webhook(client, sandbox)
    await reconcile(redis, since=WINDOW, apply=True)
    # Someone (or a bug) wrote an order whose payment Stripe never saw.
    await DB.run_ddl(
        "INSERT INTO paid_order (public_id, restaurant, ticket_number, "
        "stripe_checkout_session_id, status, customer_name, customer_email, fulfillment, "
        "currency, total_amount, amount_charged, currency_charged, submitted_at, paid_at) "
        "SELECT 'TEMP-ghost0000000001', restaurant, 99, 'cs_test_ghost', 'paid', "
        "customer_name, customer_email, fulfillment, currency, total_amount, amount_charged, "
        "currency_charged, now(), now() FROM paid_order LIMIT 1")
    # ... and the real order's total no longer matches what Stripe charged.
    await PaidOrder.update({PaidOrder.total_amount: PaidOrder.total_amount + 100}).where(
        PaidOrder.public_id == order_id)
    dry = await reconcile(redis, since=WINDOW, apply=False)
    assert sorted((f.kind, f.action) for f in dry.findings) == [
        ("amount_mismatch", "would record discrepancy"),
        ("payment_not_found", "would record discrepancy")]
    assert await Discrepancy.count() == 0
    for _ in range(2):
        await reconcile(redis, since=WINDOW, apply=True)
    rows = await Discrepancy.select(Discrepancy.kind, Discrepancy.order_ref,
                                    Discrepancy.stripe_checkout_session_id).order_by(
        Discrepancy.kind)
    assert [(r["kind"], r["order_ref"], r["stripe_checkout_session_id"]) for r in rows] == [
        ("amount_mismatch", order_id, session_id),
        ("payment_not_found", "TEMP-ghost0000000001", "cs_test_ghost")]
    assert await discrepancies.count_open() == 2


async def test_refund_made_in_stripe_but_not_here_is_a_discrepancy(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id, _session_id = await paid_order_without_webhook(client, sandbox)
    await reconcile(redis, since=WINDOW, apply=True)
    order = await PaidOrder.objects().get(PaidOrder.public_id == order_id)
    assert order is not None and order.stripe_payment_intent_id
    await get_gateway().refund_payment_intent(order.stripe_payment_intent_id,
                                              idempotency_key="dashboard-refund")
    monkeypatch.setattr(reconciliation, "REFUND_GRACE_S", -60)
    report = await reconcile(redis, since=WINDOW, apply=True)
    assert [(f.kind, f.order_ref, f.action) for f in report.findings] == [
        ("refund_not_recorded", order_id, "discrepancy recorded")]


async def test_cli_reconcile_dry_run_then_apply(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    order_id, session_id = await paid_order_without_webhook(client, sandbox)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli", "reconcile", *args],
                              capture_output=True, text=True, timeout=60, cwd=ROOT,
                              env=dict(os.environ) | {"RECONCILE_GRACE_SECONDS": "300"})

    # Paid moments ago: left to its webhook, and named; --grace 0 takes it now.
    waiting = await asyncio.to_thread(run, "--since", "72h")
    assert waiting.returncode == 0, waiting.stderr
    assert f"  {order_id}  {session_id}" in waiting.stdout
    assert "missing_order" not in waiting.stdout
    dry = await asyncio.to_thread(run, "--since", "72h", "--grace", "0")
    assert dry.returncode == 0, dry.stderr
    assert "DRY RUN" in dry.stdout
    assert "KIND" in dry.stdout and "ACTION" in dry.stdout
    line = next(line for line in dry.stdout.splitlines() if order_id in line)
    assert "missing_order" in line and session_id in line and "would create order" in line
    assert await PaidOrder.count() == 0
    assert await StripeEvent.count() == 0 and await Discrepancy.count() == 0

    bad = await asyncio.to_thread(run, "--since", "72 hours")
    assert bad.returncode != 0 and "--since" in bad.stderr

    applied = await asyncio.to_thread(run, "--since", "3d", "--apply", "--grace", "0")
    assert applied.returncode == 0, applied.stderr
    assert "order created" in applied.stdout
    assert await PaidOrder.count() == 1


async def test_webhook_dropped_by_the_sandbox_is_recovered_from_undelivered_events(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    """Real delivery to a real web process, with every delivery of this payment dropped:
    the events stay undelivered at Stripe and reconciliation creates the order."""
    from tests.helpers.infra import TEST_ENV
    from tests.helpers.server import start_web

    with start_web() as web:
        sandbox.configure(stripe_webhook_url=f"{web.url}/webhooks/stripe",
                          stripe_webhook_secret=TEST_ENV["STRIPE_WEBHOOK_SECRET"])
        sandbox.webhook_faults(drop=1000)
        try:
            order_id, session_id = await submit(client)
            sandbox.pay(session_id)
            sandbox.wait_for(lambda: any(
                d.get("event_type", d.get("type")) == "checkout.session.completed"
                or "checkout.session.completed" in str(d) for d in sandbox.deliveries()),
                timeout=10)
        finally:
            sandbox.webhook_faults(drop=0)
            sandbox.configure(stripe_webhook_url="")
    assert await PaidOrder.count() == 0
    async with KitchenListener(redis) as kitchen:
        report = await reconcile(redis, since=WINDOW, apply=True)
        assert [e["order_ref"] for e in await kitchen.events()] == [order_id]
    assert report.undelivered_events >= 1
    kinds = {(f.kind, f.session_id) for f in report.findings}
    assert ("undelivered_event", session_id) in kinds
    assert ("missing_order", session_id) in kinds
    assert await PaidOrder.count() == 1
