"""Real restarts of Valkey and Postgres under a running stack (issue #14 items 1-3), each
with a recovery budget and exact end-state counts.

- Live screens: a kitchen stream and a customer status stream opened before a Valkey
  restart show an order paid 3 s after Valkey is back within LIVE_BUDGET_S, without the
  web process being restarted; /readyz says the live feed is down while it is.
- Intake with Valkey down: 503 with Retry-After, and nothing half-made (no order, no
  payment link anyone could pay, no email), also when Valkey goes away mid-flight.
- Valkey restarted while Stripe webhooks arrive, while the kitchen works through orders
  and while the worker is sending email; Postgres restarted while orders are taken and
  worked: every paid order exactly once, every action applied or refused (never half),
  every email exactly once.
"""

from __future__ import annotations

import collections
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.helpers.orders import session_of
from tests.helpers.stack import Stack, wait_emails_out_once, wait_until
from tests.helpers.stack_clients import StreamTap, logged_in

pytestmark = pytest.mark.timeout(240)

LIVE_BUDGET_S = 2.0  # an order paid after Redis is back reaches open streams within this
REDIS_DOWN_S = 4.0  # how long Valkey stays down in the restarts below
RECOVERY_S = 20  # from the server back to every paid order recorded and shown
EMAIL_RECOVERY_S = 60  # from the server back to every email out exactly once
# A 2 s Postgres restart delays no email much: a batch that failed to read its rows once
# left up to 100 other emails claimed for a minute (55 s here, 1 run in 3).
POSTGRES_EMAIL_RECOVERY_S = 30


def readyz(stack: Stack) -> dict[str, Any]:
    response = stack.http.get(f"{stack.web_url}/readyz", timeout=10)
    body: dict[str, Any] = response.json()
    body["http_status"] = response.status_code
    return body


def restart_redis(stack: Stack, down_s: float = REDIS_DOWN_S) -> float:
    """Stop Valkey, keep it down `down_s`, start it on the same port; when it is back."""
    stack.stop_redis()
    time.sleep(down_s)
    stack.start_redis()
    return time.monotonic()


def test_live_screens_survive_a_redis_restart(stack: Stack) -> None:
    assert stack.sandbox is not None
    kitchen_client, _ = logged_in(stack, "kitchen@demo.test")
    kitchen = StreamTap(f"{stack.web_url}/kitchen/demo/events",
                        kitchen_client.cookies).start("event: board")
    created = stack.submit("demo")
    ref = created["id"]
    status = StreamTap(f"{stack.web_url}/orders/{ref}/events").start("event: order-updated")
    try:
        stack.stop_redis()
        try:
            down = wait_until(lambda: (lambda r: r if not r["checks"]["live_feed"]["ok"]
                                       else None)(readyz(stack)), 10,
                              "/readyz reporting the live feed down")
            assert down["http_status"] == 503, down
            time.sleep(REDIS_DOWN_S)
        finally:
            stack.start_redis()
        back = time.monotonic()
        wait_until(lambda: readyz(stack)["http_status"] == 200, 10, "/readyz ready again")
        time.sleep(max(0.0, back + 3 - time.monotonic()))  # paid 3 s after Redis is back
        paid_at = time.monotonic()
        stack.sandbox.pay(session_of(created))
        on_kitchen = wait_until(lambda: kitchen.seen(ref, after=paid_at), LIVE_BUDGET_S + 3,
                                "the paid order on the open kitchen stream")
        on_status = wait_until(lambda: status.seen('"status":"paid"', after=paid_at),
                               LIVE_BUDGET_S + 3, "paid on the open status stream")
        print(f"after a redis restart: kitchen {on_kitchen - paid_at:.2f}s, "
              f"status page {on_status - paid_at:.2f}s")
        assert on_kitchen - paid_at <= LIVE_BUDGET_S
        assert on_status - paid_at <= LIVE_BUDGET_S
        # The screens were sent a fresh snapshot when the feed came back.
        assert kitchen.seen("event: board", after=back)
        assert kitchen.status == 200 and status.status == 200
    finally:
        kitchen.stop()
        status.stop()
        kitchen_client.close()


def _new_sessions(stack: Stack, before: set[str]) -> list[dict[str, Any]]:
    return [s for s in stack.stripe_sessions() if s["id"] not in before]


def test_intake_with_redis_down_is_a_503_and_makes_nothing(stack: Stack) -> None:
    """Redis down when the order arrives: 503 + Retry-After, no Checkout Session, no email
    row. Redis going away while Stripe creates the session: 503 + Retry-After, the session
    is expired at once (nobody can pay it), no email row, and the temp copy goes by itself."""
    assert stack.sandbox is not None
    before = {s["id"] for s in stack.stripe_sessions()}
    emails_before = stack.value("SELECT count(*) FROM email_message")
    stack.stop_redis()
    try:
        response = stack.http.post(f"{stack.web_url}/api/orders", json=stack.order_body(),
                                   timeout=30)
    finally:
        stack.start_redis()
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert "Traceback" not in response.text
    assert _new_sessions(stack, before) == []

    # Mid-flight: Stripe answers after 1.5 s; Redis goes away 0.5 s into that.
    stack.sandbox.api_faults(service="stripe", latency_ms=1500)
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(stack.http.post, f"{stack.web_url}/api/orders",
                                  json=stack.order_body(email="midflight@example.com"),
                                  timeout=60)
            time.sleep(0.5)
            stack.stop_redis()
            try:
                midflight = pending.result(60)
            finally:
                stack.start_redis()
    finally:
        stack.sandbox.api_faults(service="stripe", latency_ms=0)
    assert midflight.status_code == 503, midflight.text
    assert int(midflight.headers["retry-after"]) > 0
    [session] = _new_sessions(stack, before)
    assert session["status"] == "expired", session  # its link can never be paid
    ref = session["client_reference_id"]
    assert stack.value("SELECT count(*) FROM email_message") == emails_before
    client = stack.redis()
    try:
        ttl = client.ttl(f"orderpass:temp:{ref}")
    finally:
        client.close()
    assert ttl <= 15 * 60, ttl  # -2 (gone) or the short life of an unfinished copy
    assert stack.http.get(f"{stack.web_url}/readyz").status_code == 200


def test_redis_restart_while_webhooks_arrive(stack: Stack) -> None:
    """Eight orders are paid just before and during a Valkey restart: Stripe's retries
    (the sandbox's, compressed) bring every payment in; within RECOVERY_S each is exactly
    one order, shown once to its kitchen, with its payment email sent once."""
    assert stack.sandbox is not None
    orders = [stack.submit("demo" if n % 2 else "demo-2", email=f"hook{n}@example.com")
              for n in range(8)]
    refs = [created["id"] for created in orders]
    for created in orders[:3]:
        stack.sandbox.pay(session_of(created))
    stack.stop_redis()
    try:
        for created in orders[3:]:
            stack.sandbox.pay(session_of(created))
        time.sleep(REDIS_DOWN_S)
    finally:
        stack.start_redis()
    back = time.monotonic()
    stack.assert_consistent(RECOVERY_S)
    recorded = {o["public_id"] for o in stack.paid_orders()}
    assert set(refs) <= recorded
    assert stack.value("SELECT count(*) FROM paid_order WHERE public_id = ANY($1)", refs) == 8
    wait_emails_out_once(stack, refs, EMAIL_RECOVERY_S)
    counts = stack.mail_counts()
    assert sum(counts[("payment_received", ref)] for ref in refs) == 8, counts
    print(f"webhooks across a redis restart: {time.monotonic() - back:.1f}s")


def _paid(stack: Stack, count: int, slug: str = "demo") -> list[str]:
    assert stack.sandbox is not None
    refs = []
    for n in range(count):
        created = stack.submit(slug, email=f"{slug}-{n}-{time.monotonic_ns()}@example.com")
        stack.sandbox.pay(session_of(created))
        refs.append(created["id"])
    wait_until(lambda: stack.value("SELECT count(*) FROM paid_order WHERE public_id = ANY($1)",
                                   refs) == count, 20, "the orders paid")
    return refs


def _act(client: httpx.Client, token: str, ref: str, action: str, expected: str
         ) -> int:
    """One kitchen button press, retried as a cook retries after an error page."""
    for _ in range(40):
        try:
            response = client.post(f"/kitchen/demo/orders/{ref}/{action}",
                                   data={"from": expected}, timeout=15,
                                   headers={"x-csrftoken": token, "hx-request": "true"})
        except httpx.HTTPError:
            time.sleep(0.25)
            continue
        if response.status_code in (200, 409):  # done (409: an earlier press went through)
            return response.status_code
        assert response.status_code == 503, (response.status_code, response.text[:300])
        assert int(response.headers["retry-after"]) > 0
        time.sleep(0.25)
    raise AssertionError(f"{action} of {ref} never went through")


def _work_through(stack: Stack, refs: list[str], during: Any) -> collections.Counter[int]:
    """Accept then mark ready every order from a kitchen tablet while `during()` runs.
    The fault runs on the main thread: a server started from a thread that then ends would
    get its parent-death signal (PR_SET_PDEATHSIG follows the thread, not the process)."""
    client, token = logged_in(stack, "kitchen@demo.test")
    answers: collections.Counter[int] = collections.Counter()

    def tablet() -> None:
        for ref in refs:
            answers[_act(client, token, ref, "accept", "paid")] += 1
            answers[_act(client, token, ref, "ready", "accepted")] += 1

    try:
        with ThreadPoolExecutor(1) as pool:
            working = pool.submit(tablet)
            during()
            working.result(120)
    finally:
        client.close()
    return answers


def _statuses(stack: Stack, refs: list[str]) -> dict[str, int]:
    rows = stack.sql("SELECT status, count(*) AS n FROM paid_order WHERE public_id = ANY($1) "
                     "GROUP BY status", refs)
    return {row["status"]: int(row["n"]) for row in rows}


def test_redis_restart_while_the_kitchen_works(stack: Stack) -> None:
    """Six orders accepted and marked ready while Valkey restarts: every press is applied
    once or refused with a 503 (and pressed again); in the end all six are ready, each
    customer got exactly one "ready" email, and the kitchen channel announced every one."""
    refs = _paid(stack, 6)

    def restart() -> None:
        time.sleep(0.3)
        restart_redis(stack, 2.0)

    answers = _work_through(stack, refs, restart)
    assert _statuses(stack, refs) == {"ready": 6}, (_statuses(stack, refs), answers)
    wait_emails_out_once(stack, refs, EMAIL_RECOVERY_S)
    counts = stack.mail_counts()
    assert [counts[("order_ready", ref)] for ref in refs] == [1] * 6, counts
    wait_until(lambda: stack.value("SELECT count(*) FROM outbox WHERE status <> 'done'") == 0,
               RECOVERY_S, "every outbox row delivered", interval=0.5)
    stack.assert_consistent(RECOVERY_S)


def test_redis_restart_while_email_is_being_sent(stack: Stack) -> None:
    """Resend answers slowly (1.5 s) and Valkey restarts while twelve confirmation emails
    are going out: each reaches the mailbox exactly once within EMAIL_RECOVERY_S."""
    assert stack.sandbox is not None
    stack.sandbox.api_faults(service="resend", latency_ms=1500)
    try:
        refs = [stack.submit("demo", email=f"mail{n}-{time.monotonic_ns()}@example.com")["id"]
                for n in range(12)]
        time.sleep(0.5)  # a send (alone or a batch) is in flight, the rest waits
        back = restart_redis(stack, 2.0)
    finally:
        stack.sandbox.api_faults(service="resend", latency_ms=0)
    wait_emails_out_once(stack, refs, EMAIL_RECOVERY_S)
    counts = stack.mail_counts()
    assert [counts[("order_confirmation", ref)] for ref in refs] == [1] * 12, counts
    assert stack.value("SELECT count(*) FROM email_message WHERE order_ref = ANY($1) "
                       "AND status = 'sent'", refs) == 12
    print(f"email across a redis restart: {time.monotonic() - back:.1f}s")


def test_postgres_restart_while_orders_are_taken_and_worked(stack: Stack) -> None:
    """Postgres restarts (a clean stop and start, as in a minor-version upgrade) while
    orders are submitted and paid and the kitchen accepts earlier ones: submissions answer
    201/202 or 503 with Retry-After (never 500), and within RECOVERY_S every paid order is
    recorded once and shown, every press applied once, every email sent once."""
    assert stack.sandbox is not None
    worked = _paid(stack, 4)
    submitted: list[str] = []
    answers: collections.Counter[int] = collections.Counter()

    def restart() -> None:
        time.sleep(0.3)
        stack.stop_postgres()
        time.sleep(2.0)
        stack.start_postgres()

    def customers() -> None:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            response = stack.http.post(f"{stack.web_url}/api/orders",
                                       json=stack.order_body("demo-2"), timeout=30)
            answers[response.status_code] += 1
            if response.status_code in (201, 202):
                submitted.append(response.json()["id"])
                if response.json()["payment_url"]:
                    stack.sandbox.pay(session_of(response.json()))  # type: ignore[union-attr]
            else:
                assert response.status_code == 503, response.text
                assert int(response.headers["retry-after"]) > 0
                time.sleep(0.2)

    with ThreadPoolExecutor(1) as pool:
        taking = pool.submit(customers)
        kitchen = _work_through(stack, worked, restart)
        taking.result(60)
    back = time.monotonic()
    assert set(answers) <= {201, 202, 503}, answers
    assert _statuses(stack, worked) == {"ready": 4}, kitchen
    stack.assert_consistent(RECOVERY_S)
    consistent = time.monotonic() - back
    wait_emails_out_once(stack, [*worked, *submitted], POSTGRES_EMAIL_RECOVERY_S)
    print(f"postgres restart: answers {dict(answers)}, kitchen {dict(kitchen)}, "
          f"consistent {consistent:.1f}s, emails out {time.monotonic() - back:.1f}s")
