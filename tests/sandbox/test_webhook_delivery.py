"""Webhook delivery faults and retries: duplicate, reorder, drop, 500 then retry, timeouts."""

from __future__ import annotations

import stripe

from tests.helpers.sandbox import RunningSandbox
from tests.helpers.webhook_receiver import Receiver, session_params, verify_stripe


def _paid_session(sandbox: RunningSandbox, client: stripe.StripeClient) -> str:
    session = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(session.id)
    return session.id


def test_duplicate_delivery(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    client.v1.checkout.sessions.create(params=session_params())  # no events yet
    sandbox.webhook_faults(duplicate=1)
    session = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(session.id)  # payment_intent.created, charge.succeeded, pi.succeeded, completed
    sandbox.wait_for(lambda: stripe_receiver.events_of_type("checkout.session.completed"))
    ids = [e.id for e in verify_stripe(stripe_receiver)]
    assert len(ids) == 5 and len(set(ids)) == 4
    assert ids[0] == ids[1]  # the first delivery arrived twice, with the same event id
    assert [d["fault"] for d in sandbox.deliveries()][:2] == ["duplicate", "duplicate"]


def test_reordered_delivery(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    sandbox.webhook_faults(reorder=4)
    _paid_session(sandbox, client)
    sandbox.wait_for(lambda: len(stripe_receiver.requests) == 4)
    types = [e.type for e in verify_stripe(stripe_receiver)]
    assert types == [
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
        "payment_intent.created",
    ]


def test_dropped_delivery_shows_as_undelivered(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    sandbox.webhook_faults(drop=4)
    _paid_session(sandbox, client)
    sandbox.wait_for(lambda: len(sandbox.deliveries()) == 4)
    assert stripe_receiver.requests == []
    undelivered = client.v1.events.list(params={"delivery_success": False})
    assert {e.type for e in undelivered.data} >= {"checkout.session.completed"}
    assert all(d["fault"] == "drop" for d in sandbox.deliveries())


def test_retries_after_500_until_2xx(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    stripe_receiver.fail_next = 2
    session = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(session.id)  # exactly one event
    # the sandbox logs an attempt after its answer arrives: wait for the log, not the receiver
    sandbox.wait_for(lambda: [d for d in sandbox.deliveries() if d["status_code"] == 200])
    log = sandbox.deliveries()
    assert [(d["attempt"], d["status_code"]) for d in log] == [(1, 500), (2, 500), (3, 200)]
    assert log[0]["type"] == "checkout.session.expired" and log[0]["target"] == stripe_receiver.url
    assert log[0]["event_id"] == log[2]["event_id"]
    assert log[1]["started_at"] >= log[0]["finished_at"] + 0.04  # schedule (0.05, 0.1, 0.2)
    assert len({e.id for e in verify_stripe(stripe_receiver)}) == 1
    assert client.v1.events.list(params={"delivery_success": False}).data == []


def test_gives_up_after_schedule_and_times_out(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    sandbox.configure(webhook_timeout_s=0.2, webhook_retry_schedule_s=[0.05])
    stripe_receiver.hang_next = 0.5
    stripe_receiver.fail_next = 5
    session = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(session.id)
    sandbox.wait_for(lambda: len(sandbox.deliveries()) == 2)
    log = sandbox.deliveries()
    assert log[0]["error"] == "timeout" and log[1]["status_code"] == 500
    undelivered = client.v1.events.list(params={"delivery_success": False}).data
    assert [e.type for e in undelivered] == ["checkout.session.expired"]


def test_delay_fault(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    sandbox.webhook_faults(delay_ms=200, count=1)
    session = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(session.id)
    sandbox.wait_for(lambda: stripe_receiver.requests)
    # The log entry is written once the receiver's answer is in, a moment after the request.
    entry = sandbox.wait_for(sandbox.deliveries)[0]
    assert entry["fault"] == "delay"
