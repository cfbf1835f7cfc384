"""`POST /webhooks/resend` is answered ahead of Litestar's router
(app/notifications/webhook_route.py): the same answers as the controller gave, the same
limits, headers and metrics; other methods and paths still reach the router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import httpx
from arq.connections import ArqRedis
from litestar import Litestar
from litestar.types import Receive, Scope, Send
from prometheus_client import REGISTRY

from app.notifications.webhook_route import resend_webhook_route
from app.notifications.webhooks import MAX_BODY_BYTES
from app.platform.tables import WebhookDelivery
from tests.helpers.resend_events import post, sent_email, signed, status_of
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.security_headers import assert_secure_headers


def requests_counted(status: str) -> float:
    return REGISTRY.get_sample_value(
        "orderpass_http_request_duration_seconds_count",
        {"method": "POST", "route": "/webhooks/resend", "status": status}) or 0.0


async def test_a_body_past_the_limit_is_refused_unread_and_nothing_is_recorded(
        client: httpx.AsyncClient) -> None:
    body, headers = signed({"type": "email.delivered", "padding": "x" * MAX_BODY_BYTES,
                            "data": {"email_id": "nope"}})

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for start in range(0, len(body), 16 * 1024):
            yield body[start:start + 16 * 1024]

    declared = await post(client, body, headers)
    streamed = await client.post("/webhooks/resend", content=chunks(), headers=headers)
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert response.json()["status_code"] == 413
        assert "larger than this address accepts" in response.json()["detail"]
        assert response.headers["x-request-id"]
        assert_secure_headers(response)
    assert await WebhookDelivery.count().where(WebhookDelivery.provider == "resend") == 0


async def test_an_event_is_applied_answered_and_counted_as_before(
        client: httpx.AsyncClient, redis: ArqRedis, make_order: Any, ctx: Any,
        sandbox: RunningSandbox) -> None:
    ref, events = await sent_email(redis, make_order, ctx, sandbox, "delivered@resend.dev")
    delivered = next(event for event in events if event["type"] == "email.delivered")
    before = requests_counted("2xx")
    body, headers = signed(delivered)
    # Litestar answers a path with a trailing slash as the path itself: so does the route.
    response = await client.post("/webhooks/resend/", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "processed"}
    assert response.headers["x-request-id"]
    assert_secure_headers(response)
    assert "set-cookie" not in response.headers  # no session for Resend
    assert await status_of(ref) == "delivered"
    assert requests_counted("2xx") == before + 1
    forged = await post(client, body, {**headers, "svix-signature": "v1,bm9wZQ=="})
    assert forged.status_code == 400 and forged.json() == {"detail": "invalid signature"}


async def test_other_methods_still_reach_the_router(client: httpx.AsyncClient) -> None:
    response = await client.get("/webhooks/resend")
    assert response.status_code == 405
    assert response.json() == {"status_code": 405, "detail": "Method Not Allowed"}


async def test_the_route_answers_resend_itself_and_passes_everything_else_on() -> None:
    reached: list[str] = []

    async def router(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(f"{scope['method']} {scope['path']}")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = SimpleNamespace(state=SimpleNamespace())
    route = resend_webhook_route(router, cast(Litestar, app))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=route),
                                 base_url="http://test") as direct:
        passed = [await direct.get("/webhooks/resend"), await direct.post("/webhooks/stripe"),
                  await direct.post("/webhooks/resend/x")]
    assert [response.status_code for response in passed] == [204, 204, 204]
    assert reached == ["GET /webhooks/resend", "POST /webhooks/stripe",
                       "POST /webhooks/resend/x"]
