"""Stripe cancels an uncaptured card authorisation 7 days after it was made: the
PaymentIntent becomes `canceled` (`cancellation_reason="expired"`), `charge.expired` and
`payment_intent.canceled` are sent, and a capture (or a cancel) after that is refused with
Stripe's 400 for a canceled intent, the intent in the error.

A released hold is not a refund. Since API version 2025-03-31.basil (the SDK pins a later
one) canceling a payment, by us or by its expiry, creates no Refund object; the charge stays
`captured: false`, `amount_captured: 0`, `amount_refunded: 0`, `refunded: false`, and neither
`charge.refunded` nor `refund.created` is sent (Stripe's changelog, "Partially capturing or
canceling payments no longer creates a Refund"). Every way of reading it says the same."""

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


def assert_released_not_refunded(client: stripe.StripeClient, intent: str) -> None:
    """The hold is released and nothing was refunded, however the charge is read."""
    pi = client.v1.payment_intents.retrieve(intent, params={"expand": ["latest_charge"]})
    assert pi.status == "canceled" and pi.amount_capturable == 0 and pi.amount_received == 0
    expanded = pi.latest_charge
    assert isinstance(expanded, stripe.Charge), expanded  # expand[]=latest_charge
    by_id = client.v1.charges.retrieve(expanded.id)
    for charge in (expanded, by_id):
        assert charge.payment_intent == intent
        assert charge.captured is False and charge.amount_captured == 0
        assert charge.refunded is False and charge.amount_refunded == 0
        assert charge.refunds is None or charge.refunds.data == []
    assert client.v1.payment_intents.retrieve(intent).latest_charge == expanded.id  # unexpanded
    assert client.v1.refunds.list(params={"payment_intent": intent}).data == []
    assert client.v1.refunds.list(params={"charge": expanded.id}).data == []
    for event_type in ("charge.refunded", "refund.created"):
        assert client.v1.events.list(params={"type": event_type}).data == [], event_type


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
    assert pi.status == "canceled" and pi.cancellation_reason == "expired"
    assert pi.amount_capturable == 0 and pi.canceled_at is not None
    assert_released_not_refunded(client, intent)

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
    assert canceled["data"]["object"]["cancellation_reason"] == "expired"
    sandbox.wait_for(lambda: stripe_receiver.events_of_type("charge.expired"))
    [expired] = stripe_receiver.events_of_type("charge.expired")
    charge = expired["data"]["object"]
    assert (charge["captured"], charge["refunded"], charge["amount_refunded"]) == (False, False, 0)
    assert stripe_receiver.events_of_type("charge.refunded") == []


def test_our_cancel_releases_the_hold_without_a_refund(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    intent = held(sandbox, client)
    canceled = client.v1.payment_intents.cancel(intent)
    assert canceled.status == "canceled" and canceled.cancellation_reason \
        == "requested_by_customer"
    assert_released_not_refunded(client, intent)
    sandbox.wait_for(lambda: stripe_receiver.events_of_type("payment_intent.canceled"))
    assert stripe_receiver.events_of_type("charge.refunded") == []
    assert stripe_receiver.events_of_type("charge.expired") == []
    sandbox.advance_clock(8 * DAY)  # a released hold does not lapse later
    assert_released_not_refunded(client, intent)
    assert client.v1.payment_intents.retrieve(intent).cancellation_reason \
        == "requested_by_customer"


@pytest.mark.parametrize("how", ["lapsed", "canceled"])
def test_canceling_a_canceled_intent_is_refused_with_the_intent_in_the_error(
    sandbox: RunningSandbox, client: stripe.StripeClient, how: str
) -> None:
    intent = held(sandbox, client)
    if how == "lapsed":
        sandbox.advance_clock(8 * DAY)
    else:
        client.v1.payment_intents.cancel(intent)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.cancel(intent)
    assert refused.value.http_status == 400
    error = refused.value.error
    assert error is not None and error.code == "payment_intent_unexpected_state"
    assert str(error.message).startswith("You cannot cancel this PaymentIntent because it has "
                                         "a status of canceled.")
    assert error.payment_intent is not None
    assert error.payment_intent.id == intent and error.payment_intent.status == "canceled"
    assert error.payment_intent.cancellation_reason == (
        "expired" if how == "lapsed" else "requested_by_customer")


def test_a_lapsed_hold_is_found_on_read_without_the_clock_loop(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    """Moved without the control API's tick (and before the loop runs): the read and the
    capture find the hold lapsed themselves."""
    intent = held(sandbox, client)
    sandbox.app.state["sandbox"].clock.advance(8 * DAY)
    status, body = capture_error(sandbox, intent)
    assert status == 400 and body["error"]["code"] == "payment_intent_unexpected_state"
    assert client.v1.payment_intents.retrieve(intent).cancellation_reason == "expired"


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
