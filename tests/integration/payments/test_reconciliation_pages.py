"""Reconciliation reads Stripe a page at a time: findings do not depend on where a session
falls in the listing, and no page of SDK objects outlives its turn (memory stays flat
however long the window is)."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe
from arq.connections import ArqRedis

from app.orders.tables import PaidOrder
from app.orders.views import temp_store
from app.payments import reconciliation
from app.payments.reconciliation import reconcile
from app.payments.stripe_gateway import get_gateway
from app.payments.tables import Discrepancy
from tests.helpers.orders import submit
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.stripe_events import paid_events, post_event

WINDOW = timedelta(hours=72)


class ListingSpy:
    """Records the `limit` of each session listing call and how many Checkout Session
    objects are alive in the process as it is made: none, if no page outlives its turn
    (neither the SDK's objects nor copies of them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        gateway = get_gateway()
        self.real = gateway.list_checkout_sessions
        self.limits: list[int] = []
        self.alive_at_fetch: list[int] = []
        monkeypatch.setattr(gateway, "list_checkout_sessions", self)

    async def __call__(self, **params: Any) -> Any:
        gc.collect()
        self.alive_at_fetch.append(sum(isinstance(obj, stripe.checkout.Session)
                                       for obj in gc.get_objects()))
        self.limits.append(params["limit"])
        return await self.real(**params)


async def test_a_missing_order_on_page_two_and_a_duplicate_payment_across_pages(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # Oldest first; Stripe lists newest first, two a page: [Xb, U] [F, M] [Xa].
    order_x, session_xa = await submit(client)
    temp_x = await temp_store(redis).get(order_x)
    assert temp_x is not None
    sandbox.pay(session_xa)
    missing, session_m = await submit(client)
    sandbox.pay(session_m)  # its webhook never arrives
    _filler, session_f = await submit(client)
    sandbox.pay(session_f)
    await submit(client)  # never paid
    # A second link for order X (as a fresh link would be), paid too.
    session_xb = (await get_gateway().create_checkout_session(
        temp_x, datetime.now(UTC) + timedelta(hours=1),
        idempotency_key="second-link")).id
    sandbox.pay(session_xb)
    for session_id in (session_xa, session_f):  # these webhooks arrive
        [event] = paid_events(sandbox, session_id)
        assert (await post_event(client, event)).json()["result"] == "created"

    spy = ListingSpy(monkeypatch)
    dry = await reconcile(redis, since=WINDOW, apply=False, page_size=2)
    assert spy.limits == [2, 2, 2]
    assert spy.alive_at_fetch == [0, 0, 0]
    assert (dry.sessions_seen, dry.paid_sessions, dry.orders_checked) == (5, 4, 2)
    assert sorted((f.kind, f.session_id, f.order_ref, f.action) for f in dry.findings) == [
        ("duplicate_payment", session_xb, order_x, "would record discrepancy"),
        ("missing_order", session_m, missing, "would create order")]
    assert await PaidOrder.count() == 2 and await Discrepancy.count() == 0

    applied = await reconcile(redis, since=WINDOW, apply=True, page_size=2)
    assert sorted((f.kind, f.session_id, f.action) for f in applied.findings) == [
        ("duplicate_payment", session_xb, "discrepancy recorded"),
        ("missing_order", session_m, "order created")]
    assert applied.orders_checked == 3  # the order created on page 2 was checked there
    assert spy.alive_at_fetch[3:] == [0, 0, 0]
    assert await PaidOrder.count() == 3
    rows = await Discrepancy.select(Discrepancy.kind, Discrepancy.order_ref,
                                    Discrepancy.stripe_checkout_session_id)
    assert [(r["kind"], r["order_ref"], r["stripe_checkout_session_id"]) for r in rows] == [
        ("duplicate_payment", order_x, session_xb)]


async def test_a_refund_seen_on_two_pages_of_events_is_one_finding(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id, session_id = await submit(client)
    sandbox.pay(session_id)
    await reconcile(redis, since=WINDOW, apply=True)
    order = await PaidOrder.objects().get(PaidOrder.public_id == order_id)
    assert order is not None and order.stripe_payment_intent_id
    for amount in (100, 200):  # two partial refunds: two `charge.refunded` events
        await get_gateway().client.v1.refunds.create_async(
            params={"payment_intent": order.stripe_payment_intent_id, "amount": amount})
    monkeypatch.setattr(reconciliation, "REFUND_GRACE_S", -60)
    report = await reconcile(redis, since=WINDOW, apply=False, page_size=1)
    assert [(f.kind, f.order_ref, f.detail.split(" (")[0]) for f in report.findings] == [
        ("refund_not_recorded", order_id, "Stripe refunded 300")]  # the latest event


async def test_a_session_older_than_the_window_named_by_an_undelivered_event(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    """The listing (sessions created in the window) does not show it; the event does."""
    sandbox.advance_clock(-40 * 60)
    order_id, session_id = await submit(client)  # created 40 minutes ago, in Stripe's time
    sandbox.advance_clock(40 * 60)
    sandbox.configure(stripe_webhook_url="http://127.0.0.1:9/unreachable")
    try:
        sandbox.pay(session_id)
        report = await reconcile(redis, since=timedelta(minutes=20), apply=True)
    finally:
        sandbox.configure(stripe_webhook_url="")
    assert report.sessions_seen == 0 and report.undelivered_events >= 1
    assert {(f.kind, f.session_id, f.order_ref) for f in report.findings} == {
        ("undelivered_event", session_id, order_id), ("missing_order", session_id, order_id)}
    assert [f.kind for f in report.findings][-1] == "missing_order"  # grouped by check
    assert report.paid_sessions == 1 and report.orders_checked == 1
    assert await PaidOrder.count() == 1
