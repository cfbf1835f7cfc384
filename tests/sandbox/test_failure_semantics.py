"""The sandbox fails the way Stripe and Resend fail, through the real SDKs over real HTTP:
idempotent replay of the first result once a request started executing (errors and 500s
included), faults after execution, minimum charge amounts, `expires_at` without grace, both
readings of a manual-capture completion, disputes, Resend's API key and delivery events."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
import resend
import stripe

from tests.helpers.sandbox import RESEND_TEST_KEY, RunningSandbox, stripe_client
from tests.helpers.webhook_receiver import Receiver, session_params

AUTH = {"Authorization": "Bearer sk_test_x"}


def _sessions(client: stripe.StripeClient) -> list[Any]:
    return list(client.v1.checkout.sessions.list(params={"limit": 100}).data)


def _raw_post(sandbox: RunningSandbox, path: str, key: str, data: dict[str, str]
              ) -> httpx.Response:
    return sandbox.http.post(path, headers={**AUTH, "Idempotency-Key": key}, data=data)


def _manual_session(sandbox: RunningSandbox, client: stripe.StripeClient,
                    outcome: str = "succeeded") -> tuple[Any, str]:
    session = client.v1.checkout.sessions.create(
        params=session_params(payment_intent_data={"capture_method": "manual"}))
    sandbox.pay(session.id, outcome)
    session = client.v1.checkout.sessions.retrieve(session.id)
    return session, str(session.payment_intent)


# -- idempotency: the first result, errors included ---------------------------------------

def test_an_execution_error_is_saved_and_replayed_for_the_same_key(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    """A capture refused by the PaymentIntent's state (declined card, nothing to capture) is
    saved: once the card is authorised, the same key still answers that error; a new key
    captures."""
    session, _ = _manual_session(sandbox, client, outcome="declined")
    intent = client.v1.payment_intents.retrieve(str(session.payment_intent))
    assert intent.status == "requires_payment_method"
    with pytest.raises(stripe.InvalidRequestError) as first:
        client.v1.payment_intents.capture(intent.id, options={"idempotency_key": "capture/A"})
    assert first.value.code == "payment_intent_unexpected_state"
    sandbox.pay(session.id)  # the customer tries another card: now authorised
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"

    replay = _raw_post(sandbox, f"/v1/payment_intents/{intent.id}/capture", "capture/A", {})
    assert replay.status_code == 400
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["error"]["code"] == "payment_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.capture(intent.id, options={"idempotency_key": "capture/A"})
    assert again.value.code == "payment_intent_unexpected_state"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"

    captured = client.v1.payment_intents.capture(intent.id,
                                                 options={"idempotency_key": "capture/B"})
    assert captured.status == "succeeded"


def test_charge_already_refunded_is_saved_under_its_key(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(session.id)
    intent = str(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    client.v1.refunds.create(params={"payment_intent": intent})  # from the dashboard
    for _ in range(2):
        response = _raw_post(sandbox, "/v1/refunds", "refund/X", {"payment_intent": intent})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "charge_already_refunded"
    assert response.headers["idempotent-replayed"] == "true"
    assert len(client.v1.refunds.list(params={"payment_intent": intent}).data) == 1


def test_validation_errors_are_not_saved(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    """A parameter error saves nothing: the same key then works with correct parameters."""
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params=session_params(bogus="1"),
                                           options={"idempotency_key": "TEMP-v"})
    assert err.value.param == "bogus"
    created = client.v1.checkout.sessions.create(params=session_params(),
                                                 options={"idempotency_key": "TEMP-v"})
    assert [s.id for s in _sessions(client)] == [created.id]


def test_same_key_other_parameters_is_refused(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    client.v1.checkout.sessions.create(params=session_params(),
                                       options={"idempotency_key": "TEMP-p"})
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(
            params=session_params(expires_at=int(time.time()) + 7200),
            options={"idempotency_key": "TEMP-p"})
    assert len(_sessions(client)) == 1


def test_a_concurrent_request_with_the_same_key_gets_409_and_nothing_is_saved(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    # The second request must arrive while the first is in flight: a wide margin, as a
    # loaded CI machine took more than 0.15 s to get the first one there (both succeeded).
    sandbox.api_faults(service="stripe", latency_ms=2000)
    params = session_params()
    outcomes: list[Any] = []

    def create() -> None:
        try:
            outcomes.append(client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": "TEMP-c"}).id)
        except stripe.StripeError as error:
            outcomes.append(error)

    first = threading.Thread(target=create)
    first.start()
    time.sleep(0.6)
    create()
    first.join()
    sandbox.api_faults(service="stripe", latency_ms=0)
    [conflict] = [o for o in outcomes if isinstance(o, stripe.StripeError)]
    assert conflict.http_status == 409  # the SDK maps a 409 to APIError
    assert conflict.error is not None and conflict.error.type == "idempotency_error"
    [session_id] = [o for o in outcomes if isinstance(o, str)]
    # The conflict saved nothing: the key still replays the first request's session.
    again = client.v1.checkout.sessions.create(params=params,
                                               options={"idempotency_key": "TEMP-c"})
    assert again.id == session_id and len(_sessions(client)) == 1


# -- faults before and after execution ----------------------------------------------------

def test_a_fault_before_execution_runs_nothing_and_saves_nothing(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    sandbox.api_faults(service="stripe", status=500, count=1)
    with pytest.raises(stripe.APIError):
        client.v1.checkout.sessions.create(params=session_params(),
                                           options={"idempotency_key": "TEMP-b"})
    assert _sessions(client) == []
    created = client.v1.checkout.sessions.create(params=session_params(),
                                                 options={"idempotency_key": "TEMP-b"})
    assert [s.id for s in _sessions(client)] == [created.id]


@pytest.mark.parametrize(("status", "error"), [(500, stripe.APIError),
                                               (429, stripe.RateLimitError)])
def test_a_fault_after_execution_commits_and_is_saved_under_the_key(
    sandbox: RunningSandbox, client: stripe.StripeClient, status: int,
    error: type[Exception]
) -> None:
    sandbox.api_faults(service="stripe", status=status, count=1, after_execute=True)
    params = session_params()
    with pytest.raises(error):
        client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "TEMP-a"})
    [created] = _sessions(client)  # the request ran and committed
    assert created.status == "open"
    replay = sandbox.http.post("/v1/checkout/sessions",
                               headers={**AUTH, "Idempotency-Key": "TEMP-a"},
                               content=_form_of(client, params))
    assert replay.status_code == status and replay.headers["idempotent-replayed"] == "true"
    with pytest.raises(error):  # for 24 h, whatever is retried with this key
        client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "TEMP-a"})
    assert len(_sessions(client)) == 1


def test_a_refund_failing_after_execution_was_made_once(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(session.id)
    intent = str(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    sandbox.api_faults(service="stripe", status=500, count=1, after_execute=True)
    for _ in range(3):
        with pytest.raises(stripe.APIError):
            client.v1.refunds.create(params={"payment_intent": intent},
                                     options={"idempotency_key": "refund/T"})
    [refund] = client.v1.refunds.list(params={"payment_intent": intent}).data
    assert refund.amount == 2800


def test_a_timeout_after_execution_loses_only_the_answer(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    sandbox.api_faults(service="stripe", status="timeout", count=1, after_execute=True)
    impatient = stripe.StripeClient(
        api_key="sk_test_x", base_addresses={"api": sandbox.url},
        http_client=stripe.HTTPXClient(timeout=0.5, allow_sync_methods=True),
        max_network_retries=0)
    params = session_params()
    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.checkout.sessions.create(params=params,
                                              options={"idempotency_key": "TEMP-t"})
    [created] = _sessions(client)
    replay = sandbox.http.post("/v1/checkout/sessions",
                               headers={**AUTH, "Idempotency-Key": "TEMP-t"},
                               content=_form_of(client, params))
    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == created.id


def test_after_execute_is_validated(sandbox: RunningSandbox) -> None:
    response = sandbox.http.post("/_control/api/faults", json={
        "service": "stripe", "status": 500, "after_execute": "yes"})
    assert response.status_code == 400
    view = sandbox.api_faults(service="stripe", status=500, count=2, after_execute=True)
    assert view["stripe"]["after_execute"] is True and view["stripe"]["count"] == 2


def _form_of(client: stripe.StripeClient, params: dict[str, Any]) -> bytes:
    """The form body the SDK sends for these parameters (to replay it byte for byte)."""
    from urllib.parse import urlencode

    from stripe._encode import _api_encode

    return urlencode(list(_api_encode(params))).encode()


# -- minimum charge and expiry ------------------------------------------------------------

def _one_line(currency: str, unit_amount: int) -> dict[str, Any]:
    return session_params(currency=currency, line_items=[{
        "price_data": {"currency": currency, "unit_amount": unit_amount,
                       "product_data": {"name": "Tea"}}, "quantity": 1}])


@pytest.mark.parametrize(("currency", "minimum"), [("eur", 50), ("usd", 50), ("gbp", 30),
                                                   ("jpy", 50), ("chf", 50), ("dkk", 250)])
def test_sessions_below_the_currency_minimum_are_refused(
    client: stripe.StripeClient, currency: str, minimum: int
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params=_one_line(currency, minimum - 1))
    assert err.value.code == "amount_too_small" and err.value.http_status == 400
    assert client.v1.checkout.sessions.create(params=_one_line(currency, minimum)).id


@pytest.mark.parametrize(("currency", "maximum", "shown"), [
    ("eur", 99_999_999, "999999.99 eur"), ("jpy", 99_999_999, "99999999 jpy"),
    ("huf", 99_999_999, "999999.99 huf"),
    # "up to twelve digits for IDR" (docs.stripe.com/currencies)
    ("idr", 999_999_999_999, "9999999999.99 idr")])
def test_sessions_above_the_largest_amount_are_refused(
    client: stripe.StripeClient, currency: str, maximum: int, shown: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params=_one_line(currency, maximum + 1))
    assert err.value.code == "amount_too_large"
    assert str(err.value.user_message).endswith(f"must be no more than {shown}")
    assert client.v1.checkout.sessions.create(params=_one_line(currency, maximum)).id


def test_a_capture_below_the_minimum_is_refused(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    _, intent = _manual_session(sandbox, client)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.capture(intent, params={"amount_to_capture": 49})
    assert err.value.code == "amount_too_small"
    assert client.v1.payment_intents.capture(intent, params={"amount_to_capture": 50}).status \
        == "succeeded"


def test_expires_at_must_be_30_minutes_away_with_no_grace(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(
            params=session_params(expires_at=int(time.time()) + 30 * 60 - 1))
    assert err.value.param == "expires_at"
    assert client.v1.checkout.sessions.create(
        params=session_params(expires_at=int(time.time()) + 30 * 60 + 2)).id


# -- manual capture, both readings --------------------------------------------------------

@pytest.mark.parametrize("reading", ["paid", "unpaid"])
def test_manual_capture_completion_reading_is_selectable(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver,
    reading: str
) -> None:
    sandbox.configure(manual_capture_payment_status=reading)
    session, intent = _manual_session(sandbox, client)
    assert session.status == "complete" and session.payment_status == reading
    assert client.v1.payment_intents.retrieve(intent).status == "requires_capture"
    completed = sandbox.wait_for(
        lambda: stripe_receiver.events_of_type("checkout.session.completed"))
    assert completed[0]["data"]["object"]["payment_status"] == reading
    automatic = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(automatic.id)
    assert client.v1.checkout.sessions.retrieve(automatic.id).payment_status == "paid"
    bad = sandbox.http.post("/_control/config", json={"manual_capture_payment_status": "maybe"})
    assert bad.status_code == 400


# -- disputes -----------------------------------------------------------------------------

def test_disputes_open_and_close_with_events_and_block_refunds(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(session.id)
    intent = client.v1.payment_intents.retrieve(
        str(client.v1.checkout.sessions.retrieve(session.id).payment_intent))
    dispute = sandbox.open_dispute(str(intent.latest_charge))
    assert dispute["object"] == "dispute" and dispute["payment_intent"] == intent.id
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"payment_intent": intent.id})
    assert err.value.code == "charge_disputed"
    closed = sandbox.close_dispute(dispute["id"], "lost")
    assert closed["status"] == "lost"
    events = sandbox.wait_for(lambda: len(stripe_receiver.events_of_type(
        "charge.dispute.created") + stripe_receiver.events_of_type("charge.dispute.closed")) == 2
        and stripe_receiver.events_of_type("charge.dispute.closed"))
    assert events[0]["data"]["object"]["status"] == "lost"
    assert client.v1.charges.retrieve(str(intent.latest_charge)).disputed is True


def test_an_inquiry_takes_no_money_and_closes_without_a_chargeback(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    """Before a chargeback the bank may only ask (an inquiry): the charge stays refundable,
    the inquiry closes as `warning_closed` (never won or lost), then a chargeback may
    follow on the same charge."""
    session = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(session.id)
    charge = str(client.v1.payment_intents.retrieve(
        str(client.v1.checkout.sessions.retrieve(session.id).payment_intent)).latest_charge)
    inquiry = sandbox.open_dispute(charge, inquiry=True)
    assert inquiry["status"] == "warning_needs_response" and inquiry["is_charge_refundable"]
    assert inquiry["payment_method_details"]["card"]["case_type"] == "inquiry"
    assert client.v1.disputes.retrieve(inquiry["id"]).status == "warning_needs_response"
    refund = client.v1.refunds.create(params={"charge": charge, "amount": 100})
    assert refund.status == "succeeded"
    refused = sandbox.http.post(f"/_control/disputes/{inquiry['id']}/close",
                                json={"status": "won"})
    assert refused.status_code == 400 and "warning_closed" in refused.text
    assert sandbox.close_dispute(inquiry["id"], "warning_closed")["status"] == "warning_closed"
    chargeback = sandbox.open_dispute(charge)
    assert chargeback["status"] == "needs_response" and chargeback["amount"] == (
        client.v1.charges.retrieve(charge).amount - 100)


# -- Resend -------------------------------------------------------------------------------

def test_resend_accepts_only_the_configured_key(sandbox: RunningSandbox) -> None:
    email = {"from": "Orderpass <orders@orderpass.test>", "to": "ada@example.com",
             "subject": "Hi", "text": "Hi"}
    wrong = httpx.post(f"{sandbox.url}/emails", json=email,
                       headers={"Authorization": "Bearer re_someone_else"})
    assert wrong.status_code == 403
    assert wrong.json() == {"statusCode": 403, "message": "API key is invalid",
                            "name": "invalid_api_key"}
    missing = httpx.post(f"{sandbox.url}/emails", json=email)
    assert missing.status_code == 401 and missing.json()["name"] == "missing_api_key"
    resend.api_key = "re_someone_else"
    resend.api_url = sandbox.url
    with pytest.raises(resend.exceptions.ResendError):
        resend.Emails.send(email)  # type: ignore[arg-type]
    resend.api_key = RESEND_TEST_KEY
    assert resend.Emails.send(email)["id"]  # type: ignore[arg-type]
    assert [m["subject"] for m in sandbox.messages()] == ["Hi"]


@pytest.mark.parametrize(("to", "expected"), [
    ("suppressed@resend.dev", ["email.suppressed"]),
    ("failed@resend.dev", ["email.failed"]),
    ("delayed@resend.dev", ["email.sent", "email.delivery_delayed", "email.delivered"]),
])
def test_resend_test_addresses_produce_failure_events(
    sandbox: RunningSandbox, resend_sdk: None, resend_receiver: Receiver, to: str,
    expected: list[str]
) -> None:
    resend.Emails.send({"from": "Orderpass <orders@orderpass.test>", "to": to,
                        "subject": "Hi", "text": "Hi"})
    bodies = sandbox.wait_for(lambda: len(resend_receiver.bodies()) >= len(expected)
                              and resend_receiver.bodies())
    assert [b["type"] for b in bodies] == expected
    from app.sandbox.resend import schema

    names = {"email.suppressed": "EmailSuppressedEvent", "email.failed": "EmailFailedEvent",
             "email.delivery_delayed": "EmailDeliveryDelayedEvent",
             "email.sent": "EmailSentEvent", "email.delivered": "EmailDeliveredEvent"}
    for body in bodies:
        assert schema.errors(names[body["type"]], body) == []


def test_control_api_reports_any_delivery_event(
    sandbox: RunningSandbox, resend_sdk: None, resend_receiver: Receiver
) -> None:
    sent = resend.Emails.send({"from": "Orderpass <orders@orderpass.test>",
                               "to": "ada@example.com", "subject": "Hi", "text": "Hi"})
    sandbox.email_event(sent["id"], "email.failed")
    bodies = sandbox.wait_for(lambda: len(resend_receiver.bodies()) == 3
                              and resend_receiver.bodies())
    assert [b["type"] for b in bodies] == ["email.sent", "email.delivered", "email.failed"]
    assert json.loads(json.dumps(bodies[-1]))["data"]["email_id"] == sent["id"]
    unknown = sandbox.http.post(f"/_control/emails/{sent['id']}/events",
                                json={"type": "email.exploded"})
    assert unknown.status_code == 400
    missing = sandbox.http.post("/_control/emails/nope/events", json={"type": "email.failed"})
    assert missing.status_code == 404


def test_resend_fault_after_execution_sends_once(
    sandbox: RunningSandbox, resend_sdk: None
) -> None:
    sandbox.api_faults(service="resend", status=500, count=1, after_execute=True)
    email = {"from": "Orderpass <orders@orderpass.test>", "to": "ada@example.com",
             "subject": "Once", "text": "Once"}
    with pytest.raises(resend.exceptions.ResendError):
        resend.Emails.send(email, {"idempotency_key": "k1"})  # type: ignore[arg-type]
    assert resend.Emails.send(email, {"idempotency_key": "k1"})["id"]  # type: ignore[arg-type]
    assert len(sandbox.messages(to="ada@example.com")) == 1


def test_stripe_client_helper_still_works(sandbox: RunningSandbox) -> None:
    assert stripe_client(sandbox.url).v1.checkout.sessions.list().data == []
