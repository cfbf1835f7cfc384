"""Options on order lines through the public API, the real stripe SDK and the sandbox: the menu
lists groups, options and allergens; intake checks a choice against the dish's groups (hostile
ids included) and prices it; the order freezes the options, so repricing or deleting them later
changes nothing; a rebuild from Stripe brings them back; the kitchen card and emails show them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from app.notifications.compose import SUBJECTS, RestaurantContact, render_email
from app.orders.tables import OrderItem, PaidOrder
from app.orders.views import load_order_view
from app.restaurants.tables import ModifierGroup, ModifierOption
from tests.helpers.accounts import login
from tests.helpers.orders import LONGEST_PHONE, menu, pay_and_post_webhook, temp_keys
from tests.helpers.sandbox import RunningSandbox, stripe_client
from tests.helpers.stripe_events import paid_events, post_event


async def pizza(client: httpx.AsyncClient) -> dict[str, Any]:
    items = {item["name"]: item for item in (await menu(client))["items"]}
    return items["Pizza your way"]


def option_ids(item: dict[str, Any]) -> dict[str, int]:
    return {option["name"]: option["id"] for group in item["groups"]
            for option in group["options"]}


def problems(response: httpx.Response) -> dict[str, str]:
    return {problem["key"]: problem["message"] for problem in response.json()["extra"]}


def order_of(item: dict[str, Any], *modifiers: int, quantity: int = 1,
             more: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"restaurant": "demo",
            "items": [{"menu_item_id": item["id"], "quantity": quantity,
                       "modifiers": list(modifiers)}, *(more or [])],
            "customer": {"name": "Ada", "email": "ada@example.com"}, "fulfillment": "pickup"}


async def test_the_menu_api_lists_groups_options_and_allergens(
        client: httpx.AsyncClient) -> None:
    item = await pizza(client)
    assert item["allergens"] == ["gluten", "milk"]
    size, extras = item["groups"]
    assert (size["name"], size["required"], size["min_choices"], size["max_choices"]) == (
        "Size", True, 1, 1)
    assert [(o["name"], o["price_delta"]["amount"]) for o in size["options"]] == [
        ("S", 0), ("M", 200), ("L", 400)]
    assert (extras["name"], extras["required"], extras["max_choices"]) == ("Extras", False, 3)


async def test_an_order_with_options_is_priced_and_shown_by_the_server(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    item = await pizza(client)
    ids = option_ids(item)
    # The same dish with other options is another line.
    body = order_of(item, ids["L"], ids["Cheese"], ids["Olives"], quantity=2,
                    more=[{"menu_item_id": item["id"], "quantity": 1,
                           "modifiers": [ids["S"]], "price": 1}])
    created = await client.post("/api/orders", json=body)
    assert created.status_code == 201, created.text
    # 2 x (9.00 + 4.00 + 1.00 + 0.80) + 9.00
    assert created.json()["total"] == {"amount": 2 * 1480 + 900, "currency": "eur"}
    order = (await client.get(f"/api/orders/{created.json()['id']}")).json()
    first, second = order["items"]
    assert first["unit_price"]["amount"] == 1480 and second["unit_price"]["amount"] == 900
    assert [(m["group"], m["name"], m["price_delta"]["amount"]) for m in first["modifiers"]] \
        == [("Size", "L", 400), ("Extras", "Cheese", 100), ("Extras", "Olives", 80)]
    # Stripe shows the diner the options in the line's name, at the server's price.
    session_id = created.json()["payment_url"].rsplit("/", 1)[1]
    lines = stripe_client(sandbox.url).v1.checkout.sessions.line_items.list(session_id).data
    assert [(line.description, line.price.unit_amount if line.price else 0, line.quantity)
            for line in lines] == [
        ("Pizza your way (Size: L; Extras: Cheese, Olives)", 1480, 2),
        ("Pizza your way (Size: S)", 900, 1)]
    status = await client.get(f"/orders/{created.json()['id']}")
    assert "Size: L; Extras: Cheese, Olives" in status.text


@pytest.mark.parametrize(("choice", "fragment"), [
    ([], "choose 1 Size"),
    (["S", "M"], "at most 1 Size"),
    (["S", "Cheese", "Olives", "Chili", "Basil"], "at most 3 Extras"),
    (["S", "S"], "chosen twice"),
])
async def test_a_bad_choice_is_a_field_error_and_nothing_is_stored(
        client: httpx.AsyncClient, redis: ArqRedis, choice: list[str], fragment: str) -> None:
    item = await pizza(client)
    ids = option_ids(item)
    response = await client.post("/api/orders", json=order_of(item, *(ids[n] for n in choice)))
    assert response.status_code == 400, response.text
    assert fragment in problems(response)["items[0].modifiers"]
    assert await temp_keys(redis) == []


async def test_options_of_another_dish_or_restaurant_and_hostile_ids_are_refused(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    item = await pizza(client)
    ids = option_ids(item)
    ramen = {i["name"]: i for i in (await menu(client, "demo-2"))["items"]}["Ramen your way"]
    foreign = option_ids(ramen)["Shoyu"]
    soup = {i["name"]: i for i in (await menu(client))["items"]}["Tomato soup"]
    refused = await client.post("/api/orders", json=order_of(item, ids["S"], foreign))
    assert refused.status_code == 400
    assert "is not an option of Pizza your way" in problems(refused)["items[0].modifiers"]
    on_soup = await client.post("/api/orders", json=order_of(soup, ids["S"]))
    assert on_soup.status_code == 400
    for hostile in (0, -1, 2**31, 10**30, "1", 1.5, None, [1], {"id": 1}):
        body = order_of(item, ids["S"])
        body["items"][0]["modifiers"] = [hostile]
        response = await client.post("/api/orders", json=body)
        assert response.status_code == 400, (hostile, response.text)
    body = order_of(item, ids["S"])
    body["items"][0]["modifiers"] = list(range(1, 12))  # more than a line may carry
    assert (await client.post("/api/orders", json=body)).status_code == 400
    body["items"][0]["modifiers"] = "1,2"
    assert (await client.post("/api/orders", json=body)).status_code == 400
    assert await temp_keys(redis) == []


async def test_a_sold_out_option_is_refused(client: httpx.AsyncClient) -> None:
    item = await pizza(client)
    ids = option_ids(item)
    await ModifierOption.update({ModifierOption.available: False}).where(
        ModifierOption.id == ids["Cheese"])
    response = await client.post("/api/orders", json=order_of(item, ids["S"], ids["Cheese"]))
    assert response.status_code == 400
    assert "Cheese is sold out" in problems(response)["items[0].modifiers"]


async def test_repricing_or_deleting_options_later_changes_no_order(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    item = await pizza(client)
    ids = option_ids(item)
    unpaid = (await client.post("/api/orders", json=order_of(item, ids["M"],
                                                             ids["Cheese"]))).json()
    paid = (await client.post("/api/orders", json=order_of(item, ids["L"],
                                                           ids["Chili"]))).json()
    assert await pay_and_post_webhook(client, sandbox, paid) == "created"
    await ModifierOption.update({ModifierOption.price_delta: 9999}).where(
        ModifierOption.id.is_in([ids["M"], ids["L"]]))
    await ModifierGroup.delete().where(ModifierGroup.name == "Extras")
    # The unpaid order is paid after the change: it pays and keeps what it was sold at.
    assert await pay_and_post_webhook(client, sandbox, unpaid) == "created"
    for created, expected in ((unpaid, [("Size", "M", 200), ("Extras", "Cheese", 100)]),
                              (paid, [("Size", "L", 400), ("Extras", "Chili", 50)])):
        order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
        assert order is not None and not order.needs_review, order and order.review_reason
        [line] = (await client.get(f"/api/orders/{created['id']}")).json()["items"]
        assert [(m["group"], m["name"], m["price_delta"]["amount"])
                for m in line["modifiers"]] == expected
        assert line["unit_price"]["amount"] == 900 + sum(delta for *_, delta in expected)
    stored = await OrderItem.select(OrderItem.modifiers).order_by(OrderItem.id)
    assert len(stored) == 2 and all(row["modifiers"] for row in stored)


async def test_a_rebuild_from_stripe_brings_the_options_back(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    item = await pizza(client)
    ids = option_ids(item)
    soup = {i["name"]: i for i in (await menu(client))["items"]}["Tomato soup"]
    created = (await client.post("/api/orders", json=order_of(
        item, ids["L"], ids["Cheese"], ids["Basil"],
        more=[{"menu_item_id": soup["id"], "quantity": 1, "notes": "hot"}]))).json()
    before = (await client.get(f"/api/orders/{created['id']}")).json()
    await redis.flushdb()  # the temp order is gone: the order comes back from Stripe
    session_id = created["payment_url"].rsplit("/", 1)[1]
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    assert (await post_event(client, event)).json()["result"] == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None and order.rebuilt_from_stripe
    assert not order.needs_review, order.review_reason
    after = (await client.get(f"/api/orders/{created['id']}")).json()
    assert [(line["name"], line["modifiers"], line["unit_price"]) for line in after["items"]] \
        == [(line["name"], line["modifiers"], line["unit_price"]) for line in before["items"]]
    assert after["items"][0]["name"] == "Pizza your way"


async def test_the_kitchen_card_ticket_and_every_email_show_the_options(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    item = await pizza(client)
    ids = option_ids(item)
    created = (await client.post("/api/orders", json=order_of(item, ids["M"],
                                                              ids["Olives"]))).json()
    unpaid_view = await load_order_view(redis, created["id"])
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    paid_view = await load_order_view(redis, created["id"])
    assert unpaid_view is not None and paid_view is not None
    contact = RestaurantContact(id=paid_view.restaurant_id, name="Demo Bistro")
    for kind in set(SUBJECTS) - {"link_expired"}:  # every email that lists the lines
        view = unpaid_view if kind in ("order_confirmation", "link_expired",
                                       "payment_failed", "link_failed") else paid_view
        email = render_email(kind, view, contact, "http://testserver")
        assert "Size: M; Extras: Olives" in email.text, kind
        assert "Size: M; Extras: Olives" in email.html, kind
    await login(client, "kitchen@demo.test")
    board = await client.get("/kitchen/demo")
    assert "Size: M; Extras: Olives" in board.text
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None
    ticket = await client.get(f"/kitchen/demo/orders/{created['id']}/ticket")
    assert ticket.status_code == 200 and "Size: M; Extras: Olives" in ticket.text


async def test_an_order_too_large_to_rebuild_from_stripe_is_refused_at_intake(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    """Every note and allergy at its limit on 50 lines, each with four options: the snapshot
    would not fit Stripe's metadata, so intake refuses it (422) and stores nothing."""
    item = await pizza(client)
    ids = option_ids(item)
    chosen = [ids["L"], ids["Cheese"], ids["Olives"], ids["Chili"]]
    body = order_of(item)
    body["items"] = [{"menu_item_id": item["id"], "quantity": 1, "modifiers": chosen,
                      "notes": "n" * 200, "allergy": "a" * 200} for _ in range(50)]
    body.update(fulfillment="delivery", delivery_address="d" * 300, notes="o" * 500,
                allergy="y" * 200, customer={"name": "c" * 120, "email": "ada@example.com",
                                             "phone": LONGEST_PHONE})
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 422, response.text
    assert "split it into two orders" in problems(response)["items"]
    assert await temp_keys(redis) == []
    # Without the options the same order fits, and is taken.
    for line in body["items"]:
        line["modifiers"] = [ids["S"]]
    assert (await client.post("/api/orders", json=body)).status_code == 201
