"""The allergens an option adds ("Pesto | 1.00 | Nuts") follow the order's lines wherever the
diner reads them after the menu: the cart, the checkout, the status page before and after
payment and every email (HTML and text), in the diner's language ("Extras: Pesto (contains
Nuts)", "(enthält Schalenfrüchte)"). They were on the menu only (outside try: a diner
allergic to nuts saw "Sauce: Pesto" everywhere after it)."""

from __future__ import annotations

import html
import re

import httpx
from arq.connections import ArqRedis

from app.orders.tables import PaidOrder
from app.restaurants.tables import MenuItem
from tests.helpers.accounts import login
from tests.helpers.orders import menu, pay_and_post_webhook
from tests.helpers.payments import email_received
from tests.helpers.sandbox import RunningSandbox

PASTA = {"name": "Pasta your way", "category": "Mains", "description": "", "price": "9.00",
         "tax_rate": "", "position": "0", "available": "on", "allergens_shown": "1",
         "allergen-gluten": "on", "allergen-eggs": "on", "groups_shown": "1",
         "group-0-name": "Sauce", "group-0-required": "on", "group-0-min": "1",
         "group-0-max": "1", "group-0-options": "Pesto | 1.00 | Nuts\nTomato",
         "group-1-name": "Extras", "group-1-min": "0", "group-1-max": "2",
         "group-1-options": "Parmesan | 0.80 | Milk\nBasil"}


def text_of(page: str) -> str:
    body = re.sub(r"(?s)<head\b.*?</head>", " ", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


async def pasta(client: httpx.AsyncClient) -> tuple[int, dict[str, int], dict[str, int]]:
    """The owner's "Pasta your way" (Gluten, Eggs; Pesto adds Nuts, Parmesan Milk): its id,
    its groups' and options' ids by name; the client logged out again."""
    token = await login(client, "owner@demo.test")
    saved = await client.post("/manage/demo/menu/items", data={"_csrf_token": token, **PASTA})
    assert saved.status_code == 303, saved.text
    client.cookies.clear()
    item = await MenuItem.objects().get(MenuItem.name == "Pasta your way")
    assert item is not None
    api = {i["name"]: i for i in (await menu(client))["items"]}["Pasta your way"]
    return (int(item.id), {g["name"]: g["id"] for g in api["groups"]},
            {o["name"]: o["id"] for g in api["groups"] for o in g["options"]})



async def test_the_diner_reads_an_options_allergens_on_every_page_and_email(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    item, groups, options = await pasta(client)
    shown = "Sauce: Pesto (contains Nuts); Extras: Parmesan (contains Milk)"
    await client.get("/r/demo?lang=en")
    form = {"_csrf_token": client.cookies["csrftoken"], "name": "Ada",
            "email": "nuts@example.com", "fulfillment": "pickup"}
    cart = await client.post("/r/demo/cart", data={
        **form, f"opt-{item}-g{groups['Sauce']}": str(options["Pesto"]),
        f"opt-{item}-{options['Parmesan']}": "1", "op": f"add:{item}"})
    assert shown in text_of(cart.text)
    key = f"{item}-" + ".".join(str(i) for i in sorted([options["Pesto"], options["Parmesan"]]))
    # the checkout refused for a missing field shows the same lines
    refused = await client.post("/r/demo/checkout", data={**form, "name": "",
                                                          f"qty-{key}": "1"})
    assert refused.status_code == 422 and shown in text_of(refused.text)
    placed = await client.post("/r/demo/checkout", data={**form, f"qty-{key}": "1"})
    assert placed.status_code == 303, text_of(placed.text)[:500]
    ref = placed.headers["location"].rsplit("/", 1)[1]
    assert shown in text_of((await client.get(f"/orders/{ref}?lang=en")).text)
    unpaid = await email_received(redis, sandbox, "order_confirmation", ref, to="nuts@example.com")
    created = (await client.get(f"/api/orders/{ref}")).json()
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    assert shown in text_of((await client.get(f"/orders/{ref}?lang=en")).text)
    receipt = await email_received(redis, sandbox, "payment_received", ref, to="nuts@example.com")
    await PaidOrder.update({PaidOrder.status: "accepted"}).where(PaidOrder.public_id == ref)
    accepted = await email_received(redis, sandbox, "order_accepted", ref, to="nuts@example.com")
    await PaidOrder.update({PaidOrder.status: "ready"}).where(PaidOrder.public_id == ref)
    ready = await email_received(redis, sandbox, "order_ready", ref, to="nuts@example.com")
    for message in (unpaid, receipt, accepted, ready):
        assert shown in " ".join(message["text"].split()), message["text"]
        assert shown in text_of(message["html"]), message["subject"]


async def test_a_german_diner_reads_them_in_german(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    item, _, options = await pasta(client)
    created = (await client.post("/api/orders", json={
        "restaurant": "demo", "language": "de",
        "items": [{"menu_item_id": item, "quantity": 1, "modifiers": [options["Pesto"]]}],
        "customer": {"name": "Ada", "email": "nuss@example.com"},
        "fulfillment": "pickup"})).json()
    shown = "Sauce: Pesto (enthält Schalenfrüchte)"
    assert shown in text_of((await client.get(f"/orders/{created['id']}?lang=de")).text)
    unpaid = await email_received(redis, sandbox, "order_confirmation", created["id"],
                                  to="nuss@example.com")
    assert shown in " ".join(unpaid["text"].split())
    assert shown in text_of(unpaid["html"])


async def test_the_checkout_says_what_the_order_contains_beside_the_allergy_box(
        client: httpx.AsyncClient) -> None:
    """"This order contains: Gluten, Eggs, Nuts (Pesto)": the dish's allergens, and those only
    an option brings with the option named; server-rendered, in the diner's language."""
    item, groups, options = await pasta(client)
    for language, said in [("en", "This order contains: Gluten, Eggs, Nuts (Pesto)"),
                           ("de", "Diese Bestellung enthält: Gluten, Eier, "
                                  "Schalenfrüchte (Pesto)")]:
        client.cookies.clear()
        page = await client.get(f"/r/demo?lang={language}")
        assert 'id="order-contains"' not in page.text  # nothing ordered, nothing said
        form = {"_csrf_token": client.cookies["csrftoken"], "name": "", "fulfillment": "pickup",
                "has_allergy": "1", "allergy": "Tree nuts (severe)"}
        cart = await client.post("/r/demo/cart", data={
            **form, f"opt-{item}-g{groups['Sauce']}": str(options["Pesto"]),
            "op": f"add:{item}"})
        box = cart.text.split('class="allergy-field order-allergy"')[1].split("</div>")[0]
        assert said in text_of(box), text_of(box)
        refused = await client.post("/r/demo/checkout",
                                    data={**form, f"qty-{item}-{options['Pesto']}": "1"})
        assert refused.status_code == 422 and said in text_of(refused.text)
    # Tomato adds nothing: the dish's own, no option named
    tomato = await client.post("/r/demo/checkout", data={
        **form, f"qty-{item}-{options['Tomato']}": "1", "_csrf_token": client.cookies["csrftoken"]})
    assert "Diese Bestellung enthält: Gluten, Eier" in text_of(tomato.text)
    assert "(Pesto)" not in text_of(tomato.text)


def dish_contains(page: str, name: str) -> str:
    """The dish's allergen line on the menu ("" without one)."""
    card = page.split(f'>{name}</span>', 1)[1].split("</div>", 1)[0]
    found = re.search(r'class="menu-item-allergens">(.*?)</span>', card, re.S)
    return html.unescape(found.group(1)).strip() if found else ""


async def test_the_dishs_contains_line_says_some_options_add_more(
        client: httpx.AsyncClient) -> None:
    await pasta(client)
    english = (await client.get("/r/demo?lang=en")).text
    assert dish_contains(english, "Pasta your way") == \
        "Contains: Gluten, Eggs; some options add more"
    # a dish whose options add none: as before
    assert "some options" not in dish_contains(english, "Pizza your way")
    german = (await client.get("/r/demo?lang=de")).text
    assert dish_contains(german, "Pasta your way") == \
        "Enthält: Gluten, Eier; manche Optionen enthalten weitere"
    # a dish without allergens of its own still says its options add some
    await MenuItem.update({MenuItem.allergens: []}).where(MenuItem.name == "Pasta your way")
    english = (await client.get("/r/demo?lang=en")).text
    assert dish_contains(english, "Pasta your way") == "Some options add allergens"
