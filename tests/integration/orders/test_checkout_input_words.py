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


@pytest.mark.parametrize("typed", ["-2", "abc", "2.5"])
async def test_a_quantity_typed_wrong_keeps_its_line(client: httpx.AsyncClient,
                                                     typed: str) -> None:
    """An outside try typed -2 into a soup's box: the soup left the basket, its box and
    its note with it, and the words stood under a dish with nothing to correct. The box
    stays, with what was typed and the words; the plus and minus buttons still work from it."""
    soup = await _soup(client)
    form = await _form(client, **{"qty-ITEM": typed, "note-ITEM": "no croutons"})
    recomputed = await client.post("/r/demo/cart", headers=HTMX, data=form)
    card = _card(recomputed.text, soup["id"])
    assert f'id="qty-{soup["id"]}" name="qty-{soup["id"]}" value="{typed}"' in card, card
    assert _field_error(card, f"qty-{soup['id']}") == QUANTITY_WORDS
    assert f'id="inc-{soup["id"]}"' in card and "no croutons" in card
    plus = await client.post("/r/demo/cart", headers=HTMX,
                             data={**form, "op": f"inc:{soup['id']}"})
    assert f'name="qty-{soup["id"]}" value="1"' in _card(plus.text, soup["id"])


async def test_plus_at_the_limit_says_why_it_does_nothing(client: httpx.AsyncClient) -> None:
    soup = await _soup(client)
    form = await _form(client, **{"qty-ITEM": "99"})
    card = _card((await client.post("/r/demo/cart", headers=HTMX, data=form)).text,
                 soup["id"])
    plus = re.search(rf'<button[^>]*id="inc-{soup["id"]}"[^>]*>', card, re.S)
    assert plus is not None
    assert "disabled" in plus.group() and "between 1 and 99" in plus.group()


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
    card = _card(recomputed.text, soup["id"])
    assert _field_error(card, f"qty-{soup['id']}") == limit
    # what was typed stays in its box, and the basket neither lists nor prices it (the
    # outside try saw "100x Tomato soup" and the pay button at €650.00 beside the refusal)
    assert f'name="qty-{soup["id"]}" value="{typed}"' in card
    assert 'aria-invalid="true"' in card
    pay = re.search(r'<button type="submit" class="primary-action"[^>]*>(.*?)</button>',
                    recomputed.text, re.S)
    assert pay is not None and " ".join(pay.group(1).split()) == "Place order and pay"
    assert f"{typed}\u00d7" not in recomputed.text
    refused = await client.post("/r/demo/checkout", headers=HTMX, data=form)
    assert limit in _card(refused.text, soup["id"])
    assert await temp_keys(redis) == []


@pytest.mark.parametrize("path", ["/r/demo/cart", "/r/demo/checkout"])
async def test_the_basket_address_reopened_leads_back_to_the_menu(
        client: httpx.AsyncClient, path: str) -> None:
    """Without JavaScript the basket's answer is a page at /r/demo/cart: reopened (a tab
    restored, a link shared) it was a 405 page, in English under a German heading."""
    reopened = await client.get(path, headers=GERMAN)
    assert reopened.status_code == 303 and reopened.headers["location"] == "/r/demo"
    assert (await client.get(path, follow_redirects=True)).status_code == 200
