"""Restaurants and menus from the admin: create, edit, menu items, field errors (4xx) and
no partial writes."""

from __future__ import annotations

import re

import httpx
import pytest

from app.restaurants.editing import parse_price
from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.admin import HTMX

VALID = {"slug": "new-place", "name": "New Place", "currency": "eur",
         "timezone": "Europe/Paris", "phone": "+33 1 23 45 67 89", "email": "hi@new.test",
         "address": "1 Rue", "default_prep_minutes": "20", "auto_reject_minutes": "5",
         "capture_mode": "manual", "accepting_orders": "on"}


@pytest.mark.parametrize(("raw", "currency", "expected"), [
    ("11.50", "eur", 1150), ("11", "eur", 1100), ("0.5", "eur", 50), ("11,50", "eur", 1150),
    ("1150", "jpy", 1150), ("€3.20", "eur", 320)])
def test_prices_are_read_into_minor_units(raw: str, currency: str, expected: int) -> None:
    assert parse_price(raw, currency) == expected


@pytest.mark.parametrize("raw", ["", "abc", "-1", "1.234", "NaN", "1e99"])
def test_bad_prices_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_price(raw, "eur")


async def test_create_a_restaurant(admin: tuple[httpx.AsyncClient, str]) -> None:
    client, token = admin
    response = await client.post("/admin/restaurants", data={**VALID, "_csrf_token": token})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin/restaurants/new-place?saved=created"
    landing = (await client.get(response.headers["location"])).text
    assert "New Place is created, not live yet" in landing  # the admin knows it worked
    assert "Next: add its dishes" in landing
    assert 'href="/manage/new-place/staff"' in landing
    created = await Restaurant.objects().get(Restaurant.slug == "new-place")
    assert created is not None
    assert (created.name, created.timezone, created.capture_mode) == (
        "New Place", "Europe/Paris", "manual")
    assert created.default_prep_minutes == 20 and created.auto_reject_minutes == 5
    # not live until its owner goes live from the checklist, whatever the old form's box said
    assert created.accepting_orders is False and created.live_since is None


async def test_invalid_restaurant_shows_field_errors_and_writes_nothing(
        admin: tuple[httpx.AsyncClient, str]) -> None:
    client, token = admin
    before = await Restaurant.count()
    response = await client.post("/admin/restaurants", data={
        **VALID, "_csrf_token": token, "slug": "Bad Slug!", "currency": "euro",
        "timezone": "Mars/Olympus", "default_prep_minutes": "0", "email": "nope",
        "capture_mode": "later"})
    assert response.status_code == 422
    for message in ("Lower-case letters, digits and dashes only.",
                    "A three-letter ISO code", "Unknown time zone", "Must be between 1 and 240",
                    "Enter a valid email address.", "Choose automatic or manual."):
        assert message in response.text, message
    assert 'aria-invalid="true"' in response.text
    assert 'value="Mars/Olympus"' in response.text  # what was typed comes back
    assert await Restaurant.count() == before
    taken = await client.post("/admin/restaurants", data={
        **VALID, "_csrf_token": token, "slug": "demo"})
    assert taken.status_code == 422 and "That slug is taken." in taken.text
    reserved = await client.post("/admin/restaurants", data={
        **VALID, "_csrf_token": token, "slug": "new"})
    assert reserved.status_code == 422 and "That slug is reserved." in reserved.text
    assert await Restaurant.count() == before


@pytest.mark.parametrize(("typed", "said"), [
    # "EST" never moves to summer time: a New York restaurant's times an hour off half the
    # year (an outside try: an owner typed it, and it was taken)
    ("EST", "EST is an abbreviation or a fixed offset, not a place"),
    ("CET", "CET is an abbreviation or a fixed offset, not a place"),
    ("Etc/GMT+5", "Etc/GMT+5 is an abbreviation or a fixed offset, not a place"),
    ("europe/berlin", "Did you mean Europe/Berlin?"),
    ("Berlin", "Did you mean Europe/Berlin?"),
])
async def test_a_time_zone_must_be_a_place_and_the_form_suggests_them(
        admin: tuple[httpx.AsyncClient, str], typed: str, said: str) -> None:
    client, token = admin
    before = await Restaurant.count()
    refused = await client.post("/admin/restaurants", data={
        **VALID, "_csrf_token": token, "timezone": typed})
    assert refused.status_code == 422 and said in refused.text, refused.text[-3000:]
    assert await Restaurant.count() == before
    form = (await client.get("/admin/restaurants/new")).text
    assert 'list="time-zones"' in form and '<option value="Europe/Berlin">' in form
    assert '<option value="EST">' not in form


async def test_edit_a_restaurant_and_pause_orders(admin: tuple[httpx.AsyncClient, str]) -> None:
    client, token = admin
    form = {**VALID, "_csrf_token": token, "name": "Demo Bistro Renamed",
            "timezone": "Europe/Berlin", "capture_mode": "automatic"}
    del form["accepting_orders"]  # an unticked checkbox is not sent
    response = await client.post("/admin/restaurants/demo", data=form)
    assert response.status_code == 303, response.text
    demo = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert demo is not None
    assert demo.name == "Demo Bistro Renamed" and demo.accepting_orders is False
    assert demo.slug == "demo"  # the slug is not editable

    bad = await client.post("/admin/restaurants/demo", data={
        **form, "name": "Half written", "timezone": "Nowhere/Nope"})
    assert bad.status_code == 422 and "Unknown time zone" in bad.text
    demo = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert demo is not None and demo.name == "Demo Bistro Renamed"
    assert (await client.post("/admin/restaurants/nope", data=form)).status_code == 404


async def test_menu_items_create_edit_toggle(admin: tuple[httpx.AsyncClient, str]) -> None:
    client, token = admin
    demo = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert demo is not None
    response = await client.post("/admin/restaurants/demo/menu", data={
        "_csrf_token": token, "name": "Panna cotta", "category": "Desserts",
        "description": "Vanilla", "price": "11.50", "position": "9", "available": "on"})
    assert response.status_code == 303, response.text
    item = await MenuItem.objects().get((MenuItem.name == "Panna cotta")
                                        & (MenuItem.restaurant == demo.id))
    assert item is not None
    assert (item.price_amount, item.category, item.position, item.available) == (
        1150, "Desserts", 9, True)
    page = (await client.get("/admin/restaurants/demo")).text
    assert "11.50" in page and "Panna cotta" in page

    edit = await client.get(f"/admin/restaurants/demo/menu/{item.id}")
    assert edit.status_code == 200 and 'value="11.50"' in edit.text
    response = await client.post(f"/admin/restaurants/demo/menu/{item.id}", data={
        "_csrf_token": token, "name": "Panna cotta", "category": "Sweets", "price": "9",
        "position": "2", "available": "on"})
    assert response.status_code == 303
    item = await MenuItem.objects().get(MenuItem.id == item.id)
    assert item is not None and (item.price_amount, item.category) == (900, "Sweets")

    toggled = await client.post(f"/admin/restaurants/demo/menu/{item.id}/toggle",
                                data={"_csrf_token": token}, headers=HTMX)
    assert toggled.status_code == 200
    assert f'id="menu-item-{item.id}"' in toggled.text and "Unavailable" in toggled.text
    item = await MenuItem.objects().get(MenuItem.id == item.id)
    assert item is not None and item.available is False
    # The public menu API follows.
    menu = (await client.get("/api/restaurants/demo/menu")).json()["items"]
    assert [entry["available"] for entry in menu if entry["name"] == "Panna cotta"] == [False]


async def test_menu_item_errors_write_nothing(admin: tuple[httpx.AsyncClient, str]) -> None:
    client, token = admin
    before = await MenuItem.count()
    response = await client.post("/admin/restaurants/demo/menu", data={
        "_csrf_token": token, "name": "", "category": "Mains", "price": "eleven"})
    assert response.status_code == 422
    assert "Required." in response.text and "Enter a price like 11.50." in response.text
    duplicate = await client.post("/admin/restaurants/demo/menu", data={
        "_csrf_token": token, "name": "Burrata", "category": "Starters", "price": "3"})
    assert duplicate.status_code == 422
    assert "already has an item with that name" in duplicate.text
    assert await MenuItem.count() == before
    burrata = await MenuItem.objects().get(MenuItem.name == "Burrata")
    assert burrata is not None
    bad_edit = await client.post(f"/admin/restaurants/demo/menu/{burrata.id}", data={
        "_csrf_token": token, "name": "Burrata deluxe", "category": "Starters",
        "price": "1.999"})
    assert bad_edit.status_code == 422 and "At most 2 decimal places." in bad_edit.text
    unchanged = await MenuItem.objects().get(MenuItem.id == burrata.id)
    assert unchanged is not None and unchanged.name == "Burrata"
    other = await Restaurant.objects().get(Restaurant.slug == "demo-2")
    assert other is not None
    # An item of another restaurant is not reachable through this one's URL.
    response = await client.post(f"/admin/restaurants/demo-2/menu/{burrata.id}/toggle",
                                 data={"_csrf_token": token})
    assert response.status_code == 404


async def test_the_add_item_form_marks_what_is_required(
        admin: tuple[httpx.AsyncClient, str]) -> None:
    """Category is required: it was refused blank, "Required.", but its label did not say so
    (outside try). Each required field says it in its label and has `required`; the others
    neither."""
    client, _ = admin
    page = (await client.get("/admin/restaurants/demo")).text
    for name, required in (("name", True), ("category", True), ("price", True),
                           ("description", False), ("position", False), ("tax_rate", False)):
        label = re.search(rf'<label for="item-{name}">(.*?)</label>', page, re.S)
        field = re.search(rf'<input [^>]*id="item-{name}"[^>]*>', page, re.S)
        assert label and field, name
        assert ("(required)" in label.group(1)) is required, (name, label.group(1))
        assert (" required=" in field.group(0)) is required, (name, field.group(0))
