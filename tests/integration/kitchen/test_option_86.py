"""A kitchen out of olives 86s the option, not the pizza: the diner's menu greys it out and
tells open menus to refresh, an order naming it is refused, and it comes back on the same
way. Another restaurant's kitchen cannot touch it."""

from __future__ import annotations

import re

import httpx

from app.restaurants.tables import ModifierOption
from tests.helpers.accounts import login
from tests.helpers.orders import menu

HX = {"hx-request": "true"}


async def olives(client: httpx.AsyncClient) -> tuple[dict, dict, int]:
    item = {i["name"]: i for i in (await menu(client))["items"]}["Pizza your way"]
    groups = {g["name"]: g for g in item["groups"]}
    option = {o["name"]: o for o in groups["Extras"]["options"]}["Olives"]
    return item, option, groups["Size"]["options"][0]["id"]


async def first_menu_state(client: httpx.AsyncClient) -> str:
    """The fingerprint an open menu page holds (the live feed sends the same function's)."""
    match = re.search(r'data-menu-state="([^"]+)"', (await client.get("/r/demo")).text)
    assert match, "no menu state on the page"
    return match.group(1)


def order_with(item: dict, options: list[int]) -> dict:
    return {"restaurant": "demo", "items": [{"menu_item_id": item["id"], "quantity": 1,
                                             "modifiers": options}],
            "customer": {"name": "Ada", "email": "ada@example.com"}, "fulfillment": "pickup"}


async def test_the_kitchen_86s_an_option_and_brings_it_back(client: httpx.AsyncClient) -> None:
    item, option, size = await olives(client)
    before = await first_menu_state(client)
    token = await login(client, "kitchen@demo.test")
    controls = await client.get("/kitchen/demo/controls", headers=HX)
    assert "86 Olives" in controls.text  # the option's own switch, under its dish

    out = await client.post(f"/kitchen/demo/menu/options/{option['id']}/availability",
                            data={"_csrf_token": token, "available": "0"}, headers=HX)
    assert out.status_code == 200, out.text
    assert "Back on: Olives" in out.text
    assert await first_menu_state(client) != before  # open menus refresh
    olive = {o["name"]: o for o in (await olives(client))[0]["groups"][1]["options"]}["Olives"]
    assert olive["available"] is False
    page = await client.get("/r/demo")
    assert f'id="opt-{item["id"]}-{option["id"]}" disabled' in page.text
    # …and says why, in words: a greyed-out box alone reads as a broken page.
    label = page.text.split(f'id="opt-{item["id"]}-{option["id"]}" disabled', 1)[1]
    assert label.split("</label>", 1)[0].endswith(  # the end of the option's text
        '<span class="sold-out">(sold out)</span></span>')
    refused = await client.post("/api/orders", json=order_with(item, [size, option["id"]]))
    assert refused.status_code == 400 and "Olives is sold out" in refused.text
    assert (await client.post("/api/orders", json=order_with(item, [size]))).status_code in (
        201, 202)

    back = await client.post(f"/kitchen/demo/menu/options/{option['id']}/availability",
                             data={"_csrf_token": token, "available": "1"}, headers=HX)
    assert back.status_code == 200 and "86 Olives" in back.text
    assert await first_menu_state(client) == before
    assert (await client.post("/api/orders", json=order_with(item, [size, option["id"]]))
            ).status_code in (201, 202)


async def test_another_kitchen_cannot_86_this_option(client: httpx.AsyncClient) -> None:
    _item, option, _size = await olives(client)
    token = await login(client, "kitchen@demo-2.test")
    response = await client.post(f"/kitchen/demo-2/menu/options/{option['id']}/availability",
                                 data={"_csrf_token": token, "available": "0"}, headers=HX)
    assert response.status_code == 400
    assert "no option" in response.text
    row = await ModifierOption.select(ModifierOption.available).where(
        ModifierOption.id == option["id"]).first()
    assert row == {"available": True}
    bad = await client.post(f"/kitchen/demo-2/menu/options/{option['id']}/availability",
                            data={"_csrf_token": token, "available": "maybe"}, headers=HX)
    assert bad.status_code == 400
