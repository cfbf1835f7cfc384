"""A dish whose required group has every option sold out cannot be ordered: it is sold out
wherever the diner sees it (the menu API, the menu page: no active Add, no "from" price to
chase) and intake refuses it in the sold-out words. It looked orderable: "available": true, an
active Add that answered "Choose 1 Size for Pizza your way.", which nobody could satisfy."""

from __future__ import annotations

import re

import httpx

from app.restaurants.tables import ModifierOption
from tests.helpers.orders import menu


async def _pizza(client: httpx.AsyncClient) -> dict:
    return {i["name"]: i for i in (await menu(client))["items"]}["Pizza your way"]


async def _86_every_size(client: httpx.AsyncClient) -> dict:
    pizza = await _pizza(client)
    sizes = {g["name"]: g for g in pizza["groups"]}["Size"]
    assert sizes["required"]
    await ModifierOption.update({ModifierOption.available: False}).where(
        ModifierOption.id.is_in([option["id"] for option in sizes["options"]]))
    return pizza


def _card(page: str, item_id: int) -> str:
    match = re.search(rf'<li class="menu-item[^"]*" id="menu-item-{item_id}">.*?</li>',
                      page, re.S)
    assert match, f"no menu card for item {item_id}"
    return match.group(0)


async def test_a_dish_with_every_required_option_sold_out_is_sold_out(
        client: httpx.AsyncClient) -> None:
    before = await _pizza(client)
    assert before["available"] is True
    card = _card((await client.get("/r/demo")).text, before["id"])
    assert f'id="add-{before["id"]}"' in card

    pizza = await _86_every_size(client)
    assert (await _pizza(client))["available"] is False
    extras = {g["name"]: g for g in pizza["groups"]}["Extras"]["options"][0]["id"]

    card = _card((await client.get("/r/demo")).text, pizza["id"])
    assert "is-unavailable" in card
    assert "Sold out" in card
    assert f'id="add-{pizza["id"]}"' not in card  # no Add to press
    # the other dishes are still orderable
    soup = {i["name"]: i for i in (await menu(client))["items"]}["Tomato soup"]
    assert soup["available"] is True
    assert "is-unavailable" not in _card((await client.get("/r/demo")).text, soup["id"])

    # an Add posted from a page from before says sold out, not "Choose 1 Size"
    page = await client.post("/r/demo/cart", headers={"hx-request": "true"}, data={
        "op": f"add:{pizza['id']}", "_csrf_token": client.cookies["csrftoken"]})
    assert page.status_code == 200
    assert "Pizza your way is sold out." in page.text
    assert "Choose 1 Size" not in page.text

    refused = await client.post("/api/orders", json={
        "restaurant": "demo",
        "items": [{"menu_item_id": pizza["id"], "quantity": 1, "modifiers": [extras]}],
        "customer": {"name": "Ada", "email": "ada@example.com"}, "fulfillment": "pickup"})
    assert refused.status_code == 400, refused.text
    assert "Pizza your way is sold out" in refused.text
