"""`POST /webhooks/stripe` is answered ahead of Litestar's router (app/payments/webhook_route):
the same answers as any other route gives, the same limits, headers, metrics and counts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import cast

import httpx
from arq.connections import ArqRedis
from litestar import Litestar
from litestar.types import Receive, Scope, Send
from prometheus_client import REGISTRY

from app.ops.request_metrics import webhook_http_counts
from app.orders.tables import PaidOrder
from app.payments.tables import StripeEvent
from app.payments.webhook_controller import MAX_WEBHOOK_BYTES
from app.payments.webhook_route import stripe_webhook_route
from tests.helpers.orders import submit_and_pay
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.security_headers import assert_secure_headers
from tests.helpers.stripe_events import signed_request

TOO_LARGE = {"status_code": 413,
             "detail": "The request is larger than this address accepts (256 KB at most)."}


def requests_counted(status: str) -> float:
    return REGISTRY.get_sample_value(
        "orderpass_http_request_duration_seconds_count",
        {"method": "POST", "route": "/webhooks/stripe", "status": status}) or 0.0


async def test_a_body_past_the_limit_is_refused_unread_and_nothing_is_written(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    _order_id, _session_id, event = await submit_and_pay(client, sandbox)
    event["padding"] = "x" * MAX_WEBHOOK_BYTES  # genuinely signed, but too large
    payload, headers = signed_request(event)
    declared = await client.post("/webhooks/stripe", content=payload, headers=headers)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start:start + 64 * 1024]

    streamed = await client.post("/webhooks/stripe", content=chunks(), headers=headers)
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert response.json() == TOO_LARGE
        assert response.headers["x-request-id"]
        assert_secure_headers(response)
    assert await PaidOrder.count() == 0 and await StripeEvent.count() == 0


async def test_a_paid_event_is_answered_counted_and_labelled_as_before(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order_id, _session_id, event = await submit_and_pay(client, sandbox)
    before, counts_before = requests_counted("2xx"), await webhook_http_counts(redis)
    payload, headers = signed_request(event)
    # Litestar answers a path with a trailing slash as the path itself: so does the route.
    response = await client.post("/webhooks/stripe/", content=payload, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.content) == {"result": "created"}
    assert response.headers["x-request-id"]
    assert_secure_headers(response)
    assert "set-cookie" not in response.headers  # no session for Stripe
    assert await PaidOrder.count().where(PaidOrder.public_id == order_id) == 1
    assert requests_counted("2xx") == before + 1
    counts = await webhook_http_counts(redis)
    assert counts["total"] == counts_before["total"] + 1


async def test_other_methods_still_reach_the_router(client: httpx.AsyncClient) -> None:
    response = await client.get("/webhooks/stripe")
    assert response.status_code == 405
    assert response.json() == {"status_code": 405, "detail": "Method Not Allowed"}


async def test_the_route_answers_stripe_itself_and_passes_everything_else_on() -> None:
    reached: list[str] = []

    async def router(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(f"{scope['method']} {scope['path']}")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = SimpleNamespace(state=SimpleNamespace(redis=None))  # a bad signature needs none
    route = stripe_webhook_route(router, cast(Litestar, app))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=route),
                                 base_url="http://test") as direct:
        refused = await direct.post("/webhooks/stripe", content=b"{}",
                                    headers={"stripe-signature": "t=1,v1=nope"})
        passed = [await direct.get("/webhooks/stripe"), await direct.post("/webhooks/resend"),
                  await direct.post("/webhooks/stripe/x")]
    assert refused.status_code == 400 and "signature" in refused.json()["error"]
    assert [response.status_code for response in passed] == [204, 204, 204]
    assert reached == ["GET /webhooks/stripe", "POST /webhooks/resend",
                       "POST /webhooks/stripe/x"]
