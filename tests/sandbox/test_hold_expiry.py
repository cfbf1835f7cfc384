"""Stripe cancels an uncaptured card authorisation 7 days after it was made: the
PaymentIntent becomes `canceled` (`cancellation_reason="automatic"`), its charge shows the
authorisation released, `charge.expired` and `payment_intent.canceled` are sent, and a
capture after that is refused with Stripe's 400 for a canceled intent."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.helpers.sandbox import RunningSandbox
from tests.helpers.webhook_receiver import Receiver, session_params

DAY = 24 * 60 * 60


def held(sandbox: RunningSandbox, client: stripe.StripeClient) -> str:
    """A paid manual-capture session's PaymentIntent, `requires_capture`."""
    session = client.v1.checkout.sessions.create(
        params=session_params(payment_intent_data={"capture_method": "manual"}))
    sandbox.pay(session.id)
    intent = str(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    assert client.v1.payment_intents.retrieve(intent).status == "requires_capture"
    return intent


def capture_error(sandbox: RunningSandbox, intent: str) -> tuple[int, dict[str, Any]]:
    response = sandbox.http.post(f"/v1/payment_intents/{intent}/capture",
                                 headers={"Authorization": "Bearer sk_test_x"})
    return response.status_code, response.json()


def test_a_hold_still_captures_just_before_seven_days(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    intent = held(sandbox, client)
    sandbox.advance_clock(7 * DAY - 60)
    assert client.v1.payment_intents.retrieve(intent).status == "requires_capture"
    assert client.v1.payment_intents.capture(intent).status == "succeeded"


def test_a_hold_older_than_seven_days_is_canceled_and_cannot_be_captured(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    intent = held(sandbox, client)
    sandbox.advance_clock(8 * DAY)
    pi = client.v1.payment_intents.retrieve(intent)
    assert pi.status == "canceled" and pi.cancellation_reason == "automatic"
    assert pi.amount_capturable == 0 and pi.canceled_at is not None
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.captured is False and charge.amount_captured == 0
    assert charge.refunded is True and charge.amount_refunded == charge.amount  # released

    status, body = capture_error(sandbox, intent)
    assert status == 400
    error = body["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "payment_intent_unexpected_state"
    assert error["message"].startswith("This PaymentIntent could not be captured because it "
                                       "has a status of canceled.")
    assert error["payment_intent"]["status"] == "canceled"
    with pytest.raises(stripe.InvalidRequestError, match="status of canceled"):
        client.v1.payment_intents.capture(intent)

    sandbox.wait_for(lambda: stripe_receiver.events_of_type("payment_intent.canceled"))
    [canceled] = stripe_receiver.events_of_type("payment_intent.canceled")  # once
    assert canceled["data"]["object"]["id"] == intent
    assert canceled["data"]["object"]["cancellation_reason"] == "automatic"
    sandbox.wait_for(lambda: stripe_receiver.events_of_type("charge.expired"))


def test_a_lapsed_hold_is_found_on_read_without_the_clock_loop(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    """Moved without the control API's tick (and before the loop runs): the read and the
    capture find the hold lapsed themselves."""
    intent = held(sandbox, client)
    sandbox.app.state["sandbox"].clock.advance(8 * DAY)
    status, body = capture_error(sandbox, intent)
    assert status == 400 and body["error"]["code"] == "payment_intent_unexpected_state"
    assert client.v1.payment_intents.retrieve(intent).cancellation_reason == "automatic"


def test_a_captured_or_voided_payment_is_left_alone(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    captured, voided = held(sandbox, client), held(sandbox, client)
    client.v1.payment_intents.capture(captured)
    client.v1.payment_intents.cancel(voided)
    sandbox.advance_clock(8 * DAY)
    assert client.v1.payment_intents.retrieve(captured).status == "succeeded"
    assert client.v1.payment_intents.retrieve(voided).cancellation_reason \
        == "requested_by_customer"
    assert stripe_receiver.events_of_type("charge.expired") == []
