"""The home page lists the restaurants a diner can order from: a new restaurant (not live yet,
no dish yet, or none available) is not listed until it is live and a dish is on its menu and
available; its own page, reached directly, says it is not taking orders yet (in the diner's
language) and asks for nothing; one whose dishes are all sold out says that. A restaurant
that stopped taking orders, its menu still there, stays listed with its badge."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from app.restaurants.tables import MenuItem, ModifierGroup, ModifierOption, Restaurant
from tests.helpers.accounts import login
from tests.helpers.admin import ADMIN

NEW_PLACE = {"slug": "new-place", "name": "New Place", "currency": "eur",
             "timezone": "Europe/Berlin", "address": "Torstraße 9, 10119 Berlin",
             "default_prep_minutes": "15", "auto_reject_minutes": "10",
             "capture_mode": "automatic", "accepting_orders": "on"}
GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


def listed(home: httpx.Response) -> list[str]:
    """The slugs the home page links to, in order."""
    assert home.status_code == 200, home.text[:500]
    return re.findall(r'class="restaurant-link" href="/r/([^"]+)"', home.text)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def _add_dish(client: httpx.AsyncClient, token: str, name: str, *,
                    available: bool) -> None:
    form = {"_csrf_token": token, "name": name, "category": "Mains", "price": "9.50"}
    added = await client.post("/admin/restaurants/new-place/menu",
                              data={**form, **({"available": "on"} if available else {})})
    assert added.status_code == 303, added.text[:500]


async def test_a_new_restaurant_is_listed_once_a_dish_can_be_ordered(
        client: httpx.AsyncClient) -> None:
    token = await login(client, ADMIN)
    created = await client.post("/admin/restaurants", data={**NEW_PLACE, "_csrf_token": token})
    assert created.status_code == 303, created.text[:500]
    assert listed(await client.get("/")) == ["demo", "demo-2"]

    page = await client.get("/r/new-place")
    assert page.status_code == 200
    assert "New Place is not taking orders yet." in text_of(page.text)
    assert "Place order and pay" not in page.text  # nothing to order: no checkout to fill
    german = await client.get("/r/new-place", headers=GERMAN)
    assert "New Place nimmt noch keine Bestellungen an." in text_of(german.text)

    await _add_dish(client, token, "Goulash", available=False)  # on the menu, not available
    # live (its checklist done: tests/integration/manage/test_go_live.py), yet nothing to order
    await Restaurant.update({Restaurant.live_since: datetime.now(UTC),
                             Restaurant.accepting_orders: True}).where(
        Restaurant.slug == "new-place")
    assert "new-place" not in listed(await client.get("/"))

    await _add_dish(client, token, "Schnitzel", available=True)
    assert listed(await client.get("/")) == ["demo", "demo-2", "new-place"]
    page = await client.get("/r/new-place")
    assert "not taking orders yet" not in page.text
    assert "Schnitzel" in page.text and "Place order and pay" in page.text


async def test_a_menu_with_nothing_available_is_not_listed(client: httpx.AsyncClient) -> None:
    demo_2 = await Restaurant.objects().get(Restaurant.slug == "demo-2")
    assert demo_2 is not None
    await MenuItem.update({MenuItem.available: False}).where(MenuItem.restaurant == demo_2.id)
    assert listed(await client.get("/")) == ["demo"]
    page = await client.get("/r/demo-2")  # its own page says why, its menu still shown
    assert "Everything on the menu is sold out right now." in text_of(page.text)
    assert "not taking orders yet" not in page.text


async def test_a_restaurant_not_taking_orders_keeps_its_place_and_badge(
        client: httpx.AsyncClient) -> None:
    await Restaurant.update({Restaurant.accepting_orders: False}).where(
        Restaurant.slug == "demo-2")
    home = await client.get("/")
    assert listed(home) == ["demo", "demo-2"]
    assert "Not taking orders" in home.text


async def test_a_menu_whose_only_dish_needs_a_sold_out_choice_is_not_listed(
        client: httpx.AsyncClient) -> None:
    """Its one available dish needs a size and every size is sold out: nothing can be
    ordered (its own page says everything is sold out), so the home page does not list it;
    a size back on sale lists it again. An optional group sold out keeps nothing off."""
    demo_2 = await Restaurant.objects().get(Restaurant.slug == "demo-2")
    assert demo_2 is not None
    dishes = await MenuItem.objects().where(MenuItem.restaurant == demo_2.id).order_by(
        MenuItem.id)
    await MenuItem.update({MenuItem.available: False}).where(
        MenuItem.restaurant == demo_2.id, MenuItem.id != dishes[0].id)
    size = ModifierGroup(menu_item=dishes[0].id, name="Size", required=True, min_choices=1,
                         max_choices=1)
    await size.save()
    small = ModifierOption(modifier_group=size.id, name="Small", available=False)
    await small.save()
    await ModifierOption(modifier_group=size.id, name="Large", available=False).save()
    extras = ModifierGroup(menu_item=dishes[0].id, name="Extras", required=False,
                           min_choices=0, max_choices=2)
    await extras.save()
    await ModifierOption(modifier_group=extras.id, name="Egg", available=False).save()

    assert listed(await client.get("/")) == ["demo"]
    page = await client.get("/r/demo-2")  # its own page agrees
    assert "Everything on the menu is sold out right now." in text_of(page.text)

    await ModifierOption.update({ModifierOption.available: True}).where(
        ModifierOption.id == small.id)
    assert listed(await client.get("/")) == ["demo", "demo-2"]
    page = await client.get("/r/demo-2")
    assert "Everything on the menu is sold out right now." not in text_of(page.text)

    # a group asking for two (not "required", min_choices 2) with one left is as sold out
    await ModifierGroup.update({ModifierGroup.required: False, ModifierGroup.min_choices: 2,
                                ModifierGroup.max_choices: 2}).where(
        ModifierGroup.id == size.id)
    assert listed(await client.get("/")) == ["demo"]
    assert "Everything on the menu is sold out right now." in text_of(
        (await client.get("/r/demo-2")).text)
