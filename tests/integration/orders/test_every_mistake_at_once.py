"""A diner testing the checkout on a phone met its mistakes one per try: an empty name was
refused, then (name fixed) the email, then the phone. Every mistake is said in one answer:
`POST /api/orders` lists them all in its 400 (`extra`, one `{"key", "message"}` each, the
shape it always had), and the menu's checkout marks each wrong field with its message, in
the diner's language. Nothing is kept from a refused order."""

from __future__ import annotations

import re

import httpx
import pytest
from arq.connections import ArqRedis

from app.platform.tables import FunnelDaily
from app.restaurants.tables import MenuItem
from tests.helpers.orders import menu, temp_keys, valid_order
from tests.helpers.sandbox import RunningSandbox, stripe_client

pytestmark = pytest.mark.server_agnostic
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


async def _nothing_kept(redis: ArqRedis, sandbox: RunningSandbox) -> None:
    assert await temp_keys(redis) == []
    assert await FunnelDaily.count() == 0
    assert stripe_client(sandbox.url).v1.checkout.sessions.list().data == []


def _problems(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) >= {"status_code", "detail", "extra"}, body
    assert body["status_code"] == response.status_code
    return {problem["key"]: problem["message"] for problem in body["extra"]}


async def test_the_api_names_every_field_the_schema_and_intake_refuse(
        client: httpx.AsyncClient, redis: ArqRedis, sandbox: RunningSandbox) -> None:
    """The schema's refusals (an empty name, a quantity of 0, a note too long) and intake's
    (an email without a domain, a phone of two digits, delivery without an address)."""
    body = await valid_order(client)
    body["customer"] = {"name": "", "email": "ada@", "phone": "12"}
    body["items"][0]["quantity"] = 0
    body["items"][1]["notes"] = "x" * 201
    body["fulfillment"] = "delivery"
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 400, response.text
    problems = _problems(response)
    assert set(problems) == {"customer.name", "customer.email", "customer.phone",
                             "items[0].quantity", "items[1].notes", "delivery_address"}, \
        problems
    assert problems["customer.email"] == "There must be something after the @-sign."
    assert problems["customer.phone"].startswith("Enter a phone number like")
    assert problems["delivery_address"] == "a delivery address is required for delivery"
    await _nothing_kept(redis, sandbox)


async def test_the_api_names_every_field_intake_refuses(
        client: httpx.AsyncClient, redis: ArqRedis, sandbox: RunningSandbox) -> None:
    """A body the schema takes: intake's own checks, the menu's and the time's included, in
    one 400 (a time in the past was said alone, as a 422)."""
    body = await valid_order(client)
    body["customer"] = {"name": "\u200b", "email": "ada@example", "phone": "000 000"}
    body["scheduled_for"] = "2020-01-06T12:00:00+01:00"
    await MenuItem.update({MenuItem.available: False}).where(
        MenuItem.id == body["items"][1]["menu_item_id"])
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 400, response.text
    problems = _problems(response)
    assert set(problems) == {"customer.name", "customer.email", "customer.phone",
                             "items[1].menu_item_id", "scheduled_for"}, problems
    assert problems["items[1].menu_item_id"] == "Margherita pizza is sold out"
    await _nothing_kept(redis, sandbox)


async def test_a_time_or_tip_alone_is_still_a_422(client: httpx.AsyncClient) -> None:
    body = await valid_order(client)
    body["scheduled_for"] = "2020-01-06T12:00:00+01:00"
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 422, response.text
    assert set(_problems(response)) == {"scheduled_for"}
    body = await valid_order(client)
    body["tip"] = {"amount": 9_000_000}
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 422, response.text
    assert set(_problems(response)) == {"tip"}
    body["customer"]["email"] = "ada@"  # with a mistake of the form's: one 400, both named
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 400, response.text
    assert set(_problems(response)) == {"tip", "customer.email"}


async def test_a_missing_field_and_a_wrong_one_are_both_named(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    body = await valid_order(client)
    del body["customer"]["name"]
    body["customer"]["email"] = "not-an-email"
    body["fulfillment"] = "drone"
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 400, response.text
    problems = _problems(response)
    assert set(problems) == {"customer.name", "customer.email", "fulfillment"}, problems
    assert await temp_keys(redis) == []


async def _form(client: httpx.AsyncClient, headers: dict[str, str],
                **fields: str) -> dict[str, str]:
    await client.get("/r/demo", headers=headers)
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    return {"_csrf_token": client.cookies["csrftoken"], f"qty-{soup['id']}": "1", **fields}


def _marked(page: str, field: str) -> str:
    """The message the field `field` is marked with ("" if it is not marked wrong)."""
    tag = re.search(rf'<input id="{field}"[^>]*>', page)
    assert tag is not None, field
    if 'aria-invalid="true"' not in tag.group(0):
        return ""
    described = re.search(r'aria-describedby="([^"]+)"', tag.group(0))
    assert described is not None, field
    said = re.search(rf'<span class="field-error" id="{described.group(1)}">([^<]*)</span>',
                     page)
    assert said is not None, field
    return said.group(1)


@pytest.mark.parametrize(("headers", "words"), [
    ({}, {"name": "Please enter your name.",
          "email": "There must be something after the @-sign.",
          "phone": "Enter a phone number like +49 30 1234567: '12' has only 2 digits; a "
                   "phone number has at least 5.",
          "delivery_address": "Please enter the address we should deliver to."}),
    (GERMAN, {"name": "Bitte geben Sie Ihren Namen ein.",
              "email": "Nach dem @-Zeichen muss etwas stehen.",
              "phone": "Bitte geben Sie eine Telefonnummer wie +49 30 1234567 ein: '12' hat "
                       "nur 2 Ziffern; eine Telefonnummer hat mindestens 5.",
              "delivery_address": "Bitte geben Sie die Lieferadresse ein."}),
])
async def test_the_checkout_marks_every_wrong_field_at_once(
        client: httpx.AsyncClient, redis: ArqRedis, sandbox: RunningSandbox,
        headers: dict[str, str], words: dict[str, str]) -> None:
    form = await _form(client, headers, name="", email="ada@", phone="12",
                       fulfillment="delivery", delivery_address="")
    response = await client.post("/r/demo/checkout", data=form, headers=headers,
                                 follow_redirects=False)
    assert response.status_code == 422, response.text[:500]
    page = response.text.replace("&#39;", "'")
    assert {field: _marked(page, field) for field in words} == words
    # the box of errors lists them too, as the page has them, top to bottom, each a link to
    # its field
    summary = re.search(r'id="form-errors".*?<ul>(.*?)</ul>', page, re.S)
    assert summary is not None
    assert re.findall(r'<li><a href="#([^"]*)">([^<]*)</a></li>', summary.group(1)) == list(
        words.items())
    await _nothing_kept(redis, sandbox)


async def test_a_tip_typed_wrong_is_marked_with_the_rest(client: httpx.AsyncClient,
                                                          redis: ArqRedis) -> None:
    """The tip was checked first and said alone; the name and email waited for the next
    try. A field that is right is not marked."""
    form = await _form(client, {}, name="Ada Lovelace", email="ada@", phone="12",
                       fulfillment="pickup", tip="custom", tip_custom="lots")
    response = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert response.status_code == 422
    page = response.text.replace("&#39;", "'")
    assert _marked(page, "name") == ""
    assert _marked(page, "email") == "There must be something after the @-sign."
    assert _marked(page, "phone").startswith("Enter a phone number like")
    assert _marked(page, "tip_custom") == "Please enter the tip as an amount, like 2.50."
    assert await temp_keys(redis) == []
