"""Open unpaid orders are capped per email address and per client address (issue #14 item
11): each sends an email to the address typed in and holds Redis memory until its link
expires. A paid or closed order stops counting; the caps hold for the JSON API and the
HTML checkout alike, with a 429 that says what to do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.settings import get_settings, reset_settings_cache
from tests.helpers.orders import pay_and_post_webhook, temp_keys, valid_order
from tests.helpers.sandbox import RunningSandbox


@pytest.fixture
def caps(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    monkeypatch.setenv("UNPAID_ORDERS_PER_EMAIL", "3")
    monkeypatch.setenv("UNPAID_ORDERS_PER_IP", "5")
    reset_settings_cache()
    yield {"email": get_settings().unpaid_orders_per_email,
           "ip": get_settings().unpaid_orders_per_ip}
    monkeypatch.undo()
    reset_settings_cache()


async def order_for(client: httpx.AsyncClient, email: str) -> httpx.Response:
    body = await valid_order(client)
    body["customer"]["email"] = email
    return await client.post("/api/orders", json=body)


async def test_open_unpaid_orders_are_capped_per_email(
        client: httpx.AsyncClient, caps: dict[str, int], sandbox: RunningSandbox,
        redis: Any) -> None:
    created = [await order_for(client, "victim@example.com") for _ in range(caps["email"])]
    assert [response.status_code for response in created] == [201] * caps["email"]
    refused = await order_for(client, "Victim@Example.com")
    assert refused.status_code == 429, refused.text
    assert refused.json()["extra"][0]["key"] == "customer.email"
    assert "unpaid orders are already open" in refused.text
    assert len(sandbox.messages(to="victim@example.com")) == 0  # nothing queued for it
    assert len(await temp_keys(redis)) == caps["email"]
    # Another address is not affected; paying one frees its place.
    assert (await order_for(client, "someone@example.com")).status_code == 201
    assert await pay_and_post_webhook(client, sandbox, created[0].json()) == "created"
    assert (await order_for(client, "victim@example.com")).status_code == 201


async def test_open_unpaid_orders_are_capped_per_client_address(
        client: httpx.AsyncClient, caps: dict[str, int]) -> None:
    for n in range(caps["ip"]):
        assert (await order_for(client, f"guest{n}@example.com")).status_code == 201
    refused = await order_for(client, "guest-last@example.com")
    assert refused.status_code == 429, refused.text
    assert "from your network" in refused.text
    # The HTML checkout shares the cap and says so on the page.
    await client.get("/r/demo")
    item = (await client.get("/api/restaurants/demo/menu")).json()["items"][0]["id"]
    page = await client.post("/r/demo/checkout", data={
        "_csrf_token": client.cookies["csrftoken"], f"qty-{item}": "1", "name": "Ada",
        "email": "ada@example.com", "fulfillment": "pickup"})
    assert page.status_code == 422 and "from your network" in page.text
