"""The menu page's cart with options, without JavaScript: the diner ticks a size and extras and
presses Add; each choice is its own line priced by the server; a required group left out is
a field error next to the dish; the checkout places the order with the options frozen."""

from __future__ import annotations

import re

import httpx
from arq.connections import ArqRedis

from app.orders.tables import OrderItem, PaidOrder
from tests.helpers.orders import menu, pay_and_post_webhook, temp_keys
from tests.helpers.sandbox import RunningSandbox


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_a_diner_adds_a_pizza_twice_with_other_options_and_pays(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    page = await client.get("/r/demo")
    item = {i["name"]: i for i in (await menu(client))["items"]}["Pizza your way"]
    groups = {g["name"]: g for g in item["groups"]}
    size = {o["name"]: o["id"] for o in groups["Size"]["options"]}
    extra = {o["name"]: o["id"] for o in groups["Extras"]["options"]}
    assert f'name="opt-{item["id"]}-g{groups["Size"]["id"]}"' in page.text  # radios
    assert f'name="opt-{item["id"]}-{extra["Cheese"]}"' in page.text  # boxes
    form = {"_csrf_token": client.cookies["csrftoken"], "name": "Ada",
            "email": "ada@example.com", "fulfillment": "pickup"}
    # Add without a size: the dish says what is missing, nothing is added.
    missing = await client.post("/r/demo/cart", data={**form, "op": f"add:{item['id']}"})
    assert f'id="options-{item["id"]}-error"' in missing.text
    assert "Choose 1 Size for Pizza your way" in missing.text
    assert "Nothing here yet" in missing.text
    large = {**form, f"opt-{item['id']}-g{groups['Size']['id']}": str(size["L"]),
             f"opt-{item['id']}-{extra['Cheese']}": "1", "op": f"add:{item['id']}"}
    cart = await client.post("/r/demo/cart", data=large)
    key = f"{item['id']}-" + ".".join(str(i) for i in sorted([size["L"], extra["Cheese"]]))
    assert f'name="qty-{key}" value="1"' in cart.text
    assert "Size: L; Extras: Cheese" in cart.text
    # Once more with the same options: the same line, two of them; then a small one.
    fields = {**large, f"qty-{key}": "1"}
    cart = await client.post("/r/demo/cart", data=fields)
    assert f'name="qty-{key}" value="2"' in cart.text
    small = {**form, f"qty-{key}": "2", f"opt-{item['id']}-g{groups['Size']['id']}":
             str(size["S"]), "op": f"add:{item['id']}"}
    cart = await client.post("/r/demo/cart", data=small)
    text = text_of(cart.text)
    assert "€28.00" in text and "€9.00" in text  # 2 x (9.00 + 4.00 + 1.00); 9.00
    assert "Place order and pay €37.00" in text
    # A client-side price or a forged key cannot change what is charged.
    checkout = {**form, f"qty-{key}": "2", f"qty-{item['id']}-{size['S']}": "1",
                "price": "1", f"qty-{item['id']}-{size['S']}.999999": "1"}
    placed = await client.post("/r/demo/checkout", data=checkout)
    assert placed.status_code == 422  # option 999999 is not the pizza's
    assert await temp_keys(redis) == []
    del checkout[f"qty-{item['id']}-{size['S']}.999999"]
    placed = await client.post("/r/demo/checkout", data=checkout)
    assert placed.status_code == 303, text_of(placed.text)[:500]
    ref = placed.headers["location"].rsplit("/", 1)[1]
    created = (await client.get(f"/api/orders/{ref}")).json()
    assert created["total"]["amount"] == 3700
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None
    lines = await OrderItem.select(OrderItem.unit_amount, OrderItem.quantity,
                                   OrderItem.modifiers).where(
        OrderItem.paid_order == order.id).order_by(OrderItem.id)
    assert sorted((row["unit_amount"], row["quantity"]) for row in lines) == [(900, 1),
                                                                              (1400, 2)]


async def test_a_german_diner_is_told_in_german_what_the_dish_needs(
        client: httpx.AsyncClient) -> None:
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    await client.get("/r/demo", headers=german)
    item = {i["name"]: i for i in (await menu(client))["items"]}["Pizza your way"]
    groups = {g["name"]: g for g in item["groups"]}
    extras = [o["id"] for o in groups["Extras"]["options"]]
    form = {"_csrf_token": client.cookies["csrftoken"], "op": f"add:{item['id']}"}
    missing = await client.post("/r/demo/cart", data=form, headers=german)
    assert "Für Pizza your way bitte 1 Size wählen." in text_of(missing.text)
    assert "Choose" not in text_of(missing.text)
    size = groups["Size"]["options"][0]["id"]
    too_many = {**form, f"opt-{item['id']}-g{groups['Size']['id']}": str(size),
                **{f"opt-{item['id']}-{extra}": "1" for extra in extras}}
    assert len(extras) > groups["Extras"]["max_choices"]  # the demo's 4 extras, 3 at most
    crowded = await client.post("/r/demo/cart", data=too_many, headers=german)
    assert (f"Für Pizza your way höchstens {groups['Extras']['max_choices']} Extras wählen."
            in text_of(crowded.text))
    # The API keeps its English for developers.
    body = {"restaurant": "demo", "items": [{"menu_item_id": item["id"], "quantity": 1}],
            "customer": {"name": "Ada", "email": "ada@example.com"}, "fulfillment": "pickup"}
    api = await client.post("/api/orders", json=body, headers=german)
    assert api.status_code == 400 and "choose 1 Size for Pizza your way" in api.text


async def test_a_dish_with_options_takes_its_own_note_and_allergy(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    await client.get("/r/demo")
    item = {i["name"]: i for i in (await menu(client))["items"]}["Pizza your way"]
    groups = {g["name"]: g for g in item["groups"]}
    size = {o["name"]: o["id"] for o in groups["Size"]["options"]}
    form = {"_csrf_token": client.cookies["csrftoken"], "name": "Ada",
            "email": "ada@example.com", "fulfillment": "pickup"}
    cart = await client.post("/r/demo/cart", data={
        **form, f"opt-{item['id']}-g{groups['Size']['id']}": str(size["L"]),
        "op": f"add:{item['id']}"})
    key = f"{item['id']}-{size['L']}"
    assert f'name="note-{key}"' in cart.text and f'name="allergic-{key}"' in cart.text
    # The box ticked without words: the line says so, nothing is placed.
    lines = {**form, f"qty-{key}": "1", f"note-{key}": "well done, cut in 8",
             f"allergic-{key}": "1", f"allergy-{key}": ""}
    unnamed = await client.post("/r/demo/checkout", data=lines)
    assert unnamed.status_code == 422
    assert f'id="allergy-{key}-error"' in unnamed.text
    assert 'value="well done, cut in 8"' in unnamed.text  # what the diner wrote stays
    placed = await client.post("/r/demo/checkout", data={**lines, f"allergy-{key}": "sesame"},
                               follow_redirects=False)
    assert placed.status_code == 303, text_of(placed.text)[:500]
    ref = placed.headers["location"].rsplit("/", 1)[1]
    [line] = (await client.get(f"/api/orders/{ref}")).json()["items"]
    assert line["notes"] == "well done, cut in 8" and line["allergy"] == "sesame"
    created = (await client.get(f"/api/orders/{ref}")).json()
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None
    [row] = await OrderItem.select(OrderItem.notes, OrderItem.allergy).where(
        OrderItem.paid_order == order.id)
    assert row == {"notes": "well done, cut in 8", "allergy": "sesame"}


async def test_a_basket_under_the_smallest_card_payment_says_so_before_checkout(
        client: httpx.AsyncClient) -> None:
    """A free glass of water alone cannot be paid by card (at least €0.50): the basket says
    so under its total, not only after "Place order and pay"; with another dish it goes."""
    from app.restaurants.tables import MenuItem

    water = await MenuItem.objects().get(MenuItem.name == "Tomato soup")
    assert water is not None
    await MenuItem.update({MenuItem.price_amount: 0}).where(MenuItem.id == water.id)
    await client.get("/r/demo")
    form = {"_csrf_token": client.cookies["csrftoken"], "name": "Ada",
            "email": "ada@example.com", "fulfillment": "pickup"}
    alone = await client.post("/r/demo/cart", data={**form, "op": f"add:{water.id}"})
    assert "card payments must be at least €0.50" in text_of(alone.text), text_of(
        alone.text)[-1500:]
    other = next(i for i in (await menu(client))["items"] if i["id"] != water.id
                 and i["available"] and not i["groups"])
    both = await client.post("/r/demo/cart", data={**form, f"qty-{water.id}": "1",
                                                     "op": f"add:{other['id']}"})
    assert f'name="qty-{other["id"]}" value="1"' in both.text
    assert "card payments must be at least" not in both.text
