"""Kitchen actions moving real (sandbox) money through the app's StripeGateway: capture on
accept for manual-capture orders, void on reject before capture, refund after capture."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import stripe

from app.orders import lifecycle
from app.payments.stripe_gateway import StripeGateway, get_gateway
from tests.helpers.orders import make_paid_order
from tests.helpers.sandbox import RunningSandbox, stripe_client


@pytest.fixture
def gateway(sandbox: RunningSandbox) -> StripeGateway:
    """The app's own gateway, which the session's sandbox already stands behind."""
    return get_gateway()


def paid_intent(sandbox: RunningSandbox, capture_method: str) -> tuple[str, stripe.StripeClient]:
    client = stripe_client(sandbox.url)
    params: dict[str, Any] = {
        "mode": "payment", "currency": "eur", "customer_email": "ada@example.test",
        "success_url": "http://127.0.0.1/ok", "cancel_url": "http://127.0.0.1/no",
        "line_items": [{"price_data": {"currency": "eur", "unit_amount": 2650,
                                       "product_data": {"name": "Order"}}, "quantity": 1}],
        "payment_intent_data": {"capture_method": capture_method},
    }
    session = client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
    sandbox.pay(session.id)
    intent = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    assert isinstance(intent, str)
    return intent, client


async def test_manual_capture_accept_captures_then_reject_refunds(
        sandbox: RunningSandbox, gateway: StripeGateway) -> None:
    intent, client = paid_intent(sandbox, "manual")
    assert client.v1.payment_intents.retrieve(intent).status == "requires_capture"
    order = await make_paid_order(capture_mode="manual", stripe_payment_intent_id=intent)
    accepted = await lifecycle.apply_action(order.public_id, "accept", actor="t")
    assert accepted.status == "accepted"
    assert client.v1.payment_intents.retrieve(intent).status == "succeeded"
    rejected = await lifecycle.apply_action(order.public_id, "reject", actor="t",
                                            reason="Oven broke")
    assert rejected.status == "refunded"


async def test_manual_capture_reject_voids_the_hold(
        sandbox: RunningSandbox, gateway: StripeGateway) -> None:
    intent, client = paid_intent(sandbox, "manual")
    order = await make_paid_order(capture_mode="manual", stripe_payment_intent_id=intent)
    result = await lifecycle.apply_action(order.public_id, "reject", actor="t", reason="x")
    assert result.status == "voided"
    assert client.v1.payment_intents.retrieve(intent).status == "canceled"


async def test_refund_failure_then_retry_through_stripe(
        sandbox: RunningSandbox, gateway: StripeGateway) -> None:
    intent, _client = paid_intent(sandbox, "automatic")
    order = await make_paid_order(stripe_payment_intent_id=intent)
    sandbox.api_faults(service="stripe", status=500, count=gateway.attempts)  # all retries fail
    result = await lifecycle.apply_action(order.public_id, "reject", actor="t", reason="x")
    assert result.status == "rejected" and result.needs_review
    assert await lifecycle.retry_failed_refunds(older_than=timedelta(0)) == [order.public_id]


async def test_capture_failure_fails_accept(sandbox: RunningSandbox,
                                            gateway: StripeGateway) -> None:
    order = await make_paid_order(capture_mode="manual",
                                  stripe_payment_intent_id="pi_does_not_exist")
    with pytest.raises(lifecycle.ActionFailed, match="capturing the payment failed"):
        await lifecycle.apply_action(order.public_id, "accept", actor="t")
