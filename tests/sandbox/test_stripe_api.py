"""The Stripe stand-in driven by the real `stripe` SDK over HTTP."""

from __future__ import annotations

import time

import httpx
import pytest
import stripe

from tests.helpers.sandbox import RunningSandbox, stripe_client
from tests.helpers.webhook_receiver import Receiver, session_params, verify_stripe


def test_session_paid_via_control_api_emits_signed_completed_event(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    assert session.id.startswith("cs_test_")
    assert session.url == f"{sandbox.url}/pay/{session.id}"
    assert session.amount_total == 2 * 1250 + 300
    assert session.status == "open" and session.payment_status == "unpaid"
    assert session.payment_intent is None  # created when the customer confirms (2022-08-01+)
    assert session.metadata["temp_order_id"] == "TEMP-abc123"

    sandbox.pay(session.id, "succeeded")
    sandbox.wait_for(lambda: stripe_receiver.events_of_type("checkout.session.completed"))
    events = {e.type: e for e in verify_stripe(stripe_receiver)}
    completed = events["checkout.session.completed"].data.object
    assert completed["id"] == session.id
    assert completed["payment_status"] == "paid"
    assert completed["client_reference_id"] == "TEMP-abc123"
    assert events["payment_intent.succeeded"].data.object["id"] == completed["payment_intent"]

    retrieved = client.v1.checkout.sessions.retrieve(session.id)
    assert retrieved.status == "complete"
    pi = client.v1.payment_intents.retrieve(retrieved.payment_intent)
    assert pi.status == "succeeded" and pi.id.startswith("pi_")
    assert pi.latest_charge.startswith("ch_")
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [
        ("Margherita", 2, 2500),
        ("Lemonade", 1, 300),
    ]


async def test_async_sdk_methods_work(sandbox: RunningSandbox) -> None:
    client = stripe_client(sandbox.url)
    session = await client.v1.checkout.sessions.create_async(params=session_params())
    again = await client.v1.checkout.sessions.retrieve_async(session.id)
    assert again.id == session.id


def test_idempotent_replay_and_mismatch(
    sandbox: RunningSandbox, client: stripe.StripeClient
) -> None:
    params = session_params()
    first = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "TEMP-1"})
    second = client.v1.checkout.sessions.create(
        params=params, options={"idempotency_key": "TEMP-1"}
    )
    assert first.id == second.id
    assert len(client.v1.checkout.sessions.list().data) == 1
    with pytest.raises(stripe.IdempotencyError) as err:
        client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="other"),
            options={"idempotency_key": "TEMP-1"},
        )
    assert "can only be used with the same parameters" in str(err.value)
    raw = sandbox.http.post(
        "/v1/checkout/sessions",
        headers={"Authorization": "Bearer sk_test_x", "Idempotency-Key": "raw-1"},
        data={
            "mode": "payment",
            "success_url": "http://x/ok",
            "line_items[0][price_data][currency]": "usd",
            "line_items[0][price_data][unit_amount]": "500",
            "line_items[0][price_data][product_data][name]": "Soup",
            "line_items[0][quantity]": "1",
        },
    )
    replay = sandbox.http.post(
        "/v1/checkout/sessions",
        headers={"Authorization": "Bearer sk_test_x", "Idempotency-Key": "raw-1"},
        content=raw.request.content,
        params={},
    )
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == raw.json()["id"]


def test_auth_and_parameter_errors(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    bad = stripe.StripeClient(
        api_key="pk_live_nope",
        base_addresses={"api": sandbox.url},
        http_client=stripe.HTTPXClient(timeout=5, allow_sync_methods=True),
        max_network_retries=0,
    )
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.checkout.sessions.list()
    missing = httpx.get(f"{sandbox.url}/v1/events")
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "invalid_request_error"

    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params=session_params(bogus="1"))
    assert err.value.param == "bogus" and err.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params=session_params(expires_at=int(time.time()) + 60))
    assert err.value.param == "expires_at"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(
            params=session_params(expires_at=int(time.time()) + 25 * 3600)
        )
    assert "24 hours" in str(err.value)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert err.value.http_status == 404 and err.value.code == "resource_missing"
    unknown = httpx.get(f"{sandbox.url}/v1/nothing", headers={"Authorization": "Bearer sk_test_x"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"].startswith("Unrecognized request URL")


def test_list_filters_and_pagination(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    ids = [client.v1.checkout.sessions.create(params=session_params()).id for _ in range(5)]
    newest_first = list(reversed(ids))
    page = client.v1.checkout.sessions.list(params={"limit": 2})
    assert page.object == "list" and page.url == "/v1/checkout/sessions"
    assert [s.id for s in page.data] == newest_first[:2] and page.has_more
    page2 = client.v1.checkout.sessions.list(
        params={"limit": 2, "starting_after": page.data[-1].id}
    )
    assert [s.id for s in page2.data] == newest_first[2:4] and page2.has_more
    page3 = client.v1.checkout.sessions.list(
        params={"limit": 2, "starting_after": page2.data[-1].id}
    )
    assert [s.id for s in page3.data] == newest_first[4:] and not page3.has_more
    assert [s.id for s in client.v1.checkout.sessions.list().auto_paging_iter()] == newest_first

    sandbox.pay(ids[0])
    paid = client.v1.checkout.sessions.retrieve(ids[0])
    assert [s.id for s in client.v1.checkout.sessions.list(params={"status": "complete"}).data] == [
        ids[0]
    ]
    by_pi = client.v1.checkout.sessions.list(params={"payment_intent": paid.payment_intent})
    assert [s.id for s in by_pi.data] == [ids[0]]
    future = int(time.time()) + 10_000
    assert client.v1.checkout.sessions.list(params={"created": {"gte": future}}).data == []
    assert (
        len(client.v1.checkout.sessions.list(params={"created": {"gte": paid.created}}).data) == 5
    )


def test_expire_via_api_and_by_clock(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    early = client.v1.checkout.sessions.create(params=session_params())
    expired = client.v1.checkout.sessions.expire(early.id)
    assert expired.status == "expired" and expired.url is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(early.id)

    later = client.v1.checkout.sessions.create(
        params=session_params(expires_at=int(time.time()) + 31 * 60)
    )
    sandbox.advance_clock(30 * 60)
    assert client.v1.checkout.sessions.retrieve(later.id).status == "open"
    sandbox.advance_clock(2 * 60)
    assert client.v1.checkout.sessions.retrieve(later.id).status == "expired"
    sandbox.wait_for(lambda: len(stripe_receiver.events_of_type("checkout.session.expired")) == 2)
    page = sandbox.http.get(f"/pay/{later.id}")
    assert "expired" in page.text


def test_expiry_loop_runs_by_itself(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    # Move the clock without the control API's immediate tick: the background loop must act.
    sandbox.app.state["sandbox"].clock.advance(25 * 3600)
    sandbox.wait_for(
        lambda: client.v1.checkout.sessions.retrieve(session.id).status == "expired", timeout=3
    )


def test_manual_capture_capture_cancel_and_refund(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    manual = session_params(payment_intent_data={"capture_method": "manual"})
    session = client.v1.checkout.sessions.create(params=manual)
    sandbox.pay(session.id)
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.status == "complete" and session.payment_status == "paid"
    pi = client.v1.payment_intents.retrieve(session.payment_intent)
    assert pi.status == "requires_capture" and pi.amount_capturable == 2800
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": pi.id})
    captured = client.v1.payment_intents.capture(pi.id)
    assert captured.status == "succeeded" and captured.amount_received == 2800
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.id.startswith("re_") and refund.amount == 2800 and refund.status == "succeeded"
    assert client.v1.refunds.retrieve(refund.id).payment_intent == pi.id

    other = client.v1.checkout.sessions.create(params=manual)
    sandbox.pay(other.id)
    held = client.v1.checkout.sessions.retrieve(other.id).payment_intent
    assert client.v1.payment_intents.cancel(held).status == "canceled"

    sandbox.wait_for(lambda: stripe_receiver.events_of_type("payment_intent.canceled"))
    refunded = stripe_receiver.events_of_type("charge.refunded")[0]["data"]["object"]
    assert refunded["refunded"] is True and refunded["amount_refunded"] == 2800
    types = [e.type for e in verify_stripe(stripe_receiver)]
    assert "payment_intent.amount_capturable_updated" in types
    assert "payment_intent.canceled" in types


def test_declined_then_delayed_methods(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(session.id, "declined")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    sandbox.pay(session.id, "async_succeeded")
    pending = client.v1.checkout.sessions.retrieve(session.id)
    assert pending.status == "complete" and pending.payment_status == "unpaid"
    failing = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(failing.id, "async_failed")
    sandbox.advance_clock(60)
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    assert client.v1.checkout.sessions.retrieve(failing.id).payment_status == "unpaid"
    sandbox.wait_for(
        lambda: (
            stripe_receiver.events_of_type("checkout.session.async_payment_failed")
            and stripe_receiver.events_of_type("checkout.session.async_payment_succeeded")
        )
    )
    types = [e.type for e in verify_stripe(stripe_receiver)]
    assert "payment_intent.payment_failed" in types
    assert "checkout.session.async_payment_succeeded" in types
    with pytest.raises(httpx.HTTPStatusError):
        sandbox.pay(session.id)  # no longer open


def test_events_retrieve_and_list(
    sandbox: RunningSandbox, client: stripe.StripeClient, stripe_receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    sandbox.pay(session.id)
    sandbox.wait_for(lambda: stripe_receiver.events_of_type("checkout.session.completed"))
    events = client.v1.events.list(params={"type": "checkout.session.completed"})
    assert len(events.data) == 1
    event = client.v1.events.retrieve(events.data[0].id)
    assert event.id.startswith("evt_") and event.data.object["id"] == session.id
    sandbox.wait_for(lambda: not client.v1.events.list(params={"delivery_success": False}).data)


def test_api_faults(sandbox: RunningSandbox, client: stripe.StripeClient) -> None:
    sandbox.api_faults(service="stripe", status=500, count=1)
    with pytest.raises(stripe.APIError):
        client.v1.checkout.sessions.list()
    client.v1.checkout.sessions.list()  # only the next call failed
    sandbox.api_faults(service="stripe", status=429, count=1)
    with pytest.raises(stripe.RateLimitError):
        client.v1.checkout.sessions.list()
    sandbox.api_faults(service="stripe", latency_ms=150)
    started = time.monotonic()
    client.v1.checkout.sessions.list()
    assert time.monotonic() - started >= 0.15
    sandbox.api_faults(service="stripe", latency_ms=0, status="timeout", count=1)
    impatient = stripe.StripeClient(
        api_key="sk_test_x",
        base_addresses={"api": sandbox.url},
        http_client=stripe.HTTPXClient(timeout=0.3, allow_sync_methods=True),
        max_network_retries=0,
    )
    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.checkout.sessions.list()


def test_the_api_key_is_taken_as_basic_auth_too(sandbox: RunningSandbox) -> None:
    """Stripe takes the secret key as a Bearer token or as Basic auth's user name with no
    password (its curl examples: `curl -u sk_test_…:`); hand-written calls to the sandbox
    failed with 401 on the second."""
    key = "sk_test_orderpass_sandbox"
    url = f"{sandbox.url}/v1/events?limit=1"
    assert httpx.get(url, auth=(key, "")).status_code == 200
    assert httpx.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    wrong = httpx.get(url, auth=("pk_test_not_a_secret_key", ""))
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "api_key_invalid"
    garbled = httpx.get(url, headers={"Authorization": "Basic !!!"})
    assert garbled.status_code == 401
    assert httpx.get(url).status_code == 401
