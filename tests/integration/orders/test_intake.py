"""Order intake through the real stripe SDK and the sandbox: links, prices, validation."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from app.orders.api_controller import MAX_ORDER_BODY_BYTES
from app.platform.tables import FunnelDaily
from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.orders import LONGEST_PHONE, menu, temp_keys, valid_order
from tests.helpers.sandbox import RunningSandbox, stripe_client


async def test_order_gets_a_payment_link_matching_the_menu(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    body = await valid_order(client)
    items = (await menu(client))["items"]
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"].startswith("TEMP-")
    assert created["status"] == "awaiting_payment"
    expected_total = items[0]["price"]["amount"] * 2 + items[2]["price"]["amount"]
    assert created["total"] == {"amount": expected_total, "currency": "eur"}
    assert created["payment_url"].startswith(sandbox.url + "/pay/cs_test_")
    assert created["status_url"].endswith(f"/orders/{created['id']}")

    stripe = stripe_client(sandbox.url)
    session_id = created["payment_url"].rsplit("/", 1)[1]
    session = stripe.v1.checkout.sessions.retrieve(session_id)
    assert session.amount_total == expected_total
    assert session.client_reference_id == created["id"]
    assert session.metadata["temp_order_id"] == created["id"]
    assert session.metadata["restaurant"] == "demo"
    assert session.customer_email == "ada@example.com"
    line_items = stripe.v1.checkout.sessions.line_items.list(session_id).data
    assert [(item.description, item.quantity, item.amount_total) for item in line_items] == [
        (items[0]["name"], 2, items[0]["price"]["amount"] * 2),
        (items[2]["name"], 1, items[2]["price"]["amount"]),
    ]
    # Stripe's window is 30 min to 24 h; the default TTL is 60 minutes.
    assert 59 * 60 <= session.expires_at - session.created <= 61 * 60

    status = (await client.get(f"/api/orders/{created['id']}")).json()
    assert status["status"] == "awaiting_payment"
    assert status["payment_url"] == created["payment_url"]
    assert [line["notes"] for line in status["items"]] == ["extra hot", ""]
    assert len(await temp_keys(redis)) == 1
    funnel = await FunnelDaily.select().first()
    assert funnel is not None
    assert (funnel["submitted"], funnel["link_created"]) == (1, 1)


async def test_prices_from_the_client_are_ignored(client: httpx.AsyncClient) -> None:
    body = await valid_order(client)
    body["items"][0]["price"] = 1
    body["items"][0]["unit_amount"] = 1
    body["total"] = {"amount": 1, "currency": "eur"}
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 201
    items = (await menu(client))["items"]
    assert response.json()["total"]["amount"] == (
        items[0]["price"]["amount"] * 2 + items[2]["price"]["amount"])


def _mutate(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(body)
    target: Any = mutated
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if value is DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return mutated


DELETE = object()


@pytest.mark.parametrize(("path", "value", "status", "field"), [
    ("restaurant", "nowhere", 404, "restaurant"),
    ("items.0.menu_item_id", 999999, 400, "items[0].menu_item_id"),
    # Beyond Postgres `integer` (schemathesis sent one; it was a 500, not a 400).
    ("items.0.menu_item_id", 2**100, 400, "items[0].menu_item_id"),
    ("items.0.quantity", 0, 400, "items[0].quantity"),
    ("items.0.quantity", 100, 400, "items[0].quantity"),
    ("items.0.notes", "x" * 201, 400, "items[0].notes"),
    ("items", [], 400, "items"),
    ("customer.email", "not-an-email", 400, "customer.email"),
    ("customer.name", "", 400, "customer.name"),
    ("customer.name", "n" * 121, 400, "customer.name"),
    ("customer.phone", "1" * 41, 400, "customer.phone"),
    ("notes", "n" * 501, 400, "notes"),
    ("fulfillment", "drone", 400, "fulfillment"),
    ("fulfillment", "delivery", 400, "delivery_address"),
    ("fulfillment", "dine_in", 400, "table"),
    ("customer", DELETE, 400, "customer"),
])
async def test_bad_input_names_the_field_and_stores_nothing(
    client: httpx.AsyncClient, redis: ArqRedis, sandbox: RunningSandbox,
    path: str, value: Any, status: int, field: str,
) -> None:
    body = _mutate(await valid_order(client), path, value)
    response = await client.post("/api/orders", json=body)
    assert response.status_code == status, response.text
    keys = [problem["key"] for problem in response.json()["extra"]]
    assert field in keys, response.json()
    assert await temp_keys(redis) == []
    assert await FunnelDaily.count() == 0
    assert stripe_client(sandbox.url).v1.checkout.sessions.list().data == []


async def test_more_than_fifty_lines_is_refused(client: httpx.AsyncClient) -> None:
    body = await valid_order(client)
    body["items"] = [body["items"][0]] * 51
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 400
    assert "items" in [problem["key"] for problem in response.json()["extra"]]


async def test_sold_out_item_and_closed_restaurant_are_refused(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    body = await valid_order(client)
    await MenuItem.update({MenuItem.available: False}).where(
        MenuItem.id == body["items"][1]["menu_item_id"])
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 400
    assert response.json()["extra"] == [
        {"key": "items[1].menu_item_id", "message": "Margherita pizza is sold out"}]

    await Restaurant.update({Restaurant.accepting_orders: False}).where(
        Restaurant.slug == "demo")
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 409
    assert response.json()["extra"][0]["key"] == "restaurant"
    assert await temp_keys(redis) == []


async def test_item_from_another_restaurant_is_unknown(client: httpx.AsyncClient) -> None:
    body = await valid_order(client)
    other = (await menu(client, "demo-2"))["items"][0]["id"]
    body["items"][0]["menu_item_id"] = other
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "items[0].menu_item_id"


async def test_the_largest_valid_order_is_not_refused_for_its_size(
    client: httpx.AsyncClient
) -> None:
    """Every text field at its limit, every character escaped as a client may write it
    (`\\u00e9`, 6 bytes): the schema's limits decide, never the body cap."""
    # Dishes a line can name without choosing options (a required size is its own test).
    items = [item for item in (await menu(client, "demo"))["items"]
             if not any(group["required"] for group in item["groups"])]

    def text(length: int) -> str:
        return "é" * length

    body = {
        "restaurant": "demo",
        "items": [{"menu_item_id": items[index % len(items)]["id"], "quantity": 99,
                   "notes": text(200), "allergy": text(200)} for index in range(50)],
        "customer": {"name": text(120), "phone": LONGEST_PHONE,
                     "email": "a" * 60 + "@" + "b" * 60 + ".example.com"},
        "fulfillment": "delivery", "delivery_address": text(300), "table": text(40),
        "notes": text(500), "allergy": text(200), "tip": {"amount": 25_000},
    }
    content = json.dumps(body).encode()  # ensure_ascii: "é" is written \\u00e9
    assert len(content) > 120_000
    response = await client.post("/api/orders", content=content,
                                 headers={"content-type": "application/json"})
    assert response.status_code in (201, 202), response.text


async def test_oversized_body_is_refused(client: httpx.AsyncClient, redis: ArqRedis) -> None:
    body = await valid_order(client)
    body["padding"] = "x" * MAX_ORDER_BODY_BYTES
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 413
    assert response.json()["detail"] == (
        f"The request is larger than this address accepts ({MAX_ORDER_BODY_BYTES // 1024} KB "
        "at most).")  # the limit, not only "Request Entity Too Large"
    assert await temp_keys(redis) == []


async def test_stripe_failing_twice_then_succeeding_makes_one_session(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    sandbox.api_faults(service="stripe", status=500, count=2)
    response = await client.post("/api/orders", json=await valid_order(client))
    assert response.status_code == 201, response.text
    sessions = stripe_client(sandbox.url).v1.checkout.sessions.list().data
    assert len(sessions) == 1
    assert sessions[0].client_reference_id == response.json()["id"]


async def test_stripe_down_keeps_the_order_and_defers_the_link(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    from workers.order_jobs import create_payment_link

    sandbox.api_faults(service="stripe", status=500, count=10)
    response = await client.post("/api/orders", json=await valid_order(client))
    assert response.status_code == 202, response.text
    created = response.json()
    assert created["payment_url"] is None
    assert "follow by email" in created["message"]
    status = (await client.get(f"/api/orders/{created['id']}")).json()
    assert status["status"] == "awaiting_payment"
    assert (await FunnelDaily.select().first())["link_failed"] == 1  # type: ignore[index]
    page = await client.get(f"/orders/{created['id']}")
    assert "payment link is on its way" in page.text

    # The worker's job picks it up once Stripe answers again.
    sandbox.api_faults(service="stripe", status=500, count=0)
    result = await create_payment_link({"redis": redis, "job_try": 2}, created["id"])
    assert result == "linked"
    status = (await client.get(f"/api/orders/{created['id']}")).json()
    assert status["payment_url"].startswith(sandbox.url + "/pay/")
    assert len(stripe_client(sandbox.url).v1.checkout.sessions.list().data) == 1
    jobs = {job.job_id for job in await redis.queued_jobs()}
    assert f"email:order_confirmation:{created['id']}" in jobs


async def test_expired_link_cannot_be_paid_and_can_be_renewed(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    from workers.order_jobs import expire_payment_link

    created = (await client.post("/api/orders", json=await valid_order(client))).json()
    session_id = created["payment_url"].rsplit("/", 1)[1]
    assert await expire_payment_link({"redis": redis}, created["id"], session_id) == "expired"
    status = (await client.get(f"/api/orders/{created['id']}")).json()
    assert status["status"] == "payment_expired"
    assert status["payment_url"] is None

    session = stripe_client(sandbox.url).v1.checkout.sessions.retrieve(session_id)
    assert session.status == "expired"
    pay = sandbox.http.post(f"/_control/checkout/sessions/{session_id}/pay",
                            json={"outcome": "succeeded"})
    assert pay.status_code >= 400
    assert "expired" in (await client.get(f"/orders/{created['id']}")).text

    token = client.cookies["csrftoken"]  # set by the status page above
    renewed = await client.post(f"/orders/{created['id']}/payment-link",
                                headers={"hx-request": "true", "x-csrftoken": token})
    assert renewed.status_code == 200
    status = (await client.get(f"/api/orders/{created['id']}")).json()
    assert status["status"] == "awaiting_payment"
    assert status["payment_url"] and session_id not in status["payment_url"]


async def test_order_submission_is_rate_limited_per_client(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    body = await valid_order(client)
    body["items"][0]["quantity"] = 0  # invalid: cheap, and still counted
    statuses = [(await client.post("/api/orders", json=body)).status_code for _ in range(20)]
    assert set(statuses) == {400}
    limited = await client.post("/api/orders", json=body)
    assert limited.status_code == 429
    assert limited.headers["ratelimit-limit"] == "20"
    assert limited.headers["ratelimit-remaining"] == "0"
    assert int(limited.headers["ratelimit-reset"]) > 0
    # HTTP's own header too: clients and proxies know when to come back
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # The counter lives in Redis, so every web process sees the same budget.
    assert any(b"orders:" in key for key in await redis.keys("orderpass:ratelimit*"))


async def test_the_rate_limit_keeps_a_count_not_every_request(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    """What the limit stores for a client stays the same size however many requests it has
    counted (the stock middleware kept each request's timestamp, so every request read and
    wrote more than the last); the remaining-requests header still counts down."""
    body = await valid_order(client)
    body["items"][0]["quantity"] = 0
    remaining, sizes = [], []
    for _ in range(12):
        response = await client.post("/api/orders", json=body)
        remaining.append(int(response.headers["ratelimit-remaining"]))
        keys = [key async for key in redis.scan_iter(match="*orders:*")]
        sizes.append(max([len(await redis.get(key) or b"") for key in keys], default=0))
    assert remaining == sorted(remaining, reverse=True) and remaining[0] - remaining[-1] == 11
    assert min(sizes) > 0 and max(sizes) < 64 and max(sizes) - min(sizes) <= 1, sizes
