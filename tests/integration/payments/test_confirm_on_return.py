"""A diner back from Stripe's checkout (the success URL) whose payment's webhook is late (a
Stripe delivery backlog, an endpoint misconfigured): the landing page asks Stripe about the
order's Checkout Session and records the paid order then, through the webhook's own path, as
Stripe's fulfilment guide recommends. The kitchen gets it at once, exactly once: the webhook
arriving later changes nothing. An unpaid session records nothing, and reloading the landing
page does not ask Stripe again and again."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from arq.connections import ArqRedis

from app.orders.tables import PaidOrder
from app.payments import stripe_gateway
from tests.helpers.logs import capture_info
from tests.helpers.orders import paid_order_via_sandbox, pay_without_webhook, submit
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.stripe_events import paid_events, post_event


async def _status(client: httpx.AsyncClient, order_id: str, want: str,
                  timeout: float = 8.0) -> str:
    status = ""
    for _ in range(int(timeout / 0.05)):
        status = (await client.get(f"/api/orders/{order_id}")).json()["status"]
        if status == want:
            break
        await asyncio.sleep(0.05)
    return status


async def test_the_landing_page_records_a_paid_order_whose_webhook_is_late(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order_id, session_id = await pay_without_webhook(client, sandbox)
    page = await client.get(f"/orders/{order_id}",
                            params={"checkout": "success", "session_id": session_id})
    assert page.status_code == 200
    assert await _status(client, order_id, "paid") == "paid"
    assert await PaidOrder.count().where(PaidOrder.public_id == order_id) == 1
    # Stripe's webhook, late: the same order, not a second one.
    [event] = paid_events(sandbox, session_id)
    answer = await post_event(client, event)
    assert answer.status_code == 200, answer.text
    assert await PaidOrder.count().where(
        PaidOrder.stripe_checkout_session_id == session_id) == 1
    # The late webhook took no ticket number: the kitchen's next order is the next number.
    first = await PaidOrder.objects().get(PaidOrder.public_id == order_id)
    following = await paid_order_via_sandbox(client, sandbox)
    assert first is not None and following.ticket_number == first.ticket_number % 999 + 1


async def test_an_unpaid_session_records_nothing_and_stripe_is_asked_once(
        client: httpx.AsyncClient, sandbox: RunningSandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    order_id, session_id = await submit(client)
    calls = capture_info(monkeypatch, stripe_gateway).entries
    for _ in range(3):  # a diner reloading, or someone who typed the URL
        page = await client.get(f"/orders/{order_id}",
                                params={"checkout": "success", "session_id": session_id})
        assert page.status_code == 200
    def reads() -> list[dict[str, object]]:
        return [line for line in calls if line.get("call") == "checkout.sessions.retrieve"]

    for _ in range(160):  # asked after its grace (on_return.RETURN_GRACE_S)
        if reads():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert len(reads()) == 1 and reads()[0]["order_id"] == order_id, calls
    assert (await client.get(f"/api/orders/{order_id}")).json()["status"] == (
        "awaiting_payment")
    assert await PaidOrder.count().where(PaidOrder.public_id == order_id) == 0
