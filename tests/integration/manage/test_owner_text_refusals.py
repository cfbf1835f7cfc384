"""What owners (and the platform admin) write that diners and cooks read refuses what the
diner's checkout refuses (tests/integration/orders/test_checkout_form_refusals.py): a
text-direction override (U+202A-U+202E, U+2066-U+2069: "\\u202eeerf-stun" reads "nuts-free"
on a menu or a ticket) and NUL, and in names, addresses and other one-line fields any line
break or control character. Each is a 422 naming the field, with nothing saved; a dish's
description may still run over several lines. The restaurant's phone must be a phone
number."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from app.restaurants.tables import MenuCategory, MenuItem, ModifierGroup, ModifierOption, Restaurant
from tests.helpers.accounts import login
from tests.helpers.admin import DEMO_SETTINGS

# Input rules and wording: no server version changes them (not in the standalone run).
pytestmark = pytest.mark.server_agnostic

ONE_LINE = ("Must be one line of text: no line breaks, tabs or other control characters, and "
            "no text-direction overrides.")
NO_OVERRIDE = ("Must not contain control characters (line breaks and tabs are fine) or "
               "text-direction overrides.")
PHONE = "Enter a phone number like +49 30 1234567"

DISH = {"name": "Calzone", "category": "Mains", "description": "Folded", "price": "10.50",
        "tax_rate": "", "position": "0", "available": "on", "allergens_shown": "1",
        "groups_shown": "1", "group-0-name": "Size", "group-0-required": "on",
        "group-0-min": "1", "group-0-max": "1", "group-0-options": "S\nM | 1.50",
        "group-1-name": "Extras", "group-1-min": "0", "group-1-max": "2",
        "group-1-options": "Cheese | 1.00\nOlives"}


async def _menu_state() -> tuple[Any, ...]:
    return (await MenuItem.select().order_by(MenuItem.id),
            await ModifierGroup.select().order_by(ModifierGroup.id),
            await ModifierOption.select().order_by(ModifierOption.id),
            await MenuCategory.select().order_by(MenuCategory.id))


async def _restaurant() -> dict[str, Any]:
    row = await Restaurant.select().where(Restaurant.slug == "demo").first()
    assert row is not None
    return row


def _error(page: str, field_id: str) -> str:
    match = re.search(rf'id="{re.escape(field_id)}-error"[^>]*>([^<]*)<', page)
    assert match, (field_id, page[-3000:])
    return html.unescape(match.group(1))


@pytest.mark.parametrize(("change", "field", "says"), [
    ({"name": "Tiramisu \u202eeerf-stun"}, "name", ONE_LINE),
    ({"name": "Tira\nmisu"}, "name", ONE_LINE),
    ({"name": "Calzone\x00"}, "name", ONE_LINE),
    ({"category": "Mains\u2067"}, "category", ONE_LINE),
    ({"description": "Contains \u2066no nuts"}, "description", NO_OVERRIDE),
    ({"description": "Folded\x00"}, "description", NO_OVERRIDE),
    ({"group-0-name": "Si\u202eze"}, "group-0-name", ONE_LINE),
    ({"group-1-options": "Cheese | 1.00\nOl\u202dives"}, "group-1-options",
     "Line 2: the name must be one line of text"),
    ({"group-1-options": "Che\tese | 1.00"}, "group-1-options",
     "Line 1: the name must be one line of text"),
])
async def test_the_dish_form_refuses_overrides_and_nul_and_saves_nothing(
        client: httpx.AsyncClient, change: dict[str, str], field: str, says: str) -> None:
    token = await login(client, "owner@demo.test")
    before = await _menu_state()
    item = await MenuItem.objects().get(MenuItem.name == "Pizza your way")
    assert item is not None
    for url in ("/manage/demo/menu/items", f"/manage/demo/menu/items/{item.id}"):
        response = await client.post(url, data={"_csrf_token": token, **DISH, **change})
        assert response.status_code == 422, (url, response.text[:300])
        assert "Nothing was saved." in response.text
        assert says in _error(response.text, field), url
    assert await _menu_state() == before


async def test_a_description_keeps_its_line_breaks_and_any_script(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    saved = await client.post("/manage/demo/menu/items", data={
        "_csrf_token": token, **DISH, "name": "Calzone مع جبن",
        "description": "Folded, baked.\nمع جبن"})
    assert saved.status_code == 303, saved.text[-2000:]
    item = await MenuItem.objects().get(MenuItem.name == "Calzone مع جبن")
    assert item is not None and item.description == "Folded, baked.\nمع جبن"


async def test_the_admin_dish_form_refuses_them_too(client: httpx.AsyncClient) -> None:
    token = await login(client, "admin@orderpass.test")
    before = await _menu_state()
    item = await MenuItem.objects().get(MenuItem.name == "Pizza your way")
    assert item is not None
    added = await client.post("/admin/restaurants/demo/menu", data={
        "_csrf_token": token, **DISH, "name": "Calzone \u202eeerf-stun"})
    assert added.status_code == 422
    assert ONE_LINE in _error(added.text, "item-name")
    edited = await client.post(f"/admin/restaurants/demo/menu/{item.id}", data={
        "_csrf_token": token, **DISH, "description": "\u2068x\x00"})
    assert edited.status_code == 422
    assert NO_OVERRIDE in _error(edited.text, "description")
    assert await _menu_state() == before


@pytest.mark.parametrize("name", ["Des\u202esserts", "Des\nserts", "Des\x00serts"])
async def test_category_names_refuse_them(client: httpx.AsyncClient, name: str) -> None:
    token = await login(client, "owner@demo.test")
    before = await _menu_state()
    added = await client.post("/manage/demo/menu/categories",
                              data={"_csrf_token": token, "name": name})
    assert added.status_code == 422
    assert _error(added.text, "new-category") == ONE_LINE
    drinks = await MenuCategory.objects().get(MenuCategory.name == "Drinks")
    assert drinks is not None
    renamed = await client.post(f"/manage/demo/menu/categories/{drinks.id}/rename",
                                data={"_csrf_token": token, "name": name})
    assert renamed.status_code == 422
    assert _error(renamed.text, f"category-{drinks.id}") == ONE_LINE
    assert await _menu_state() == before


@pytest.mark.parametrize(("change", "field", "says"), [
    ({"name": "Demo \u202eortsiB"}, "name", ONE_LINE),
    ({"name": "Demo\r\nBistro"}, "name", ONE_LINE),
    ({"address": "Torstraße 1\u2066, Berlin"}, "address", ONE_LINE),
    ({"email": "hello\u202e@demo.test"}, "email", ONE_LINE),
    ({"legal_name": "Demo \u202dGmbH"}, "legal_name", ONE_LINE),
    ({"legal_address": "Torstraße 1\nBerlin"}, "legal_address", ONE_LINE),
    ({"phone": "+49 30 \u202e7654321"}, "phone", ONE_LINE),
    # The phone: each cause said as it is, not the rules again whatever was wrong.
    ({"phone": "call me maybe"}, "phone", f'{PHONE}: a phone number may not contain "c".'),
    ({"phone": "030 123 4567 x12"}, "phone", f'{PHONE}: a phone number may not contain "x".'),
    ({"phone": "030.123.4567"}, "phone", f'{PHONE}: a phone number may not contain ".".'),
    ({"phone": "030\u00a01234567"}, "phone",
     f"{PHONE}: a phone number may not contain U+00A0."),  # a space that looks like one
    ({"phone": "030+1234567"}, "phone", f'{PHONE}: a "+" may only come first.'),
    ({"phone": "++49 30 1234567"}, "phone", f'{PHONE}: a "+" may only come first.'),
    ({"phone": "+"}, "phone", f"{PHONE}: '+' has no digits; a phone number has at least 5."),
    ({"phone": "1"}, "phone",  # no one can call it
     f"{PHONE}: '1' has only 1 digit; a phone number has at least 5."),
    ({"phone": "(0) 12"}, "phone",
     f"{PHONE}: '(0) 12' has only 3 digits; a phone number has at least 5."),
    # More digits than any number has (E.164: 15, after + or 00), or no number at all.
    ({"phone": "0" * 40}, "phone", "has 40 digits; a phone number has at most 15 digits, not "
                                   "counting a leading 00."),
    ({"phone": "+49 30 123456789012"}, "phone",
     f"{PHONE}: '+49 30 123456789012' has 16 digits; a phone number has at most 15 digits, "
     "not counting a leading 00."),
    ({"phone": "0049 30 1234567890123"}, "phone", "has 19 digits; a phone number has at most "
                                                  "15 digits"),
    ({"phone": "000 000"}, "phone", f"{PHONE}: '000 000' is only zeros."),
    ({"phone": "1" * 41}, "phone", "At most 40 characters."),
])
async def test_restaurant_settings_refuse_them_and_the_phone_must_be_one(
        client: httpx.AsyncClient, change: dict[str, str], field: str, says: str) -> None:
    token = await login(client, "owner@demo.test")
    before = await _restaurant()
    response = await client.post("/manage/demo/settings",
                                 data={"_csrf_token": token, **DEMO_SETTINGS, **change})
    assert response.status_code == 422, response.text[-2000:]
    assert "Nothing was saved." in response.text
    assert says in _error(response.text, field)
    assert await _restaurant() == before
    await client.post("/logout", data={"_csrf_token": token})
    token = await login(client, "admin@orderpass.test")  # the admin's form, the same rules
    response = await client.post("/admin/restaurants/demo", data={
        "_csrf_token": token, **DEMO_SETTINGS, "currency": "eur", **change})
    assert response.status_code == 422, response.text[-2000:]
    assert says in _error(response.text, field)
    assert await _restaurant() == before


async def test_phone_numbers_as_people_write_them_are_kept(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    for phone in ("+49 30 1234567", "(030) 123-45/67", "030 / 123 45 67", "(555) 123-4567",
                  "+49 30 12345678901", "0049 30 12345678901", ""):
        saved = await client.post("/manage/demo/settings",
                                  data={"_csrf_token": token, **DEMO_SETTINGS, "phone": phone})
        assert saved.status_code == 303, (phone, saved.text[-2000:])
        assert (await _restaurant())["phone"] == phone


async def test_the_admin_restaurant_form_refuses_nul_with_a_field_error(
        client: httpx.AsyncClient) -> None:
    """It reached Postgres before (a 500); creating one refuses it as well."""
    token = await login(client, "admin@orderpass.test")
    before = await _restaurant()
    response = await client.post("/admin/restaurants/demo", data={
        "_csrf_token": token, **DEMO_SETTINGS, "currency": "eur", "name": "Demo\x00"})
    assert response.status_code == 422
    assert _error(response.text, "name") == ONE_LINE
    created = await client.post("/admin/restaurants", data={
        "_csrf_token": token, **DEMO_SETTINGS, "slug": "new-place", "currency": "eur",
        "name": "New \u202eecalp"})
    assert created.status_code == 422
    assert _error(created.text, "name") == ONE_LINE
    assert await _restaurant() == before
    assert await Restaurant.count().where(Restaurant.slug == "new-place") == 0
