"""A manual-capture hold Stripe canceled (it lapses 7 days after payment; the sandbox's clock is
moved 8 days): the cook's accept cannot capture, so the order must not look accepted and paid.
It is rejected with the reason, the hold counts as released (`voided`, never charged), the
ticket leaves the board, the cook reads why and the diner is emailed once. Stripe's
`payment_intent.canceled` for such a hold does the same before anyone presses accept, once
however often it arrives; for a hold we released ourselves it changes nothing."""

from __future__ import annotations

import json

import httpx
import pytest
import stripe
from arq.connections import ArqRedis

from app.orders import lifecycle, reject_reasons
from app.orders.tables import PaidOrder
from app.payments import settlement, stripe_gateway
from tests.helpers.accounts import login
from tests.helpers.logs import capture_info
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import emails_of, events_about, post_event, reload
from tests.helpers.sandbox import RunningSandbox

EIGHT_DAYS = 8 * 24 * 60 * 60
HX = {"hx-request": "true"}


def intent_of(sdk: stripe.StripeClient, intent_id: str) -> stripe.PaymentIntent:
    return sdk.v1.payment_intents.retrieve(intent_id)


async def test_accepting_after_the_hold_lapsed_voids_the_order_and_tells_the_cook(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis
) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    intent = str(order.stripe_payment_intent_id)
    sandbox.advance_clock(EIGHT_DAYS)  # no webhook reaches the app: the accept finds out

    token = await login(client, "kitchen@demo.test")
    response = await client.post(f"/kitchen/demo/orders/{order.public_id}/accept",
                                 data={"_csrf_token": token, "from": "paid"}, headers=HX)
    assert response.status_code == 200, response.text
    assert response.text == ""  # the ticket leaves the board
    outcome = json.loads(response.headers["hx-trigger"])["orderpass:outcome"]
    assert outcome["ok"] is False
    assert outcome["message"].startswith(
        f"#{order.ticket_number} was not accepted: the card hold expired; this order cannot "
        "be charged.")

    after = await reload(order.public_id)
    assert after.status == "voided" and after.accepted_at is None
    assert after.voided_at is not None and not after.needs_review
    assert "hold on your card expired" in after.reject_reason
    pi = intent_of(sdk, intent)
    assert pi.status == "canceled" and pi.amount_received == 0  # nothing was captured
    assert (await client.get(f"/api/orders/{order.public_id}")).json()["status"] != "accepted"
    board = await client.get("/kitchen/demo")
    assert f'data-ref="{order.public_id}"' not in board.text
    page = (await client.get(f"/orders/{order.public_id}")).text
    assert "Your card was not charged" in page
    emails = await emails_of(order.public_id)
    assert emails.count(f"order_rejected/{order.public_id}") == 1
    assert not any(key.startswith(("order_accepted/", "payment_received/")) for key in emails)

    # Pressed again on a stale screen: refused as already moved on, nothing new sent.
    again = await client.post(f"/kitchen/demo/orders/{order.public_id}/accept",
                              data={"_csrf_token": token, "from": "paid"}, headers=HX)
    assert again.status_code == 409
    assert (await emails_of(order.public_id)) == emails


async def test_the_service_refuses_the_accept_with_the_plain_reason(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    sandbox.advance_clock(EIGHT_DAYS)
    try:
        await lifecycle.apply_action(order.public_id, "accept", actor="t")
    except lifecycle.HoldExpired as error:
        assert "the card hold expired; this order cannot be charged" in str(error)
    else:
        raise AssertionError("accepted an order whose hold lapsed")
    assert (await reload(order.public_id)).status == "voided"


async def test_rejecting_after_the_hold_lapsed_counts_it_released_without_a_warning(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cook rejects a booking whose hold Stripe canceled meanwhile: Stripe refuses our
    cancel (400 `payment_intent_unexpected_state`, the intent `canceled` in the error), which
    is the outcome we wanted. No "stripe call failed" warning for on-call to chase: one info
    line naming the order; the order is voided and the diner told once they were not charged."""
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    sandbox.advance_clock(EIGHT_DAYS)  # no webhook reaches the app: the reject finds out
    stripe_lines = capture_info(monkeypatch, stripe_gateway).entries
    settlement_lines = capture_info(monkeypatch, settlement).entries

    rejected = await lifecycle.apply_action(order.public_id, "reject", actor="t",
                                            reason="out of dough")

    loud = [line for line in stripe_lines + settlement_lines
            if line["log_level"] in ("warning", "error")]
    assert loud == [], loud
    released = [line for line in settlement_lines if line.get("order_id") == order.public_id
                and line["event"] == "authorisation released already: the card hold lapsed"]
    assert [(line["log_level"], line["reason"]) for line in released] == [("info", "expired")]
    assert rejected.status == "voided" and rejected.voided_at is not None
    assert not rejected.needs_review and rejected.reject_reason == "out of dough"
    assert intent_of(sdk, str(order.stripe_payment_intent_id)).status == "canceled"
    page = (await client.get(f"/orders/{order.public_id}")).text
    assert "Your card was not charged" in page
    emails = await emails_of(order.public_id)
    assert emails.count(f"order_rejected/{order.public_id}") == 1
    assert not any(key.startswith("order_refunded/") for key in emails)


async def test_stripes_canceled_event_voids_a_booking_once(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient
) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    intent = str(order.stripe_payment_intent_id)
    sandbox.advance_clock(EIGHT_DAYS)
    [event] = events_about(sandbox, {"payment_intent.canceled"}, intent)
    assert event["data"]["object"]["cancellation_reason"] == "expired"

    assert await post_event(client, event) == "hold_lapsed"
    after = await reload(order.public_id)
    assert after.status == "voided" and after.auto_rejected  # the kitchen sees a notice
    assert "hold on your card expired" in after.reject_reason
    emails = await emails_of(order.public_id)
    assert emails.count(f"order_rejected/{order.public_id}") == 1
    # The cook's notice says why and what to do, not the timer's "nobody accepted it".
    await login(client, "kitchen@demo.test")
    notice = " ".join((await client.get("/kitchen/demo")).text.split())
    assert (f"#{order.ticket_number} rejected" in notice
            and "the card hold expired</strong> before anyone accepted it" in notice
            and "Do not cook it." in notice), notice
    assert f"#{order.ticket_number} auto-rejected" not in notice

    assert await post_event(client, event) == "hold_canceled_known"  # redelivered
    assert (await reload(order.public_id)).version == after.version
    assert await emails_of(order.public_id) == emails
    assert intent_of(sdk, intent).status == "canceled"


async def test_the_canceled_event_of_our_own_release_changes_nothing(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    rejected = await lifecycle.apply_action(order.public_id, "reject", actor="t",
                                            reason="out of dough")
    assert rejected.status == "voided"
    emails = await emails_of(order.public_id)
    [event] = events_about(sandbox, {"payment_intent.canceled"},
                           str(order.stripe_payment_intent_id))
    assert await post_event(client, event) == "hold_canceled_known"
    after = await reload(order.public_id)
    assert after.version == rejected.version and after.reject_reason == "out of dough"
    assert await emails_of(order.public_id) == emails


async def test_a_german_diner_reads_the_lapsed_holds_reason_in_german(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    await PaidOrder.update({PaidOrder.language: "de"}).where(PaidOrder.id == order.id)
    sandbox.advance_clock(EIGHT_DAYS)
    await lifecycle.lapse_hold(order.public_id, actor="t")
    assert (await reload(order.public_id)).reject_reason == reject_reasons.HOLD_LAPSED
    page = " ".join((await client.get(f"/orders/{order.public_id}",
                                      headers={"accept-language": "de"})).text.split())
    assert "Die Autorisierung Ihrer Karte ist abgelaufen" in page, page[-3000:]
    assert "The hold on your card expired" not in page
