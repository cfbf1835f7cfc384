"""Allergens an option adds ("Pesto | 1.00 | Nuts"), from the owner's dish editor to the
diner's menu and the kitchen ticket: named in English or German, kept on an edit, an unknown
name refused with its line and nothing saved; a paid order keeps the allergens its options
had."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
from arq.connections import ArqRedis

from app.orders.tables import PaidOrder
from app.restaurants.tables import MenuItem, ModifierGroup, ModifierOption
from tests.helpers.accounts import login
from tests.helpers.menu_forms import item_form
from tests.helpers.orders import menu, pay_and_post_webhook
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.stripe_events import paid_events, post_event

PASTA = {"name": "Penne", "category": "Mains", "description": "", "price": "9.00",
         "tax_rate": "", "position": "0", "available": "on", "allergens_shown": "1",
         "allergen-gluten": "on", "groups_shown": "1",
         "group-0-name": "Pasta", "group-0-required": "on", "group-0-min": "1",
         "group-0-max": "1", "group-0-options": "Penne\nGluten-free penne | 1.50",
         "group-1-name": "Extras", "group-1-min": "0", "group-1-max": "3",
         "group-1-options": "Pesto | 1.00 | Nuts\nParmesan | 0,80 | milch\n"
                            "Seeds | | sesame , CELERY"}


async def _options() -> dict[str, list[str]]:
    return {row["name"]: row["allergens"] for row in await ModifierOption.select(
        ModifierOption.name, ModifierOption.allergens)}


async def _menu_state() -> tuple[Any, ...]:
    return (await MenuItem.select().order_by(MenuItem.id),
            await ModifierGroup.select().order_by(ModifierGroup.id),
            await ModifierOption.select().order_by(ModifierOption.id))


async def _penne(client: httpx.AsyncClient) -> int:
    token = await login(client, "owner@demo.test")
    saved = await client.post("/manage/demo/menu/items", data={"_csrf_token": token, **PASTA})
    assert saved.status_code == 303, saved.text
    item = await MenuItem.objects().get(MenuItem.name == "Penne")
    assert item is not None
    return int(item.id)


async def test_an_owner_declares_the_allergens_an_option_adds(client: httpx.AsyncClient
                                                             ) -> None:
    item_id = await _penne(client)
    options = await _options()
    assert (options["Pesto"], options["Parmesan"], options["Seeds"]) == (
        ["nuts"], ["milk"], ["celery", "sesame"])
    assert options["Penne"] == options["Gluten-free penne"] == []
    # the form shows them back in English, in the regulation's order, each line parseable
    form = await item_form(client, item_id)
    assert form["group-1-options"].split("\n") == [
        "Pesto | 1.00 | Nuts", "Parmesan | 0.80 | Milk", "Seeds | 0.00 | Celery, Sesame"]
    assert form["group-0-options"] == "Penne\nGluten-free penne | 1.50"
    # posted back as the page filled it, nothing changes; a line without them drops them
    again = await client.post(f"/manage/demo/menu/items/{item_id}", data=form)
    assert again.status_code == 303, again.text
    assert await _options() == options
    form.update({"group-1-options": "Pesto | 1.00\nParmesan | 0.80 | Milk, Eier",
                 "group-1-max": "2"})
    assert (await client.post(f"/manage/demo/menu/items/{item_id}", data=form)
            ).status_code == 303
    options = await _options()
    assert (options["Pesto"], options["Parmesan"]) == ([], ["eggs", "milk"])


async def test_an_unknown_allergen_is_named_with_its_line_and_nothing_is_saved(
        client: httpx.AsyncClient) -> None:
    item_id = await _penne(client)
    before = await _menu_state()
    form = await item_form(client, item_id)
    for options, message in [
            ("Pesto | 1.00 | Nuts\nPine nuts | 1.00 | Nuts, Almonds",
             "Line 2: &#39;Almonds&#39; is not one of the 14 allergens"),
            ("Pesto | 1.00 | Nuts | Milk", "Line 1: at most three parts")]:
        refused = await client.post(f"/manage/demo/menu/items/{item_id}", data={
            **form, "name": "Renamed", "group-1-options": options})
        assert refused.status_code == 422, refused.text[:300]
        assert 'id="group-1-options-error"' in refused.text
        assert message in refused.text, refused.text.split('group-1-options-error">')[1][:200]
        assert "Nothing was saved." in refused.text
        assert await _menu_state() == before


def _option_label(page: str, name: str) -> str:
    """The text of the option's label on the diner's menu ("Pesto +€1.00 · contains Nuts")."""
    [label] = [label for label in re.findall(r"<label>(.*?)</label>", page, re.S)
               if f"> {name} " in label or label.endswith(f"> {name}")]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", label)).split())


async def test_the_diner_sees_an_options_allergens_in_their_language(
        client: httpx.AsyncClient) -> None:
    await _penne(client)
    english = (await client.get("/r/demo", headers={"Accept-Language": "en-GB,en"})).text
    assert _option_label(english, "Pesto") == "Pesto +€1.00 · contains Nuts"
    assert _option_label(english, "Seeds") == "Seeds · contains Celery, Sesame"
    assert _option_label(english, "Gluten-free penne") == "Gluten-free penne +€1.50"
    assert "Contains: Gluten" in english  # the dish's own line, as the owner ticked it
    client.cookies.clear()
    german = (await client.get("/r/demo", headers={"Accept-Language": "de-DE,de"})).text
    assert _option_label(german, "Pesto").endswith("· enthält Schalenfrüchte")
    assert _option_label(german, "Parmesan").endswith("· enthält Milch")
    assert "Enthält: Gluten" in german
    # the menu API lists them as codes beside the dish's
    api = {item["name"]: item for item in (await client.get(
        "/api/restaurants/demo/menu")).json()["items"]}["Penne"]
    assert {option["name"]: option["allergens"] for group in api["groups"]
            for option in group["options"]} == {
        "Penne": [], "Gluten-free penne": [], "Pesto": ["nuts"], "Parmesan": ["milk"],
        "Seeds": ["celery", "sesame"]}


async def test_the_kitchen_ticket_names_the_allergens_the_chosen_options_added(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    item_id = await _penne(client)
    ids = {option["name"]: option["id"] for group in {
        item["name"]: item for item in (await menu(client))["items"]}["Penne"]["groups"]
        for option in group["options"]}
    created = (await client.post("/api/orders", json={
        "restaurant": "demo", "items": [{"menu_item_id": item_id, "quantity": 1, "modifiers": [
            ids["Penne"], ids["Pesto"], ids["Seeds"], ids["Parmesan"]]}],
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "fulfillment": "pickup"})).json()
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    # the paid line keeps them as they were: the owner's later edit changes no order
    form = await item_form(client, item_id)
    form["group-1-options"] = "Pesto | 1.00\nParmesan | 0.80\nSeeds"
    assert (await client.post(f"/manage/demo/menu/items/{item_id}", data=form)
            ).status_code == 303
    client.cookies.clear()
    await login(client, "kitchen@demo.test")
    shown = "Pasta: Penne; Extras: Pesto (contains Nuts), Parmesan (contains Milk), " \
            "Seeds (contains Celery, Sesame)"
    board = await client.get("/kitchen/demo")
    assert shown in board.text
    ticket = await client.get(f"/kitchen/demo/orders/{created['id']}/ticket")
    assert ticket.status_code == 200 and shown in ticket.text
    # the diner's own status page lists the options as chosen, as before
    status = (await client.get(f"/api/orders/{created['id']}")).json()
    assert [m["name"] for m in status["items"][0]["modifiers"]] == [
        "Penne", "Pesto", "Parmesan", "Seeds"]


async def test_an_order_rebuilt_from_stripe_still_names_them(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """The snapshot has no room for them: a rebuild reads them from the menu as it is."""
    item_id = await _penne(client)
    ids = {option["name"]: option["id"] for group in {
        item["name"]: item for item in (await menu(client))["items"]}["Penne"]["groups"]
        for option in group["options"]}
    created = (await client.post("/api/orders", json={
        "restaurant": "demo", "items": [{"menu_item_id": item_id, "quantity": 1,
                                         "modifiers": [ids["Penne"], ids["Pesto"]]}],
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "fulfillment": "pickup"})).json()
    await redis.flushdb()  # the temp order is gone: the order comes back from Stripe
    session_id = created["payment_url"].rsplit("/", 1)[1]
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    assert (await post_event(client, event)).json()["result"] == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None and order.rebuilt_from_stripe and not order.needs_review
    client.cookies.clear()
    await login(client, "kitchen@demo.test")
    ticket = await client.get(f"/kitchen/demo/orders/{created['id']}/ticket")
    assert "Pasta: Penne; Extras: Pesto (contains Nuts)" in ticket.text
