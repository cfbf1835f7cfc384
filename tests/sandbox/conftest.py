"""Fixtures for the sandbox suite: a running sandbox, webhook receivers, SDK clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe

from tests.helpers.sandbox import RunningSandbox, start_sandbox, stripe_client, use_resend
from tests.helpers.webhook_receiver import RESEND_SECRET, STRIPE_SECRET, Receiver


@pytest.fixture
def stripe_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def resend_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def sandbox(
    tmp_path: Path, stripe_receiver: Receiver, resend_receiver: Receiver
) -> Iterator[RunningSandbox]:
    with start_sandbox(
        tmp_path,
        stripe_webhook_url=stripe_receiver.url,
        stripe_webhook_secret=STRIPE_SECRET,
        resend_webhook_url=resend_receiver.url,
        resend_webhook_secret=RESEND_SECRET,
        webhook_retry_schedule_s=(0.05, 0.1, 0.2),
        webhook_timeout_s=2.0,
        expiry_check_interval_s=0.1,
    ) as running:
        yield running


@pytest.fixture
def client(sandbox: RunningSandbox) -> stripe.StripeClient:
    return stripe_client(sandbox.url)


@pytest.fixture
def resend_sdk(sandbox: RunningSandbox) -> Iterator[None]:
    use_resend(sandbox.url)
    yield
