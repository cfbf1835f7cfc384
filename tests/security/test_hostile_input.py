"""Input Postgres cannot store (NUL characters) must be refused at the door with a 4xx, not
crash a handler (500) or, worse, be accepted, paid for and then fail to commit on every
Stripe retry (a paid order lost)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from litestar import Litestar

from tests.helpers.orders import temp_keys, valid_order
from tests.security.routes import ROUTES, fill

NUL = "a\x00b"


def _set(body: dict[str, Any], dotted: str, value: str) -> None:
    target: Any = body
    parts = dotted.replace("[", ".").replace("]", "").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    target[parts[-1]] = value


@pytest.mark.parametrize("field", ["restaurant", "customer.name", "customer.email",
                                   "customer.phone", "notes", "delivery_address", "table",
                                   "items[0].notes"])
async def test_nul_in_any_order_field_is_refused(client: httpx.AsyncClient, redis: ArqRedis,
                                                 field: str) -> None:
    body = await valid_order(client)
    _set(body, field, NUL)
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 400, response.text
    assert {problem["key"] for problem in response.json()["extra"]} == {field}
    assert await temp_keys(redis) == []


async def test_nul_in_the_checkout_form_is_refused(client: httpx.AsyncClient,
                                                   redis: ArqRedis) -> None:
    page = await client.get("/r/demo")
    token = client.cookies["csrftoken"]
    item = (await client.get("/api/restaurants/demo/menu")).json()["items"][0]["id"]
    response = await client.post("/r/demo/checkout", data={
        "_csrf_token": token, f"qty-{item}": "1", "name": NUL, "email": "ada@example.com",
        "fulfillment": "pickup"})
    assert page.status_code == 200
    assert response.status_code == 422, response.text
    assert await temp_keys(redis) == []


async def test_nul_in_path_parameters_is_never_a_server_error(
        client: httpx.AsyncClient, app: Litestar) -> None:
    values = {"slug": NUL, "order_id": NUL, "ref": NUL, "file_path": NUL}
    for (method, path), kind in sorted(ROUTES.items()):
        if method != "GET" or kind != "public" or "{" not in path:
            continue
        url = fill(path, values).replace("\x00", "%00")
        response = await client.get(url)
        assert response.status_code in (400, 404), (url, response.status_code)
