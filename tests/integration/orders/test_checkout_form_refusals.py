"""The menu page's checkout refuses what it cannot take as it was sent, saying what is
wrong, and keeps nothing: a quantity over the limit (it became 99 without a word), a note
over its length (it was cut to 200 characters), a tip the form does not offer (it became no
tip), a name with a line break or a direction override. The JSON API refuses the same."""

from __future__ import annotations

import httpx
import pytest
from arq.connections import ArqRedis

from app.orders.temp_store import KEY_PREFIX
from tests.helpers.orders import menu

# Input rules and wording: no server version changes them (not in the standalone run).
pytestmark = pytest.mark.server_agnostic


async def _form(client: httpx.AsyncClient, **fields: str) -> dict[str, str]:
    await client.get("/r/demo")
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    return {"_csrf_token": client.cookies["csrftoken"], f"qty-{soup['id']}": "1",
            "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup",
            **{key.replace("ITEM", str(soup["id"])): value for key, value in fields.items()}}


@pytest.mark.parametrize(("fields", "field", "says"), [
    ({"qty-ITEM": "1000000"}, "", "between 1 and 99"),
    ({"qty-ITEM": "99999999999999999999"}, "", "between 1 and 99"),
    ({"note-ITEM": "x" * 201}, "", "200 characters at most"),
    ({"tip": "999"}, "tip", "choose one of the tips offered"),
    # "²" is a digit to str.isdigit() and not to int(): it was a 500
    ({"tip": "\u00b2"}, "tip", "choose one of the tips offered"),
    ({"name": "x\r\nBcc: evil@example.com"}, "name", "on one line"),
    ({"name": "Ada \u202egninnur"}, "name", "on one line"),
    ({"name": "x" * 121}, "name", "120 characters at most"),
    ({"phone": "+49\n30"}, "phone", "on one line"),
    # text the kitchen reads, typed backwards: "\u202estunaep" shows as "peanuts"
    ({"has_allergy": "1", "allergy": "\u202estunaep"}, "allergy", "text-direction"),
    ({"notes": "\u202eno nuts"}, "notes", "text-direction"),
    ({"note-ITEM": "\u2067extra hot"}, "", "text-direction"),
])
async def test_the_form_refuses_and_says_why(client: httpx.AsyncClient, redis: ArqRedis,
                                             fields: dict[str, str], field: str,
                                             says: str) -> None:
    form = await _form(client, **fields)
    response = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert response.status_code == 422, response.text[:500]
    assert says in response.text, response.text[:3000]
    if field:
        assert f'id="{field}"' in response.text  # the form is shown again, with the field
    assert await redis.keys(f"{KEY_PREFIX}*") == []  # nothing kept


async def test_the_api_refuses_a_direction_override_in_what_the_kitchen_reads(
        client: httpx.AsyncClient) -> None:
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    line = {"menu_item_id": soup["id"], "quantity": 1}
    for order, key in (({"allergy": "\u202estunaep"}, "allergy"),
                       ({"notes": "\u202eno nuts"}, "notes"),
                       ({"items": [{**line, "allergy": "\u202estunaep"}]}, "items[0].allergy"),
                       ({"items": [{**line, "notes": "\u2066x"}]}, "items[0].notes"),
                       # an escape or a bell reaches the ticket printer as a command
                       ({"notes": "x\u001b[31mred"}, "notes"),
                       ({"items": [{**line, "notes": "a\u0007b"}]}, "items[0].notes")):
        response = await client.post("/api/orders", json={
            "restaurant": "demo", "items": [line], "fulfillment": "pickup",
            "customer": {"name": "Ada", "email": "ada@example.com"}, **order})
        assert response.status_code == 400, response.text
        [problem] = response.json()["extra"]
        assert problem["key"] == key
        assert problem["message"] == ("must not contain control characters (line breaks "
                                      "and tabs are fine) or text-direction overrides")
    ok = await client.post("/api/orders", json={
        "restaurant": "demo", "items": [line], "fulfillment": "pickup",
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "notes": "first line\nsecond line: شكرا\tthird"})  # breaks, tabs, Arabic are fine
    assert ok.status_code in (201, 202), ok.text


async def test_the_api_refuses_a_name_that_is_not_one_line(client: httpx.AsyncClient) -> None:
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    for name in ("x\r\nBcc: evil@example.com", "Ada \u202egninnur"):
        response = await client.post("/api/orders", json={
            "restaurant": "demo", "items": [{"menu_item_id": soup["id"], "quantity": 1}],
            "customer": {"name": name, "email": "ada@example.com"}, "fulfillment": "pickup"})
        assert response.status_code == 400, response.text
        [problem] = response.json()["extra"]
        assert problem["key"] == "customer.name"
        assert problem["message"].startswith("must be one line of text"), problem  # no regex


@pytest.mark.parametrize(("customer", "key"), [
    ({"name": "Ada\n"}, "customer.name"),
    ({"name": "Ada\r\n"}, "customer.name"),
    ({"phone": "+49 30 1234567\n"}, "customer.phone"),
])
async def test_the_api_refuses_a_trailing_line_break_as_the_form_does(
        client: httpx.AsyncClient, redis: ArqRedis, customer: dict[str, str],
        key: str) -> None:
    # Python's `$` also matches before a final "\n": "Ada\n" passed the API's pattern.
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    response = await client.post("/api/orders", json={
        "restaurant": "demo", "items": [{"menu_item_id": soup["id"], "quantity": 1}],
        "customer": {"name": "Ada", "email": "ada@example.com", **customer},
        "fulfillment": "pickup"})
    assert response.status_code == 400, response.text
    [problem] = response.json()["extra"]
    assert problem["key"] == key
    assert problem["message"].startswith("must be one line of text"), problem
    assert await redis.keys(f"{KEY_PREFIX}*") == []  # nothing kept


async def test_a_dish_deleted_since_the_page_was_drawn_is_named_and_never_dropped(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    """Without JavaScript too: the checkout refuses a basket holding a dish the restaurant
    deleted meanwhile, naming it by what the page showed, and places nothing."""
    form = await _form(client, **{"qty-987654": "2", "named-987654": "Deleteme soup"})
    response = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert response.status_code == 422, response.text[:500]
    assert "Deleteme soup is no longer on the menu. Remove it to place your order." \
        in response.text
    assert 'id="gone-987654"' in response.text and 'name="qty-987654" value="2"' in response.text
    assert [key async for key in redis.scan_iter(f"{KEY_PREFIX}*")] == []
    removed = await client.post("/r/demo/cart", data={**form, "op": "remove:987654"})
    assert 'id="gone-987654"' not in removed.text and "no longer on the menu" not in removed.text


async def test_a_name_or_phone_is_one_line_in_every_script_of_line_breaks(
        client: httpx.AsyncClient) -> None:
    """C0 controls were refused; the C1 ones, Unicode's own line and paragraph separators
    and a name of invisible characters only passed (an outside try)."""
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    line = {"menu_item_id": soup["id"], "quantity": 1}
    for customer, key in (({"name": "Ada\u2028Bob"}, "customer.name"),
                          ({"name": "Ada\u2029"}, "customer.name"),
                          ({"name": "A\u0085B\u009b"}, "customer.name"),
                          ({"name": "\u200b\u200b"}, "customer.name"),
                          ({"phone": "+49 30 123456\u0085"}, "customer.phone")):
        response = await client.post("/api/orders", json={
            "restaurant": "demo", "items": [line], "fulfillment": "pickup",
            "customer": {"name": "Ada", "email": "ada@example.com", **customer}})
        assert 400 <= response.status_code < 500, (customer, response.text)
        assert key in response.text, (customer, response.text)


async def test_a_field_that_looks_like_a_typo_is_refused_not_dropped(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    """Unknown fields are ignored, so `"allergies": "peanuts"` (for `allergy`) made an order
    whose allergy never reached the kitchen (an outside try). A near-miss of a known field
    is refused naming the one meant; other extra fields are still ignored."""
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    line = {"menu_item_id": soup["id"], "quantity": 1}
    order = {"restaurant": "demo", "fulfillment": "pickup",
             "customer": {"name": "Ada", "email": "ada@example.com"}}
    for extra, key, meant in (
            ({"items": [{**line, "allergies": "peanuts"}]}, "items[0].allergies",
             "items[0].allergy"),
            ({"items": [line], "allergi": "peanuts"}, "allergi", "allergy"),
            ({"items": [{**line, "note": "well done"}]}, "items[0].note", "items[0].notes")):
        response = await client.post("/api/orders", json={**order, **extra})
        assert response.status_code == 400, response.text
        [problem] = response.json()["extra"]
        assert problem["key"] == key, problem
        assert problem["message"] == f"unknown field; did you mean `{meant}`?", problem
    assert await redis.keys(f"{KEY_PREFIX}*") == []  # nothing kept
    fine = await client.post("/api/orders", json={**order, "items": [{**line, "price": 1}],
                                                  "client_version": "2.1"})
    assert fine.status_code in (201, 202), fine.text
