"""Faults, one at a time, each with a recovery budget: the stack must be back to "every paid
order exactly once in Postgres and on its kitchen's channel, every email at most once"
within the stated time after the fault ends.

Time compression, stated where used: with no worker alive, deleting arq's in-progress keys
and the email claim locks is what their TTLs (130 s, 60 s) would do on their own; the
tests delete them instead of waiting.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.helpers.orders import session_of
from tests.helpers.stack import Stack, wait_emails_out_once, wait_until

pytestmark = pytest.mark.timeout(180)

POSTGRES_RECOVERY_S = 20  # from Postgres back to every paid order recorded and shown
REDIS_RECOVERY_S = 20  # from Redis back to every paid order recorded and shown
EMAIL_RECOVERY_S = 60  # from the last fault to every email delivered exactly once
STRIPE_SLOW_RECOVERY_S = 30  # from latency off to every order holding a payment link


def forget_dead_worker_claims(stack: Stack) -> None:
    """Only with no worker running: what the TTLs of arq's in-progress keys and the email
    claim locks do by themselves after a worker died (time compression)."""
    assert stack.worker is None
    client = stack.redis()
    try:
        keys = [*client.scan_iter("arq:in-progress:*"),
                *client.scan_iter("orderpass:email:claim:*")]
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def test_postgres_down_while_webhooks_arrive(stack: Stack) -> None:
    """Stripe keeps retrying while Postgres is down (the web answers 5xx, nothing half
    written); once Postgres is back every payment becomes exactly one order, shown to its
    kitchen, within POSTGRES_RECOVERY_S."""
    assert stack.sandbox is not None
    orders = [stack.submit("demo" if n % 2 else "demo-2") for n in range(6)]
    stack.stop_postgres()
    try:
        for created in orders:
            stack.sandbox.pay(session_of(created))
        stack.wait_stripe_answered_5xx(10, "while Postgres is down")
        assert stack.value is not None
    finally:
        stack.start_postgres()
    back = time.monotonic()
    stack.assert_consistent(POSTGRES_RECOVERY_S)
    refs = {o["public_id"] for o in stack.paid_orders()}
    assert {created["id"] for created in orders} <= refs
    print(f"postgres recovery: {time.monotonic() - back:.1f}s")


def test_redis_restart_under_load(stack: Stack) -> None:
    """Orders are submitted and paid from 3 threads while Redis restarts. Submissions
    refused during the outage are not orders; every accepted one that was paid becomes
    exactly one order (rebuilt from Stripe if its temp copy was lost) within
    REDIS_RECOVERY_S of Redis answering again."""
    assert stack.sandbox is not None
    sandbox = stack.sandbox
    stop = threading.Event()
    accepted: list[str] = []
    paid: set[str] = set()
    refused: list[str] = []

    def customer(slug: str) -> None:
        while not stop.is_set():
            try:
                created = stack.submit(slug, timeout=10)
            except Exception as error:  # refused while Redis is down: not an order
                refused.append(repr(error)[:200])
                time.sleep(0.05)
                continue
            accepted.append(created["id"])
            if created["payment_url"]:
                sandbox.pay(session_of(created))
                paid.add(created["id"])

    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(customer, slug) for slug in ("demo", "demo-2", "demo")]
        wait_until(lambda: len(accepted) >= 6, 30, "orders flowing before the restart")
        stack.stop_redis()
        time.sleep(0.5)
        stack.start_redis()
        back = time.monotonic()
        wait_until(lambda: len(accepted) >= 20, 40, "orders flowing after the restart")
        stop.set()
        for future in futures:
            future.result()
    # Deferred links (Redis was down at intake) get paid too, once the worker made them.
    for ref in set(accepted) - paid:
        order = stack.order(ref)
        if order["status"] == "awaiting_payment" and order.get("payment_url"):
            sandbox.pay(str(order["payment_url"]).rsplit("/", 1)[1])
    stack.assert_consistent(REDIS_RECOVERY_S)
    print(f"redis recovery: {time.monotonic() - back:.1f}s; accepted={len(accepted)} "
          f"refused={len(refused)}")


def await_every_email_once(stack: Stack, refs: list[str], what: str) -> None:
    """Within EMAIL_RECOVERY_S every order's emails are out exactly once, and the promise
    holds; prints how long recovery took."""
    started = time.monotonic()
    wait_emails_out_once(stack, refs, EMAIL_RECOVERY_S)
    stack.assert_consistent(10)
    print(f"email recovery {what}: {time.monotonic() - started:.1f}s")


def test_web_and_worker_ride_out_a_redis_restart(stack: Stack) -> None:
    """Redis is gone for a second: the worker process stays up (arq's loop used to end on
    the refused connection and the process with it, leaving the outbox relay and email to
    nobody), polls again, and intake answers again."""
    stack.worker_ready()
    stack.stop_redis()
    time.sleep(1.0)
    stack.start_redis()
    time.sleep(2.0)
    assert stack.worker is not None and stack.worker.process.poll() is None, \
        stack.worker.log()[-3000:] if stack.worker else "no worker"
    stack.worker_ready(20)
    assert stack.submit("demo", timeout=10)["id"]


def test_worker_stops_at_once_while_it_waits_for_redis(stack: Stack) -> None:
    """An operator stopping everything while Redis is away (Ctrl-C on `orderpass dev`, a
    deploy) gets the worker back at once: it used to ignore SIGTERM while polling for Redis
    and was killed after the supervisor's 20 s."""
    stack.worker_ready()
    worker = stack.worker
    assert worker is not None
    stack.stop_redis()
    try:
        wait_until(lambda: "worker lost Redis" in worker.log(), 15, "the worker noticing")
        time.sleep(1.0)  # into its polling for Redis
        stopped_at = time.monotonic()
        worker.process.send_signal(signal.SIGTERM)
        returncode = worker.process.wait(10)
        took = time.monotonic() - stopped_at
        stack.worker = None
        assert took < 3, f"the worker took {took:.1f}s to stop"
        assert returncode == 0, worker.log()[-2000:]
        assert "stopped while waiting for Redis" in worker.log()
    finally:
        stack.start_redis()
        if stack.worker is None:
            stack.start_worker()
    stack.worker_ready(20)


def test_worker_sigkilled_twenty_times_while_sending_email(stack: Stack) -> None:
    """Resend answers slowly (300 ms) and the worker is SIGKILLed 20 times mid-send. After
    one clean worker run every queued email reaches the mailbox exactly once."""
    assert stack.sandbox is not None
    sandbox = stack.sandbox
    sandbox.api_faults(service="resend", latency_ms=300)
    refs: list[str] = []
    try:
        for n in range(12):
            created = stack.submit("demo" if n % 3 else "demo-2", email=f"kill{n}@example.com")
            refs.append(created["id"])
            if n % 2:
                sandbox.pay(session_of(created))
        for _ in range(20):
            if stack.worker is None:
                stack.start_worker()
            time.sleep(random.uniform(0.6, 1.5))  # start-up is ~0.5 s: kill mid-work
            stack.kill_worker()
    finally:
        sandbox.api_faults(service="resend", latency_ms=0)
        if stack.worker is None:
            forget_dead_worker_claims(stack)
            stack.start_worker()
    await_every_email_once(stack, refs, "after kills")


def test_mail_provider_failing_a_fifth_of_calls(stack: Stack) -> None:
    """Resend fails about one call in five (500, 429, timeouts, in bursts) while orders
    flow; after it recovers every email is delivered exactly once within
    EMAIL_RECOVERY_S."""
    assert stack.sandbox is not None
    sandbox = stack.sandbox
    refs: list[str] = []
    faults: list[Any] = [500, 429, "timeout", 500, 429]
    for n in range(15):
        if n % 3 == 0:
            sandbox.api_faults(service="resend", status=faults[(n // 3) % len(faults)],
                               count=2)
        created = stack.submit("demo" if n % 2 else "demo-2", email=f"flaky{n}@example.com")
        refs.append(created["id"])
        if n % 2:
            sandbox.pay(session_of(created))
        time.sleep(0.2)
    sandbox.api_faults(service="resend", count=0)
    await_every_email_once(stack, refs, "after provider faults")


def test_slow_stripe_at_intake(stack: Stack) -> None:
    """Stripe answers after 2 s: every submission still ends with a payment link (at once, or
    through the deferred-link path), none is lost, and there is exactly one Checkout Session
    per order."""
    assert stack.sandbox is not None
    sandbox = stack.sandbox
    before = {s["id"] for s in stack.stripe_sessions()}
    sandbox.api_faults(service="stripe", latency_ms=2000)
    try:
        with ThreadPoolExecutor(4) as pool:
            created = list(pool.map(lambda n: stack.submit("demo" if n % 2 else "demo-2",
                                                           timeout=30), range(8)))
    finally:
        sandbox.api_faults(service="stripe", latency_ms=0)
    started = time.monotonic()
    refs = [order["id"] for order in created]
    assert all(order["status"] == "awaiting_payment" for order in created), created

    def linked() -> bool:
        return all(stack.order(ref).get("payment_url") for ref in refs)

    wait_until(linked, STRIPE_SLOW_RECOVERY_S, "a payment link for every order", interval=0.5)
    sessions = [s for s in stack.stripe_sessions() if s["id"] not in before]
    per_order: dict[str, int] = {}
    for session in sessions:
        per_order[session["client_reference_id"]] = \
            per_order.get(session["client_reference_id"], 0) + 1
    assert per_order == {ref: 1 for ref in refs}, per_order
    for ref in refs:
        sandbox.pay(str(stack.order(ref)["payment_url"]).rsplit("/", 1)[1])
    stack.assert_consistent(10)
    print(f"links after slow stripe: {time.monotonic() - started:.1f}s")
