"""Capture, void and refund under Stripe's idempotency: a failure after Stripe executed is
repeated for the key for 24 h, so after any failure the real state decides; a refund that can
never succeed stops, is a discrepancy and raises the alert. Void is not refund. The manual-
capture path runs with both readings of a completed session (`paid`, `unpaid`). Capture,
void and refund each meet every fault mode (500, 429, timeout; before and after Stripe
executed) and must end with the money moved exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import stripe
from arq.connections import ArqRedis

from app.ops.alerts import evaluate_alerts
from app.orders import lifecycle
from app.payments.stripe_gateway import get_gateway
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import (
    discrepancy_kinds,
    emails_of,
    refunds_in_stripe,
    reload,
)
from tests.helpers.sandbox import RunningSandbox


@pytest.fixture(params=["paid", "unpaid"])
def manual_reading(request: pytest.FixtureRequest, sandbox: RunningSandbox) -> Iterator[str]:
    """Both readings of a completed manual-capture session."""
    sandbox.configure(manual_capture_payment_status=request.param)
    yield str(request.param)
    sandbox.configure(manual_capture_payment_status="paid")


def intent_status(sdk: stripe.StripeClient, order: object) -> str:
    return str(sdk.v1.payment_intents.retrieve(
        str(order.stripe_payment_intent_id)).status)  # type: ignore[attr-defined]


FAULTS = pytest.mark.parametrize("fault", [500, 429, "timeout"])
WHEN = pytest.mark.parametrize("after_execute", [False, True], ids=["before", "after"])


def fail_every_attempt(sandbox: RunningSandbox, fault: int | str, after_execute: bool) -> None:
    """Every attempt the gateway makes fails; after execution Stripe has moved the money and
    saved the failure under the key (a timeout loses only the answer)."""
    sandbox.api_faults(service="stripe", status=fault, count=get_gateway().attempts,
                       after_execute=after_execute)


def stripe_is_well(sandbox: RunningSandbox) -> None:
    sandbox.api_faults(service="stripe", status=500, count=0)


async def no_retry_loop(sandbox: RunningSandbox) -> None:
    """The kitchen cron finds nothing left to settle and asks Stripe nothing."""
    sandbox.api_faults(service="stripe", status=500, count=1)  # a trap for any call
    assert await lifecycle.retry_failed_refunds(older_than=timedelta(0)) == []
    assert sandbox.api_faults(service="stripe")["stripe"]["count"] == 1  # untouched
    stripe_is_well(sandbox)


# -- manual capture, both readings ----------------------------------------------------------

@WHEN
@FAULTS
async def test_manual_capture_accept_captures_once_whatever_stripe_answers(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    manual_reading: str, impatient_stripe: None, fault: int | str, after_execute: bool
) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    assert order.status == "paid" and intent_status(sdk, order) == "requires_capture"
    fail_every_attempt(sandbox, fault, after_execute)
    if not after_execute:  # nothing happened at Stripe: the accept is refused, nothing moved
        with pytest.raises(lifecycle.ActionFailed, match="try again or reject"):
            await lifecycle.apply_action(order.public_id, "accept", actor="t")
        assert (await reload(order.public_id)).status == "paid"
        assert intent_status(sdk, order) == "requires_capture"
        stripe_is_well(sandbox)  # the cook presses accept again
    accepted = await lifecycle.apply_action(order.public_id, "accept", actor="t")
    stripe_is_well(sandbox)
    assert accepted.status == "accepted" and not accepted.needs_review
    intent = sdk.v1.payment_intents.retrieve(str(order.stripe_payment_intent_id))
    assert intent.status == "succeeded" and intent.amount_received == intent.amount
    assert await discrepancy_kinds(order.public_id) == []


@WHEN
@FAULTS
async def test_manual_capture_reject_releases_the_hold_and_says_so(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis, manual_reading: str, impatient_stripe: None, fault: int | str,
    after_execute: bool
) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    fail_every_attempt(sandbox, fault, after_execute)
    result = await lifecycle.apply_action(order.public_id, "reject", actor="t",
                                          reason="out of dough")
    stripe_is_well(sandbox)
    if not after_execute:  # the hold is still there: left for the kitchen cron, which releases it
        assert result.status == "rejected" and result.needs_review
        assert intent_status(sdk, order) == "requires_capture"
        assert await lifecycle.retry_failed_refunds(older_than=timedelta(0)) \
            == [order.public_id]
        result = await reload(order.public_id)
    assert result.status == "voided" and result.voided_at is not None
    assert not result.needs_review
    assert intent_status(sdk, order) == "canceled"
    assert refunds_in_stripe(sdk, order) == []
    await no_retry_loop(sandbox)
    page = await client.get(f"/orders/{order.public_id}")
    assert "Your card was not charged: the hold on it has been released" in page.text
    assert "refunded" not in page.text.lower()
    assert (await emails_of(order.public_id)).count(f"order_rejected/{order.public_id}") == 1
    assert await discrepancy_kinds(order.public_id) == []


async def test_capture_refused_for_good_fails_the_accept_clearly(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient
) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    sdk.v1.payment_intents.cancel(str(order.stripe_payment_intent_id))  # released in Stripe
    # Nothing can ever be charged: not left `paid` for a cook to cook, but rejected with the
    # hold counted released (tests/integration/payments/test_hold_lapse.py: the lapsed hold).
    with pytest.raises(lifecycle.HoldExpired, match="the card hold was released in Stripe; "
                                                    "this order cannot be charged"):
        await lifecycle.apply_action(order.public_id, "accept", actor="t")
    assert (await reload(order.public_id)).status == "voided"


# -- refunds ------------------------------------------------------------------------------

@WHEN
@FAULTS
async def test_a_refund_whose_answer_was_lost_is_made_once_and_recorded(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    impatient_stripe: None, fault: int | str, after_execute: bool
) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    fail_every_attempt(sandbox, fault, after_execute)
    result = await lifecycle.apply_action(order.public_id, "reject", actor="t", reason="x")
    stripe_is_well(sandbox)
    if not after_execute:  # no refund yet: left for the kitchen cron, which makes it
        assert result.status == "rejected" and result.needs_review
        assert refunds_in_stripe(sdk, order) == []
        assert await lifecycle.retry_failed_refunds(older_than=timedelta(0)) \
            == [order.public_id]
        result = await reload(order.public_id)
    assert result.status == "refunded" and not result.needs_review
    [refund] = refunds_in_stripe(sdk, order)
    assert refund.amount == order.amount_charged
    assert result.amount_refunded == order.amount_charged
    await no_retry_loop(sandbox)
    assert len(refunds_in_stripe(sdk, order)) == 1
    assert (await emails_of(order.public_id)).count(f"order_rejected/{order.public_id}") == 1
    assert await discrepancy_kinds(order.public_id) == []


async def test_a_refund_already_made_outside_stops_and_is_queued(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis
) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    sdk.v1.refunds.create(params={"payment_intent": str(order.stripe_payment_intent_id)})
    result = await lifecycle.apply_action(order.public_id, "reject", actor="t", reason="x")
    assert result.status == "refunded"  # the money is back with the customer
    assert len(refunds_in_stripe(sdk, order)) == 1
    assert "refunded_outside" in await discrepancy_kinds(order.public_id)
    notices = await evaluate_alerts(redis)
    assert "open_discrepancies" in {notice.name for notice in notices}


async def test_a_refund_blocked_by_a_dispute_stops_retrying(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis
) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    intent = sdk.v1.payment_intents.retrieve(str(order.stripe_payment_intent_id))
    sandbox.open_dispute(str(intent.latest_charge))
    result = await lifecycle.apply_action(order.public_id, "reject", actor="t", reason="x")
    assert result.status == "rejected" and result.settlement_stopped_at is not None
    assert result.needs_review and "disputed" in result.review_reason
    assert await discrepancy_kinds(order.public_id) == ["refund_blocked_by_dispute"]
    notices = await evaluate_alerts(redis)
    assert "open_discrepancies" in {notice.name for notice in notices}
    await no_retry_loop(sandbox)  # the kitchen cron leaves it alone
    assert (await reload(order.public_id)).status == "rejected"
    assert refunds_in_stripe(sdk, order) == []
    # The customer is told a human will sort it out (no false "refunded").
    assert f"order_rejected/{order.public_id}" in await emails_of(order.public_id)
