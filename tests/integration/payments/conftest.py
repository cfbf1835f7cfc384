"""Fixtures for the money tests: Stripe as the test sees it, and an app that gives up on
Stripe quickly (helpers in tests/helpers/payments.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from app.payments.stripe_gateway import reset_gateway
from tests.helpers.sandbox import RunningSandbox, stripe_client


@pytest.fixture
def sdk(sandbox: RunningSandbox) -> stripe.StripeClient:
    """Stripe as someone else sees it (the dashboard, the test's own eyes)."""
    return stripe_client(sandbox.url)


@pytest.fixture
def impatient_stripe(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app gives up on a Stripe call after 1 s (the sandbox's timeout fault hangs 30 s)."""
    from app.settings import reset_settings_cache

    monkeypatch.setenv("STRIPE_TIMEOUT_SECONDS", "1")
    reset_settings_cache()
    reset_gateway()
    yield
    monkeypatch.delenv("STRIPE_TIMEOUT_SECONDS")
    reset_settings_cache()
    reset_gateway()
