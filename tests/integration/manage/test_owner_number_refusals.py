"""Numbers owners type (a dish's VAT rate and option prices, the restaurant's default rate,
prep and auto-reject minutes, slot capacity and booking days, weekly hours) are read as a
menu writes them: ASCII digits and one decimal point. Python's `Decimal` and `int` also read
"1e2" (100), "NaN", "Infinity", "1_0" and Arabic-Indic digits: each is a 422 naming the
field, with nothing saved."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from app.restaurants.tables import MenuItem, ModifierOption, Restaurant
from tests.helpers.accounts import login
from tests.helpers.admin import DEMO_SETTINGS

pytestmark = pytest.mark.server_agnostic

DISH = {"name": "Calzone", "category": "Mains", "description": "Folded", "price": "10.50",
        "tax_rate": "", "position": "0", "available": "on", "groups_shown": "1",
        "group-0-name": "Extras", "group-0-min": "0", "group-0-max": "1",
        "group-0-options": "Cheese | 1.00"}
HOURS = {**{f"day_{index}": "11:30-22:00" for index in range(7)},
         "slot_capacity": "3", "schedule_days": "5"}
NOT_NUMBERS = ["1e2", "1E1", "NaN", "Infinity", "+5", "1_0", "\u0667", "\uff17", "7\u00b2",
               "0x10"]


def _error(page: str, field_id: str) -> str:
    match = re.search(rf'id="{re.escape(field_id)}-error"[^>]*>([^<]*)<', page)
    assert match, (field_id, page[-3000:])
    return html.unescape(match.group(1))


async def _state() -> tuple[Any, ...]:
    return (await MenuItem.select().order_by(MenuItem.id),
            await ModifierOption.select().order_by(ModifierOption.id),
            await Restaurant.select().order_by(Restaurant.id))


@pytest.mark.parametrize("raw", NOT_NUMBERS)
async def test_a_dishs_vat_rate_and_option_prices_are_plain_numbers(
        client: httpx.AsyncClient, raw: str) -> None:
    token = await login(client, "owner@demo.test")
    before = await _state()
    for change, field in (({"tax_rate": raw}, "tax_rate"),
                          ({"tax_rate": f"{raw} %"}, "tax_rate"),
                          ({"group-0-options": f"Cheese | {raw}"}, "group-0-options")):
        response = await client.post("/manage/demo/menu/items",
                                     data={"_csrf_token": token, **DISH, **change})
        assert response.status_code == 422, (change, response.text[-2000:])
        assert "Nothing was saved." in response.text
        assert _error(response.text, field), change
    assert await _state() == before


@pytest.mark.parametrize("raw", NOT_NUMBERS)
async def test_the_restaurants_numbers_are_plain_numbers(client: httpx.AsyncClient,
                                                         raw: str) -> None:
    token = await login(client, "owner@demo.test")
    before = await _state()
    for field in ("default_tax_rate", "default_prep_minutes", "auto_reject_minutes"):
        response = await client.post("/manage/demo/settings",
                                     data={"_csrf_token": token, **DEMO_SETTINGS, field: raw})
        assert response.status_code == 422, (field, response.text[-2000:])
        assert _error(response.text, field), field
    for field in ("slot_capacity", "schedule_days", "day_0"):
        value = f"{raw}:00-22:00" if field == "day_0" else raw
        response = await client.post("/manage/demo/hours",
                                     data={"_csrf_token": token, **HOURS, field: value})
        assert response.status_code == 422, (field, response.text[-2000:])
        assert _error(response.text, field), field
    assert await _state() == before


async def test_the_rate_message_says_what_to_write(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    response = await client.post("/manage/demo/menu/items",
                                 data={"_csrf_token": token, **DISH, "tax_rate": "1e2"})
    assert _error(response.text, "tax_rate") == "Enter a rate such as 7 or 19 (a percentage)."
    for rate, stored in (("7", 700), ("5,5", 550), ("19.25 %", 1925), (" 0 ", 0), (".5", 50)):
        saved = await client.post("/manage/demo/menu/items", data={
            "_csrf_token": token, **DISH, "name": f"Calzone {stored}", "tax_rate": rate})
        assert saved.status_code == 303, (rate, saved.text[-2000:])
        item = await MenuItem.objects().get(MenuItem.name == f"Calzone {stored}")
        assert item is not None and item.tax_rate == stored
