"""A diner's phone number is checked as the owner's own is in the settings
(`app.restaurants.editing.phone_problem`): something a phone cannot dial is refused, by the
API (400 naming `customer.phone`) and by the menu's checkout (422, the field's message in the
diner's language), and nothing is kept. No phone at all stays allowed."""

from __future__ import annotations

import html

import httpx
import pytest
from arq.connections import ArqRedis

from app.orders.temp_store import KEY_PREFIX
from tests.helpers.orders import menu, temp_keys, valid_order

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


@pytest.mark.parametrize("phone", ["call me maybe", "12", "+49 30 12345 67890 12345 6",
                                   "000 000", "030 12+34"])
async def test_the_api_refuses_a_phone_nobody_can_dial(client: httpx.AsyncClient,
                                                       redis: ArqRedis, phone: str) -> None:
    body = await valid_order(client)
    body["customer"]["phone"] = phone
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 400, response.text
    problems = {problem["key"]: problem["message"] for problem in response.json()["extra"]}
    assert "customer.phone" in problems and "phone number" in problems["customer.phone"]
    assert await temp_keys(redis) == []


@pytest.mark.parametrize("phone", ["", "+49 30 1234567", "(030) 123-4567", "0049 30 1234567"])
async def test_the_api_takes_a_real_phone_or_none(client: httpx.AsyncClient,
                                                  phone: str) -> None:
    body = await valid_order(client)
    body["customer"]["phone"] = phone
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 201, response.text


async def _form(client: httpx.AsyncClient, phone: str, headers: dict[str, str]
                ) -> dict[str, str]:
    await client.get("/r/demo", headers=headers)
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    return {"_csrf_token": client.cookies["csrftoken"], f"qty-{soup['id']}": "1",
            "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup",
            "phone": phone}


@pytest.mark.parametrize(("headers", "says"), [
    ({}, "Enter a phone number like +49 30 1234567"),
    (GERMAN, "Bitte geben Sie eine Telefonnummer wie +49 30 1234567 ein"),
])
async def test_the_checkout_form_refuses_it_in_the_diners_language(
        client: httpx.AsyncClient, redis: ArqRedis, headers: dict[str, str], says: str) -> None:
    form = await _form(client, "call me maybe", headers)
    response = await client.post("/r/demo/checkout", data=form, headers=headers,
                                 follow_redirects=False)
    assert response.status_code == 422, response.text[:500]
    page = html.unescape(response.text)
    assert says in page, page[:3000]
    assert 'id="phone-error"' in response.text or 'aria-describedby="phone' in response.text
    assert await redis.keys(f"{KEY_PREFIX}*") == []
