"""An optional one-choice group ("Extras", 0 to 1) on the menu, without JavaScript: its radios
start on "None", ticked, so a diner can go back to no extra once they tapped one (a radio
cannot be unticked); Add with None makes a line without the option."""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.restaurants.tables import ModifierGroup
from tests.helpers.orders import menu


async def one_extra_at_most(client: httpx.AsyncClient) -> dict[str, Any]:
    await ModifierGroup.update({ModifierGroup.max_choices: 1}).where(
        ModifierGroup.name == "Extras")
    return {i["name"]: i for i in (await menu(client))["items"]}["Pizza your way"]


def radio(html: str, field_id: str) -> str:
    found = re.search(rf'<input type="radio"[^>]*id="{field_id}"[^>]*>', html)
    assert found, field_id
    return found.group(0)


async def test_an_optional_single_choice_starts_on_none_and_adds_the_dish_without_it(
        client: httpx.AsyncClient) -> None:
    item = await one_extra_at_most(client)
    groups = {g["name"]: g for g in item["groups"]}
    extras, size = groups["Extras"], groups["Size"]
    assert extras["max_choices"] == 1
    cheese = {o["name"]: o["id"] for o in extras["options"]}["Cheese"]
    small = {o["name"]: o["id"] for o in size["options"]}["S"]
    page = await client.get("/r/demo")
    none = radio(page.text, f"opt-{item['id']}-g{extras['id']}-none")
    assert f'name="opt-{item["id"]}-g{extras["id"]}"' in none and 'value=""' in none
    assert " checked" in none and "> None</span></label>" in page.text
    assert " checked" not in radio(page.text, f"opt-{item['id']}-{cheese}")
    # A required group (Size) has no None: one of its options must be chosen.
    assert f'id="opt-{item["id"]}-g{size["id"]}-none"' not in page.text
    form = {"_csrf_token": client.cookies["csrftoken"], "name": "Ada",
            "email": "ada@example.com", "fulfillment": "pickup",
            f"opt-{item['id']}-g{size['id']}": str(small), "op": f"add:{item['id']}"}
    # Cheese ticked: the form comes back with Cheese ticked and None not.
    with_cheese = await client.post("/r/demo/cart", data={
        **form, f"opt-{item['id']}-g{extras['id']}": str(cheese)})
    assert " checked" in radio(with_cheese.text, f"opt-{item['id']}-{cheese}")
    assert " checked" not in radio(with_cheese.text, f"opt-{item['id']}-g{extras['id']}-none")
    # None sent: the dish is added with its size only.
    cart = await client.post("/r/demo/cart", data={
        **form, f"opt-{item['id']}-g{extras['id']}": ""})
    assert f'name="qty-{item["id"]}-{small}" value="1"' in cart.text
    assert "Size: S" in cart.text and "Cheese" not in re.sub(
        r'<fieldset class="modifier-choice">.*?</fieldset>', "", cart.text, flags=re.S)
    assert " checked" in radio(cart.text, f"opt-{item['id']}-g{extras['id']}-none")


async def test_a_german_diner_reads_keine(client: httpx.AsyncClient) -> None:
    item = await one_extra_at_most(client)
    extras = {g["name"]: g for g in item["groups"]}["Extras"]
    page = await client.get("/r/demo", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert radio(page.text, f"opt-{item['id']}-g{extras['id']}-none")
    assert "> Keine</span></label>" in page.text
