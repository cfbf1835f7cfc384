"""End-to-end fixtures: the integration fixtures plus real web and worker processes wired to
the sandbox, which delivers Stripe and Resend webhooks to the web process."""

from __future__ import annotations

import contextlib
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


@pytest.fixture(scope="package")
def _web_process(sandbox: RunningSandbox) -> Iterator[RunningProcess]:
    """One `orderpass web` for the e2e tests a worker runs in a row, across modules (starting
    one costs seconds of CPU, tens of seconds of wall time on a loaded CI machine; most
    modules here hold one or two tests). It keeps nothing a test could see between tests:
    sessions, orders and menus live in Postgres and Redis, which `_fresh_state` resets, and
    each test's browser contexts close after it (tests/helpers/browser.py). A test that needs
    a process of its own (to stop it, or with settings of its own) starts one (`start_web`,
    `own_web`, or a module's own `web` fixture)."""
    with start_web() as server:
        yield server


@contextlib.contextmanager
def _webhooks_to(sandbox: RunningSandbox, server: RunningProcess) -> Iterator[RunningProcess]:
    """The sandbox's Stripe and Resend webhooks delivered to `server` until the block ends."""
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
def web(_web_process: RunningProcess, sandbox: RunningSandbox) -> Iterator[RunningProcess]:
    """The e2e web process, the sandbox's webhooks pointed at it for this test."""
    if _web_process.process.poll() is not None:
        pytest.fail(f"the e2e web process exited with {_web_process.process.returncode}:\n"
                    + _web_process.log()[-4000:])
    with _webhooks_to(sandbox, _web_process) as server:
        yield server


@pytest.fixture
def worker() -> Iterator[RunningProcess]:
    with start_worker() as running:
        yield running
