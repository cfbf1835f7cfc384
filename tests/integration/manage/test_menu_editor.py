"""The owner's menu editor, through its HTML forms: managers and owners build categories and
dishes with allergens, modifier groups and a photo; bad input names its field and saves
nothing (an invalid group saves nothing of the dish); the kitchen role may not; the diner's
menu shows the result."""

from __future__ import annotations

import io
import os
import re
from typing import Any

import httpx
from PIL import Image

from app.restaurants import photos
from app.restaurants.tables import (
    MenuCategory,
    MenuItem,
    MenuPhoto,
    ModifierGroup,
    ModifierOption,
    Restaurant,
)
from tests.helpers.accounts import add_member, login

PIZZA = {"name": "Calzone", "category": "Pizzas", "description": "Folded", "price": "10.50",
         "tax_rate": "", "position": "0", "available": "on", "allergens_shown": "1",
         "allergen-gluten": "on", "allergen-milk": "on", "groups_shown": "1",
         "group-0-name": "Size", "group-0-required": "on", "group-0-min": "1",
         "group-0-max": "1", "group-0-options": "S\nM | 1.50\nL | 3.00",
         "group-1-name": "Extras", "group-1-min": "0", "group-1-max": "3",
         "group-1-options": "Cheese | 1.00\nOlives | 0.80\nBasil"}


async def _menu_state() -> tuple[Any, ...]:
    return (await MenuItem.select().order_by(MenuItem.id),
            await ModifierGroup.select().order_by(ModifierGroup.id),
            await ModifierOption.select().order_by(ModifierOption.id),
            await MenuCategory.select().order_by(MenuCategory.id),
            await MenuPhoto.count())


def _jpeg() -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    Image.new("RGB", (2400, 1600), (10, 120, 10)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


async def test_an_owner_builds_a_dish_with_options_allergens_and_a_photo(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    page = await client.get("/manage/demo/menu")
    assert page.status_code == 200 and "Starters" in page.text
    added = await client.post("/manage/demo/menu/categories",
                              data={"_csrf_token": token, "name": "Pizzas"})
    assert added.status_code == 303
    saved = await client.post("/manage/demo/menu/items", data={"_csrf_token": token, **PIZZA},
                              files={"photo": ("p.jpg", _jpeg(), "image/jpeg")})
    assert saved.status_code == 303, saved.text
    item = await MenuItem.objects().get(MenuItem.name == "Calzone")
    assert item is not None
    assert (item.category, item.price_amount, item.allergens) == ("Pizzas", 1050,
                                                                   ["gluten", "milk"])
    # The owner's menu shows prices as money, with their currency.
    assert '<span class="num">€10.50</span>' in (await client.get("/manage/demo/menu")).text
    groups = await ModifierGroup.select().where(ModifierGroup.menu_item == item.id).order_by(
        ModifierGroup.position)
    assert [(g["name"], g["required"], g["min_choices"], g["max_choices"]) for g in groups] == [
        ("Size", True, 1, 1), ("Extras", False, 0, 3)]
    photo = await client.get(f"/menu-photos/{item.photo_id}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/webp"
    assert "immutable" in photo.headers["cache-control"]
    assert b"SecretCam" not in photo.content
    # The diner sees it: photo (lazy, with alt text), allergens, the choices.
    menu = await client.get("/r/demo")
    assert f'src="/menu-photos/{item.photo_id}" alt="Calzone" loading="lazy"' in menu.text
    assert "Contains: Gluten, Milk" in menu.text
    assert 'type="radio" name="opt-' in menu.text and "+€1.50" in menu.text
    api = {i["name"]: i for i in (await client.get("/api/restaurants/demo/menu")).json()[
        "items"]}["Calzone"]
    assert api["photo_url"] == f"/menu-photos/{item.photo_id}"
    # Editing keeps option ids of options kept; a removed one goes.
    ids = {o["name"]: o["id"] for g in api["groups"] for o in g["options"]}
    edit = await client.get(f"/manage/demo/menu/items/{item.id}")
    assert "M | 1.50" in edit.text
    again = await client.post(f"/manage/demo/menu/items/{item.id}", data={
        "_csrf_token": token, **PIZZA, "group-1-max": "2",
        "group-1-options": "Cheese | 1.20\nBasil"})
    assert again.status_code == 303
    options = {row["name"]: row for row in await ModifierOption.select()}
    assert options["Cheese"]["id"] == ids["Cheese"] and options["Cheese"]["price_delta"] == 120
    assert "Olives" not in options or options["Olives"]["modifier_group"] not in [
        g["id"] for g in groups]
    assert (await MenuItem.objects().get(MenuItem.id == item.id)).photo_id == item.photo_id


async def test_an_invalid_group_or_photo_saves_nothing_of_the_dish(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    before = await _menu_state()
    cases = [
        ({"group-0-min": "2"}, None, "group-0-min-error"),
        ({"group-1-max": "9"}, None, "group-1-max-error"),
        ({"group-0-required": ""}, None, "group-0-min-error"),  # optional with a minimum
        ({"group-1-name": "Size"}, None, "group-1-name-error"),
        ({"group-1-options": "Cheese | lots"}, None, "group-1-options-error"),
        ({"price": "-1", "name": ""}, None, "price-error"),
        ({}, ("x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
         "photo-error"),
        ({}, ("big.jpg", b"\xff" * (photos.MAX_BYTES + 1), "image/jpeg"), "photo-error"),
    ]
    for change, upload, error_id in cases:
        response = await client.post(
            "/manage/demo/menu/items", data={"_csrf_token": token, **PIZZA, **change},
            files={"photo": upload} if upload else {"photo": ("", b"", "application/x")})
        assert response.status_code == 422, (change, response.text[:300])
        assert f'id="{error_id}"' in response.text, change
        assert "Nothing was saved." in response.text
        assert 'value="Calzone"' in response.text or change.get("name") == ""
    assert await _menu_state() == before
    # An existing dish edited with a bad group keeps everything it had.
    item = await MenuItem.objects().get(MenuItem.name == "Pizza your way")
    assert item is not None
    before = await _menu_state()
    response = await client.post(f"/manage/demo/menu/items/{item.id}", data={
        "_csrf_token": token, **PIZZA, "name": "Renamed", "group-0-max": "0"})
    assert response.status_code == 422
    assert await _menu_state() == before


async def test_categories_are_ordered_renamed_and_deleted_only_when_empty(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None

    async def names() -> list[str]:
        rows = await MenuCategory.select(MenuCategory.name).where(
            MenuCategory.restaurant == restaurant.id).order_by(MenuCategory.position)
        return [row["name"] for row in rows]

    assert await names() == ["Starters", "Mains", "Desserts", "Drinks"]
    drinks = await MenuCategory.objects().get(MenuCategory.name == "Drinks")
    assert drinks is not None
    moved = await client.post(f"/manage/demo/menu/categories/{drinks.id}/move",
                              data={"_csrf_token": token, "direction": "up"})
    assert moved.status_code == 303
    assert await names() == ["Starters", "Mains", "Drinks", "Desserts"]
    menu = (await client.get("/r/demo")).text
    assert menu.index(">Drinks<") < menu.index(">Desserts<")
    renamed = await client.post(f"/manage/demo/menu/categories/{drinks.id}/rename",
                                data={"_csrf_token": token, "name": "Beverages"})
    assert renamed.status_code == 303
    assert {row["category"] for row in await MenuItem.select(MenuItem.category).where(
        MenuItem.name == "Lemonade")} == {"Beverages"}  # its dishes follow
    taken = await client.post(f"/manage/demo/menu/categories/{drinks.id}/rename",
                              data={"_csrf_token": token, "name": "Mains"})
    assert taken.status_code == 422 and "There is a category with that name." in taken.text
    # Headings a diner cannot tell apart are the same heading: case, full width, a
    # zero-width space; the category's own name in another case is its own to take.
    for lookalike in ("mains", "\uff2d\uff21\uff29\uff2e\uff33", "Ma\u200bins"):
        twin = await client.post(f"/manage/demo/menu/categories/{drinks.id}/rename",
                                 data={"_csrf_token": token, "name": lookalike})
        assert twin.status_code == 422, lookalike
        assert "There is a category with that name." in twin.text, lookalike
        added = await client.post("/manage/demo/menu/categories",
                                  data={"_csrf_token": token, "name": lookalike})
        assert added.status_code == 422, lookalike
    own = await client.post(f"/manage/demo/menu/categories/{drinks.id}/rename",
                            data={"_csrf_token": token, "name": "BEVERAGES"})
    assert own.status_code == 303
    assert "Mains" in await names() and len(await names()) == 4
    full = await client.post(f"/manage/demo/menu/categories/{drinks.id}/delete",
                             data={"_csrf_token": token})
    assert full.status_code == 422 and "still has dishes" in full.text
    await client.post("/manage/demo/menu/categories", data={"_csrf_token": token,
                                                            "name": "Specials"})
    empty = await MenuCategory.objects().get(MenuCategory.name == "Specials")
    assert empty is not None
    gone = await client.post(f"/manage/demo/menu/categories/{empty.id}/delete",
                             data={"_csrf_token": token})
    assert gone.status_code == 303 and "Specials" not in await names()
    blank = await client.post("/manage/demo/menu/categories",
                              data={"_csrf_token": token, "name": " "})
    assert blank.status_code == 422 and 'id="new-category-error"' in blank.text


async def test_managers_may_the_kitchen_may_not(client: httpx.AsyncClient) -> None:
    await add_member("manager@demo.test", "manager")
    token = await login(client, "manager@demo.test")
    assert (await client.get("/manage/demo/menu")).status_code == 200
    assert (await client.post("/manage/demo/menu/categories", data={
        "_csrf_token": token, "name": "Brunch"})).status_code == 303
    await client.post("/logout", data={"_csrf_token": token})
    token = await login(client, "kitchen@demo.test")
    before = await _menu_state()
    assert (await client.get("/manage/demo/menu")).status_code == 403
    response = await client.post("/manage/demo/menu/items", data={"_csrf_token": token,
                                                                  **PIZZA})
    assert response.status_code == 403
    assert await _menu_state() == before


async def test_the_admin_form_keeps_groups_and_allergens_it_does_not_show(
        client: httpx.AsyncClient) -> None:
    item = await MenuItem.objects().get(MenuItem.name == "Pizza your way")
    assert item is not None
    groups_before = await ModifierGroup.select().where(ModifierGroup.menu_item == item.id)
    token = await login(client, "admin@orderpass.test")
    response = await client.post(f"/admin/restaurants/demo/menu/{item.id}", data={
        "_csrf_token": token, "name": "Pizza your way", "category": "Mains",
        "price": "9.50", "position": "8", "available": "on"})
    assert response.status_code == 303
    after = await MenuItem.objects().get(MenuItem.id == item.id)
    assert after is not None and after.price_amount == 950
    assert after.allergens == ["gluten", "milk"]
    assert await ModifierGroup.select().where(ModifierGroup.menu_item == item.id) == \
        groups_before


def _phone_photo() -> bytes:
    """A phone-sized JPEG (3200 x 2400, noise: it does not compress), over the old 5 MB."""
    out = io.BytesIO()
    Image.frombytes("RGB", (3200, 2400), os.urandom(3200 * 2400 * 3)).save(
        out, format="JPEG", quality=92)
    return out.getvalue()


async def test_a_phone_photo_is_taken_and_kept_small(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    raw = _phone_photo()
    assert len(raw) > 6 * 1024 * 1024
    saved = await client.post("/manage/demo/menu/items", data={"_csrf_token": token, **PIZZA},
                              files={"photo": ("phone.jpg", raw, "image/jpeg")})
    assert saved.status_code == 303, saved.text[-1500:]
    item = await MenuItem.objects().get(MenuItem.name == "Calzone")
    assert item is not None and item.photo_id
    served = await client.get(f"/menu-photos/{item.photo_id}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    assert len(served.content) < 1024 * 1024  # stored and served small
    with Image.open(io.BytesIO(served.content)) as image:
        assert max(image.size) <= photos.MAX_SIDE and image.size[0] > image.size[1]


async def test_a_photo_over_the_limit_is_the_photo_fields_error_with_the_form_kept(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    before = await _menu_state()
    too_big = b"\xff\xd8" + os.urandom(photos.MAX_BYTES + 1024)
    response = await client.post(
        "/manage/demo/menu/items", data={"_csrf_token": token, **PIZZA},
        files={"photo": ("huge.jpg", too_big, "image/jpeg")})
    assert response.status_code == 422, response.text[:300]
    assert 'id="photo-error"' in response.text and "larger than 20 MB" in response.text
    assert 'value="Calzone"' in response.text and 'value="10.50"' in response.text
    assert "S\nM | 1.50" in response.text  # the groups as typed
    assert await _menu_state() == before
    # Far past it the body is not read: the form still comes back with the photo's error.
    item = await MenuItem.objects().get(MenuItem.name == "Pizza your way")
    assert item is not None
    enormous = b"\xff\xd8" + b"\x00" * (2 * photos.MAX_BYTES + 512 * 1024)
    refused = await client.post(
        f"/manage/demo/menu/items/{item.id}", data={"_csrf_token": token, **PIZZA},
        files={"photo": ("enormous.jpg", enormous, "image/jpeg")})
    assert refused.status_code == 413
    assert 'id="photo-error"' in refused.text and "larger than 20 MB" in refused.text
    assert 'value="Pizza your way"' in refused.text  # the dish as saved
    assert await _menu_state() == before


async def test_a_dish_under_the_card_minimum_says_it_cannot_be_ordered_alone(
        client: httpx.AsyncClient) -> None:
    """A free glass of water is a real dish, but a diner ordering it alone is refused at
    checkout (a card payment is at least €0.50): the owner reads so beside its price, on
    the menu and in its form, before a diner finds out."""
    token = await login(client, "owner@demo.test")
    water = {"name": "Tap water", "category": "Starters", "description": "", "price": "0",
             "tax_rate": "", "position": "0", "available": "on"}
    saved = await client.post("/manage/demo/menu/items", data={"_csrf_token": token, **water})
    assert saved.status_code == 303, saved.text[-2000:]
    hint = "Under 0.50 EUR, the smallest card payment: diners can add it to an order, not order"
    menu = await client.get("/manage/demo/menu")
    [row] = [part for part in menu.text.split("<li ") if "Tap water" in part]
    assert hint in row
    assert menu.text.count(hint) == 1  # the other dishes cost more
    item = await MenuItem.objects().get(MenuItem.name == "Tap water")
    assert item is not None
    form = (await client.get(f"/manage/demo/menu/items/{item.id}")).text
    assert hint in form
    [price_input] = re.findall(r'<input type="text" id="price"[^>]*>', form)
    assert 'aria-describedby="price-hint"' in price_input  # read out with the field
    soup = await MenuItem.objects().get(MenuItem.name == "Tomato soup")
    assert soup is not None
    assert hint not in (await client.get(f"/manage/demo/menu/items/{soup.id}")).text


async def test_the_editor_says_what_a_blank_minimum_or_maximum_means(
        client: httpx.AsyncClient) -> None:
    # "Extras", optional, min and max blank was saved 0 to 1 with nothing saying so: on the
    # menu it is one choice (radios, starting on None), not several boxes (an outside try).
    await login(client, "owner@demo.test")
    page = (await client.get("/manage/demo/menu/items/new")).text
    maximum = re.search(r'<input type="number" id="group-0-max"[^>]*>', page)
    assert maximum and 'aria-describedby="group-0-max-hint"' in maximum.group(0)
    hint = re.search(r'id="group-0-max-hint">([^<]*)<', page)
    assert hint and "Blank: 1, one choice" in hint.group(1) and "starts on None" in hint.group(1)
    assert 'id="group-0-min-hint">Blank: 1 if Required, else 0.<' in page
