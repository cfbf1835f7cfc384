"""Kitchen test fixtures: logged-in clients (with the CSRF token at hand) and a fake Stripe."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from litestar import Litestar

from tests.helpers.server import RunningProcess, start_web

PASSWORD = "demo"


async def login(client: httpx.AsyncClient, email: str) -> str:
    """Log `client` in as `email`; returns the CSRF token to send with forms."""
    page = await client.get("/login")
    assert page.status_code == 200, page.text
    token = client.cookies["csrftoken"]
    response = await client.post("/login", data={
        "email": email, "password": PASSWORD, "_csrf_token": token})
    assert response.status_code == 303, response.text
    return token


def csrf_from_html(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "no csrf token in page"
    return match.group(1)


@pytest.fixture(scope="module")
def web() -> Iterator[RunningProcess]:
    """The web app as a real server process (SSE, cross-process pub/sub, browsers)."""
    with start_web(env={"SSE_HEARTBEAT_SECONDS": "1"}) as server:
        yield server


@pytest.fixture
async def second_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser (own cookies) on the same app."""
    async with LifespanManager(app) as manager, httpx.AsyncClient(
        transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
    ) as test_client:
        yield test_client


class FakeGateway:
    """Stands in for StripeGateway; records calls and can be told to fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.fail: set[str] = set()

    async def _record(self, what: str, intent: str, key: str) -> dict[str, Any]:
        self.calls.append((what, intent, key))
        if what in self.fail:
            raise RuntimeError(f"stripe {what} failed")
        return {"id": intent}

    async def capture_payment_intent(self, intent: str, *, idempotency_key: str, **_: Any) -> Any:
        return await self._record("capture", intent, idempotency_key)

    async def cancel_payment_intent(self, intent: str, *, idempotency_key: str, **_: Any) -> Any:
        return await self._record("cancel", intent, idempotency_key)

    async def refund_payment_intent(self, intent: str, *, idempotency_key: str, **_: Any) -> Any:
        return await self._record("refund", intent, idempotency_key)


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> FakeGateway:
    fake = FakeGateway()
    monkeypatch.setattr("app.orders.lifecycle._gateway", lambda: fake)
    return fake


@pytest.fixture
def emails(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []

    async def record(redis: Any, kind: str, order_ref: str) -> None:
        sent.append((kind, order_ref))

    monkeypatch.setattr("app.orders.lifecycle._enqueue_email", record)
    return sent
