"""Scale-out: two web processes and two workers on one Postgres and Redis. A payment
webhook handled by one web process reaches a kitchen stream held by the other, and the
customer email goes out exactly once although two workers compete for it."""

from __future__ import annotations

import asyncio

import httpx

from app.orders.tables import PaidOrder
from tests.helpers.infra import TEST_ENV
from tests.helpers.orders import valid_order
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import start_web, start_worker
from tests.helpers.sse import events, logged_in, next_event


async def test_webhook_on_one_process_reaches_kitchen_on_the_other(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    with start_web() as web_a, start_web() as web_b, start_worker(), start_worker():
        # Stripe delivers to process A; the cook's screen is connected to process B.
        sandbox.configure(stripe_webhook_url=f"{web_a.url}/webhooks/stripe",
                          stripe_webhook_secret=TEST_ENV["STRIPE_WEBHOOK_SECRET"])
        cook = await logged_in(web_b, "kitchen@demo.test")
        try:
            async with cook.stream("GET", "/kitchen/demo/events") as stream_response:
                stream = events(stream_response).__aiter__()
                await next_event(stream, "board")  # the snapshot
                created = (await client.post("/api/orders",
                                             json=await valid_order(client))).json()
                session_id = created["payment_url"].rsplit("/", 1)[1]
                sandbox.pay(session_id)
                update = await next_event(stream, "tickets", timeout=15)
                assert created["id"] in update.data
        finally:
            await cook.aclose()
            sandbox.configure(stripe_webhook_url="")
        assert await PaidOrder.count() == 1
        # Both workers ran; the "payment received" email was sent once. (Up to 30 s: two
        # workers start beside two web processes, and a loaded CI machine once needed more
        # than the 10 s this waited before.)
        for _ in range(300):
            received = [message for message in sandbox.messages(to="ada@example.com")
                        if "payment" in message["subject"].lower()
                        and "received" in message["subject"].lower()]
            if received:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        received = [message for message in sandbox.messages(to="ada@example.com")
                    if "received" in message["subject"].lower()]
        assert len(received) == 1, [message["subject"] for message in
                                    sandbox.messages(to="ada@example.com")]
