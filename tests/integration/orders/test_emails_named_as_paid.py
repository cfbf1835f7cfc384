"""Emails about a paid order name the restaurant as it was named when the diner paid, as the
receipt's seller is kept from then: renamed between the payment and the "ready" email
("Demo Bistro" became "Bistro Nova"), the diner was told an order at a place they never
ordered from was ready. Kept with the order, a retried send also renders what the first try
did (Resend's idempotency key refuses another body). The restaurant's phone and address stay
today's: they are how to reach it now."""

from __future__ import annotations

import httpx
from arq.connections import ArqRedis

from app.orders import lifecycle
from app.restaurants.tables import Restaurant
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import send_as_worker
from tests.helpers.sandbox import RunningSandbox

DINER = "ada@example.com"
KITCHEN = "kitchen@demo.test"


async def test_the_ready_email_names_the_restaurant_the_diner_paid(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    ref = order.public_id
    await Restaurant.update({Restaurant.name: "Bistro Nova",
                             Restaurant.phone: "+49 30 7654321"}).where(
        Restaurant.slug == "demo")
    await lifecycle.apply_action(ref, "accept", actor=KITCHEN, redis=redis, prep_minutes=15)
    await lifecycle.apply_action(ref, "ready", actor=KITCHEN, redis=redis)
    for kind in ("order_ready", "payment_received"):
        assert (await send_as_worker(redis, sandbox, kind, ref)).startswith("sent"), kind

    def mine() -> list[dict[str, str]]:
        return [message for message in sandbox.messages(to=DINER) if ref in message["text"]]
    messages = sandbox.wait_for(lambda: len(mine()) >= 2 and mine(), timeout=10)
    assert len(messages) == 2, [message["subject"] for message in messages]
    for message in messages:
        assert "Demo Bistro" in message["subject"], message["subject"]
        for part in ("subject", "text", "html"):
            assert "Bistro Nova" not in message[part], (part, message[part][:2000])
        assert "+49 30 7654321" in message["text"]  # how to reach it: today's
