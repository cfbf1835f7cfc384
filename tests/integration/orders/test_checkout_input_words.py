"""Input the checkout cannot take is refused with words about what was wrong, nothing kept:
a quantity typed in another script's digits ("٣", Arabic-Indic three) was read as none and
answered "Your basket is empty"; a table label of 5,000 characters answered "Please enter
your table number". And after the restaurant turned a fulfilment mode off while the diner's
page was open, the refused form no longer offers that mode, so one more step places it."""

from __future__ import annotations

import re

import httpx
import pytest
from arq.connections import ArqRedis

from app.restaurants.tables import Restaurant
from tests.helpers.orders import menu, temp_keys

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}
HTMX = {"hx-request": "true"}
QUANTITY_WORDS = "Quantity must be a whole number written with 0 to 9, like 2 or 10."


async def _soup(client: httpx.AsyncClient) -> dict:
    return next(item for item in (await menu(client))["items"] if not item["groups"])


async def _form(client: httpx.AsyncClient, headers: dict[str, str] | None = None,
                **fields: str) -> dict[str, str]:
    await client.get("/r/demo", headers=headers)
    soup = await _soup(client)
    return {"_csrf_token": client.cookies["csrftoken"], f"qty-{soup['id']}": "1",
            "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup",
            **{key.replace("ITEM", str(soup["id"])): value for key, value in fields.items()}}


def _card(page: str, item_id: int) -> str:
    match = re.search(rf'<li class="menu-item[^"]*" id="menu-item-{item_id}">.*?</li>',
                      page, re.S)
    assert match, f"no menu card for item {item_id}"
    return match.group(0)


def _field_error(page: str, name: str) -> str:
    return page.split(f'id="{name}-error"')[1].split(">", 1)[1].split("</span>")[0].strip()


@pytest.mark.parametrize("typed", ["\u0663", "\u0663\u0662", "\uff13", "1.5", "-1", "two"])
async def test_a_quantity_not_in_ascii_digits_is_refused_on_its_dish(
        client: httpx.AsyncClient, redis: ArqRedis, typed: str) -> None:
    soup = await _soup(client)
    form = await _form(client, **{"qty-ITEM": typed})
    refused = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert refused.status_code == 422, refused.text[:500]
    assert "basket is empty" not in refused.text
    assert QUANTITY_WORDS in refused.text
    # by the dish it is about, what was typed kept for the diner to correct
    card = _card(refused.text, soup["id"])
    assert _field_error(card, f"qty-{soup['id']}") == QUANTITY_WORDS
    assert await temp_keys(redis) == []  # nothing kept

    swapped = await client.post("/r/demo/checkout", headers=HTMX, data=form)
    assert swapped.status_code == 200  # htmx swaps 2xx only
    assert QUANTITY_WORDS in _card(swapped.text, soup["id"])
    assert await temp_keys(redis) == []


async def test_the_basket_says_so_too_and_a_button_on_the_dish_fixes_it(
        client: httpx.AsyncClient) -> None:
    """The quantity box posts to the basket on change (htmx): the same words by the dish;
    its Add sets the quantity anew and the words go."""
    soup = await _soup(client)
    form = await _form(client, **{"qty-ITEM": "\u0663"})
    recomputed = await client.post("/r/demo/cart", headers=HTMX, data=form)
    assert recomputed.status_code == 200
    assert QUANTITY_WORDS in _card(recomputed.text, soup["id"])
    added = await client.post("/r/demo/cart", headers=HTMX,
                              data={**form, "op": f"add:{soup['id']}"})
    assert added.status_code == 200
    assert QUANTITY_WORDS not in added.text
    assert f'id="qty-{soup["id"]}" name="qty-{soup["id"]}" value="1"' in added.text


async def test_a_bad_quantity_refuses_the_order_even_beside_a_good_line(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    items = [item for item in (await menu(client))["items"]
             if not item["groups"] and item["available"]]
    first, second = items[0], items[1]
    form = {**await _form(client), f"qty-{first['id']}": "2", f"qty-{second['id']}": "\u0663"}
    refused = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert refused.status_code == 422, refused.text[:500]
    assert _field_error(_card(refused.text, second["id"]), f"qty-{second['id']}") == (
        QUANTITY_WORDS)
    assert await temp_keys(redis) == []


async def test_the_quantity_words_in_german(client: httpx.AsyncClient, redis: ArqRedis) -> None:
    form = await _form(client, GERMAN, **{"qty-ITEM": "\u0663"})
    refused = await client.post("/r/demo/checkout", headers=GERMAN, data=form,
                                follow_redirects=False)
    assert refused.status_code == 422
    assert ("Die Menge muss eine ganze Zahl sein, geschrieben mit 0 bis 9, z. B. 2 oder 10."
            in refused.text), refused.text[:3000]
    assert await temp_keys(redis) == []


async def test_the_api_refuses_a_quantity_that_is_not_a_json_integer(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    soup = await _soup(client)
    for quantity in ("\u0663", "3", 1.5):
        response = await client.post("/api/orders", json={
            "restaurant": "demo", "items": [{"menu_item_id": soup["id"], "quantity": quantity}],
            "customer": {"name": "Ada", "email": "ada@example.com"}, "fulfillment": "pickup"})
        assert response.status_code == 400, response.text
        [problem] = response.json()["extra"]
        assert problem["key"] == "items[0].quantity", problem
        assert "int" in problem["message"], problem
    assert await temp_keys(redis) == []


@pytest.mark.parametrize(("fields", "field", "says", "not_says"), [
    ({"fulfillment": "dine_in", "table": "7" * 5000}, "table",
     "A table number can be 40 characters at most.", "Please enter your table number"),
    ({"fulfillment": "dine_in", "table": "x" * 41}, "table",
     "A table number can be 40 characters at most.", "Please enter your table number"),
    ({"fulfillment": "delivery", "delivery_address": "x" * 301}, "delivery_address",
     "A delivery address can be 300 characters at most.",
     "Please enter the address we should deliver to"),
])
async def test_a_field_too_long_says_so_and_its_limit(
        client: httpx.AsyncClient, redis: ArqRedis, fields: dict[str, str], field: str,
        says: str, not_says: str) -> None:
    form = await _form(client, **fields)
    refused = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert refused.status_code == 422, refused.text[:500]
    assert _field_error(refused.text, field) == says
    assert not_says not in refused.text
    assert await temp_keys(redis) == []


async def test_an_empty_table_still_asks_for_it(client: httpx.AsyncClient,
                                               redis: ArqRedis) -> None:
    form = await _form(client, fulfillment="dine_in", table="  ")
    refused = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert refused.status_code == 422, refused.text[:500]
    assert _field_error(refused.text, "table") == "Please enter your table number."
    assert await temp_keys(redis) == []


async def test_a_too_long_table_in_german(client: httpx.AsyncClient, redis: ArqRedis) -> None:
    form = await _form(client, GERMAN, fulfillment="dine_in", table="7" * 5000)
    refused = await client.post("/r/demo/checkout", headers=GERMAN, data=form,
                                follow_redirects=False)
    assert refused.status_code == 422
    assert _field_error(refused.text, "table") == (
        "Eine Tischnummer darf höchstens 40 Zeichen lang sein.")
    assert await temp_keys(redis) == []


@pytest.mark.parametrize("headers", [{}, HTMX])
async def test_a_mode_turned_off_while_the_page_was_open_is_no_longer_offered(
        client: httpx.AsyncClient, redis: ArqRedis, headers: dict[str, str]) -> None:
    page = await client.get("/r/demo")
    assert 'id="fulfillment-delivery"' in page.text  # the page the diner has open
    form = await _form(client, fulfillment="delivery", delivery_address="Torstr. 5, Berlin",
                       table="")
    await Restaurant.update({Restaurant.fulfillment_modes: ["pickup", "dine_in"]}).where(
        Restaurant.slug == "demo")  # the owner turns delivery off meanwhile

    refused = await client.post("/r/demo/checkout", headers=headers, data=form,
                                follow_redirects=False)
    assert refused.status_code == (200 if headers else 422), refused.text[:500]
    assert _field_error(refused.text, "fulfillment") == (
        "Demo Bistro does not offer delivery. Choose pickup or dine-in instead.")
    # the re-rendered form offers what the restaurant offers now, and nothing else
    assert 'id="fulfillment-delivery"' not in refused.text
    assert 'value="delivery"' not in refused.text
    assert 'id="delivery_address"' not in refused.text
    assert 'id="fulfillment-pickup"' in refused.text
    assert 'id="fulfillment-dine_in"' in refused.text
    checked = re.findall(r'<input type="radio" id="fulfillment-(\w+)"[^>]*\bchecked\b',
                         refused.text)
    assert checked in ([], ["pickup"]), checked  # never the mode turned off
    assert await temp_keys(redis) == []

    # one step: the diner picks a mode the form offers and the order goes through
    placed = await client.post("/r/demo/checkout", data={**form, "fulfillment": "pickup"},
                               follow_redirects=False)
    assert placed.status_code == 303, placed.text[:500]


@pytest.mark.parametrize("typed", ["150", "99999999999999999999"])
async def test_a_quantity_over_the_limit_is_said_by_its_dish_in_the_basket(
        client: httpx.AsyncClient, redis: ArqRedis, typed: str) -> None:
    """An outside try typed 150: the basket priced 150 soups and offered to pay for them,
    without a word until the checkout refused it. The basket now says the limit by the dish."""
    soup = await _soup(client)
    form = await _form(client, **{"qty-ITEM": typed})
    recomputed = await client.post("/r/demo/cart", headers=HTMX, data=form)
    assert recomputed.status_code == 200
    limit = "You can order between 1 and 99 of one dish."
    assert _field_error(_card(recomputed.text, soup["id"]), f"qty-{soup['id']}") == limit
    refused = await client.post("/r/demo/checkout", headers=HTMX, data=form)
    assert limit in _card(refused.text, soup["id"])
    assert await temp_keys(redis) == []
