"""An order placed while Stripe is down waits on its status page for the link the worker
makes later: the page promises the link "will appear on this page", so its live stream
(the same `/orders/{ref}/events` that follows a paid order) must say so when the worker's
job makes the link, gives up on it, or the link expires. Events carry no order data: the
frame makes the page fetch its progress fragment again, which then shows the new state.

Outside view: a real web process holds the diner's stream; the worker's jobs run as the
worker runs them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.helpers.orders import valid_order
from tests.helpers.payments import post_event
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess, start_web
from tests.helpers.sse import Event, next_event, status_stream
from tests.helpers.stripe_events import sandbox_events
from workers.order_jobs import create_payment_link, expire_payment_link

# Well inside the stream's once-a-minute snapshot (app/live/hub.py RESYNC_S), which would
# otherwise bring the news at last: the page must hear of the change now, not a minute on.
FRAME_TIMEOUT_S = 8.0


@pytest.fixture(scope="module")
def web() -> Iterator[RunningProcess]:
    with start_web() as server:
        yield server


async def _placed_while_stripe_is_down(client: httpx.AsyncClient,
                                       sandbox: RunningSandbox) -> dict[str, Any]:
    sandbox.api_faults(service="stripe", status=500, count=1000)
    response = await client.post("/api/orders", json=await valid_order(client))
    assert response.status_code == 202, response.text
    order: dict[str, Any] = response.json()
    assert order["payment_url"] is None and order["status"] == "awaiting_payment"
    return order


async def _next_frame(stream: AsyncIterator[Event]) -> dict[str, Any]:
    try:
        event = await asyncio.wait_for(next_event(stream, "order-updated", FRAME_TIMEOUT_S),
                                       FRAME_TIMEOUT_S)
    except TimeoutError:
        raise AssertionError(f"the status stream sent no update within {FRAME_TIMEOUT_S} s"
                             ) from None
    body: dict[str, Any] = json.loads(event.data)
    return body


async def _fragment(web: RunningProcess, ref: str, language: str = "en") -> str:
    """The progress fragment the page fetches on each frame (its hidden hx-get)."""
    async with httpx.AsyncClient(base_url=web.url, timeout=10) as http:
        response = await http.get(f"/orders/{ref}/progress", headers={
            "HX-Request": "true", "Accept-Language": language})
    assert response.status_code == 200, response.text
    return " ".join(response.text.split())


async def test_the_waiting_page_hears_when_the_worker_makes_the_link(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: Any,
        web: RunningProcess) -> None:
    order = await _placed_while_stripe_is_down(client, sandbox)
    assert "Your payment link is on its way" in await _fragment(web, order["id"])
    async with status_stream(web.url, order["id"]) as page:
        sandbox.api_faults(service="stripe", status=500, count=0)  # Stripe is well again
        assert await create_payment_link({"redis": redis, "job_try": 2},
                                         order["id"]) == "linked"
        frame = await _next_frame(page)
        assert frame["id"] == order["id"] and frame["status"] == "awaiting_payment"
    url = (await client.get(f"/api/orders/{order['id']}")).json()["payment_url"]
    assert url
    shown = await _fragment(web, order["id"])
    assert url in shown and "Pay now" in shown and "on its way" not in shown
    german = await _fragment(web, order["id"], "de-DE,de;q=0.9")
    assert url in german and "Jetzt bezahlen" in german

    # The link's life ends unpaid: the page hears that too (and offers a new link).
    async with status_stream(web.url, order["id"]) as page:
        session_id = url.rsplit("/", 1)[1]
        assert await expire_payment_link({"redis": redis}, order["id"],
                                         session_id) == "expired"
        assert (await _next_frame(page))["status"] == "payment_expired"
    assert "Get a new payment link" in await _fragment(web, order["id"])


async def test_the_waiting_page_hears_when_the_worker_gives_up(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: Any,
        web: RunningProcess) -> None:
    order = await _placed_while_stripe_is_down(client, sandbox)
    try:
        async with status_stream(web.url, order["id"]) as page:
            # the job's last try, Stripe still down: no link can be made
            assert await create_payment_link({"redis": redis, "job_try": 8},
                                             order["id"]) == "failed"
            assert (await _next_frame(page))["status"] == "link_failed"
    finally:
        sandbox.api_faults(service="stripe", status=500, count=0)
    shown = await _fragment(web, order["id"])
    assert "We could not set up payment for this order" in shown
    assert "on its way" not in shown
    german = await _fragment(web, order["id"], "de-DE,de;q=0.9")
    assert "Wir konnten die Zahlung für diese Bestellung nicht einrichten" in german


async def test_the_page_hears_when_a_delayed_payment_fails(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: Any,
        web: RunningProcess) -> None:
    """A bank debit that fails days later reaches us as Stripe's event: the diner's open
    page says so and offers a new link, without a reload."""
    created = (await client.post("/api/orders", json=await valid_order(client))).json()
    ref, session_id = created["id"], created["payment_url"].rsplit("/", 1)[1]
    async with status_stream(web.url, ref) as page:
        sandbox.pay(session_id, "async_failed")
        sandbox.advance_clock(60)  # the bank answers later
        [failed] = sandbox_events(sandbox.url, session_id=session_id,
                                  types={"checkout.session.async_payment_failed"})
        assert await post_event(client, failed) == "payment_failed"
        assert (await _next_frame(page))["status"] == "payment_failed"
    shown = await _fragment(web, ref)
    assert "Get a new payment link" in shown and "Pay now" not in shown
