"""End-to-end fixtures: the integration fixtures plus real web and worker processes wired to
the sandbox, which delivers Stripe and Resend webhooks to the web process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.browser import browser  # noqa: F401  (fixture)
from tests.helpers.infra import TEST_ENV, start_servers
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess, start_web, start_worker

start_servers()


@pytest.fixture(autouse=True)
async def _fresh_state(clean_state: None) -> None:
    """Every test starts from the seeded demo state and an empty sandbox."""


@pytest.fixture
def web(sandbox: RunningSandbox) -> Iterator[RunningProcess]:
    with start_web() as server:
        sandbox.configure(
            stripe_webhook_url=f"{server.url}/webhooks/stripe",
            stripe_webhook_secret=TEST_ENV["STRIPE_WEBHOOK_SECRET"],
            resend_webhook_url=f"{server.url}/webhooks/resend",
            resend_webhook_secret=TEST_ENV["RESEND_WEBHOOK_SECRET"],
            webhook_retry_schedule_s=[0.2, 0.5, 1, 2])
        try:
            yield server
        finally:
            sandbox.configure(stripe_webhook_url="", resend_webhook_url="")


@pytest.fixture
def worker() -> Iterator[RunningProcess]:
    with start_worker() as running:
        yield running
