"""A Stripe 400 (`invalid_request_error`) when making a payment link is permanent: Stripe
saved that answer under the request's idempotency key and would only repeat it. Here the
sandbox's clock runs ahead, so it refuses the `expires_at` the app sends ("must be at least
30 minutes in the future"): the order is not deferred to the worker as if Stripe were slow,
no retry job is queued, and the diner reads plainly that no link could be made and nothing
was charged (page and email), not that the provider is slow to answer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from arq.connections import ArqRedis

from app.notifications.tables import EmailMessage
from app.settings import get_settings
from tests.helpers.orders import valid_order
from tests.helpers.payments import post_event
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.stripe_events import sandbox_events
from workers.order_jobs import create_payment_link


@pytest.fixture
def clock_ahead(sandbox: RunningSandbox) -> Iterator[None]:
    ahead = get_settings().payment_link_minutes * 60 + 3600
    sandbox.advance_clock(ahead)
    yield
    sandbox.advance_clock(-ahead)


async def test_an_expires_at_refusal_fails_the_link_for_good(
        client: httpx.AsyncClient, redis: ArqRedis, clock_ahead: None) -> None:
    response = await client.post("/api/orders", json=await valid_order(client))
    assert response.status_code == 202, response.text
    created = response.json()
    assert created["payment_url"] is None and created["status"] == "link_failed", created
    ref = created["id"]
    assert not [job for job in await redis.queued_jobs()
                if job.function == "create_payment_link"]  # no retry as if transient
    page = await client.get(f"/orders/{ref}")
    assert "could not set up payment" in page.text and "Nothing was charged" in page.text
    assert "slow to answer" not in page.text
    kinds = [row["kind"] for row in await EmailMessage.select(EmailMessage.kind).where(
        EmailMessage.order_ref == ref)]
    assert kinds == ["link_failed"]
    # A worker job left from before does not retry it either.
    assert await create_payment_link({"redis": redis, "job_try": 1}, ref) == "already-linked"


async def test_renewing_into_an_expires_at_refusal_says_so_plainly(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    created = (await client.post("/api/orders", json=await valid_order(client))).json()
    ref = created["id"]
    session_id = created["payment_url"].rsplit("/", 1)[1]
    sandbox.pay(session_id, "async_failed")  # the link is spent: a new one is asked for
    ahead = get_settings().payment_link_minutes * 60 + 3600
    sandbox.advance_clock(ahead)
    try:
        [failed] = sandbox_events(sandbox.url, session_id=session_id,
                                  types={"checkout.session.async_payment_failed"})
        assert await post_event(client, failed) == "payment_failed"
        await client.get(f"/orders/{ref}")
        renewed = await client.post(f"/orders/{ref}/payment-link",
                                    headers={"hx-request": "true",
                                             "x-csrftoken": client.cookies["csrftoken"]})
        assert renewed.status_code == 200, renewed.text
        assert "could not set up payment" in renewed.text, renewed.text
        assert "slow to answer" not in renewed.text
        assert not [job for job in await redis.queued_jobs()
                    if job.function == "create_payment_link"]
    finally:
        sandbox.advance_clock(-ahead)
