"""Postgres hangs rather than goes away (a frozen VM, a lost network path): connections stay
open and nothing answers. Every request that needs Postgres must still answer, with a 503
and Retry-After, within about the statement limit; none may hang with the database;
Stripe's deliveries meanwhile get 5xx answers and are retried; and once Postgres answers
again the usual promise holds (every paid order exactly once, shown, emails once)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers.orders import session_of
from tests.helpers.stack import Stack, wait_emails_out_once, wait_until
from tests.helpers.stack_clients import timed

pytestmark = pytest.mark.timeout(180)

COMMAND_TIMEOUT_S = 2.0  # DB_COMMAND_TIMEOUT_SECONDS for this module's web and worker
# A statement, then the answer (its connection is cut, not released: asyncpg's wait for the
# cancellation doubled it; a connect has its own, shorter limit here).
ANSWER_BOUND_S = COMMAND_TIMEOUT_S + 2.0
FROZEN_S = 8.0
READYZ_BOUND_S = 3.0  # its checks' own limit (2 s) and the answer
RECOVERY_S = 20  # from Postgres answering again to every paid order recorded and shown
EMAIL_RECOVERY_S = 60


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    return {"DB_COMMAND_TIMEOUT_SECONDS": str(COMMAND_TIMEOUT_S),
            "DB_CONNECT_TIMEOUT_SECONDS": "1"}


def test_a_frozen_postgres_is_a_prompt_503_and_nothing_is_lost(stack: Stack) -> None:
    assert stack.sandbox is not None
    paid_before = [stack.submit("demo", email=f"before-{n}@example.com") for n in range(2)]
    for created in paid_before:
        stack.sandbox.pay(session_of(created))
    wait_until(lambda: len(stack.paid_orders()) >= 2, 20, "the first orders paid")
    waiting = [stack.submit("demo-2", email=f"frozen-{n}@example.com") for n in range(4)]
    status_url = f"{stack.web_url}/orders/{paid_before[0]['id']}"
    assert stack.http.get(status_url, timeout=10).status_code == 200

    answers: list[tuple[str, int, float]] = []
    stack.freeze_postgres()
    frozen_at = time.monotonic()
    try:
        for created in waiting:  # Stripe delivers while nothing answers in Postgres
            stack.sandbox.pay(session_of(created))
        with ThreadPoolExecutor(5) as pool:  # a diner's page, a new order, the probe, at once
            calls = {
                "status page": pool.submit(timed, stack.http.get, status_url, timeout=30),
                "submit": pool.submit(timed, stack.http.post, f"{stack.web_url}/api/orders",
                                      json=stack.order_body("demo"), timeout=30),
                "readyz": pool.submit(timed, stack.http.get, f"{stack.web_url}/readyz",
                                      timeout=30),
                "status page again": pool.submit(timed, stack.http.get, status_url,
                                                 timeout=30),
                "status page in a browser": pool.submit(
                    timed, stack.http.get, status_url, timeout=30,
                    headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}),
            }
            for name, future in calls.items():
                status, elapsed, response = future.result(60)
                answers.append((name, status, round(elapsed, 2)))
                assert response is not None and elapsed < ANSWER_BOUND_S, answers
                if response.status_code == 503:
                    assert name == "readyz" or int(response.headers["retry-after"]) > 0, \
                        (name, response.headers)
                    assert "Traceback" not in response.text
                if name == "status page in a browser":  # a page saying so, not JSON
                    assert response.headers["content-type"].startswith("text/html")
                    assert "Back in a moment" in response.text
        statuses = {name: status for name, status, _ in answers}
        assert statuses["status page"] == statuses["status page again"] == 503, answers
        assert statuses["status page in a browser"] == 503, answers
        assert statuses["readyz"] == 503, answers
        # the probe within its own limit, not the hung statement's (an orchestrator's
        # probe gives up after a second or two)
        readyz_s = next(seconds for name, _, seconds in answers if name == "readyz")
        assert readyz_s < READYZ_BOUND_S, answers
        assert statuses["submit"] in (201, 202, 503), answers  # the temp order is Redis's
        stack.wait_stripe_answered_5xx(ANSWER_BOUND_S + 5, "while Postgres hangs")
        time.sleep(max(0.0, FROZEN_S - (time.monotonic() - frozen_at)))
    finally:
        stack.freeze_postgres(False)
    back = time.monotonic()
    hung = stack.deliveries_left_to_time_out()
    assert not hung, hung  # every delivery was answered, none left to Stripe's own timeout
    stack.assert_consistent(RECOVERY_S)
    consistent = time.monotonic() - back
    assert {c["id"] for c in waiting} <= {o["public_id"] for o in stack.paid_orders()}
    assert stack.http.get(status_url, timeout=10).status_code == 200
    wait_emails_out_once(stack, [c["id"] for c in [*paid_before, *waiting]], EMAIL_RECOVERY_S)
    print(f"postgres frozen {FROZEN_S:.0f}s: answers {answers}; consistent after "
          f"{consistent:.1f}s, emails out after {time.monotonic() - back:.1f}s")
