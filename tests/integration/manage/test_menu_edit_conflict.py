"""Two tabs (or two managers, or the kitchen's 86) on one dish: the second save of a form
opened before the first was saved is refused with what is saved now, never silently undoing
the first; saving again from the refusal keeps the second version on purpose."""

from __future__ import annotations

import html

import httpx

from app.restaurants.tables import MenuItem
from tests.helpers.accounts import login
from tests.helpers.menu_forms import form_fields, item_form


async def _form(client: httpx.AsyncClient, item_id: int) -> dict[str, str]:
    return await item_form(client, item_id)


def _fields(page: str) -> dict[str, str]:
    return form_fields(page)


async def _item() -> MenuItem:
    item = await MenuItem.objects().where(MenuItem.name == "Tomato soup").first()
    assert item is not None
    return item


async def test_a_second_tab_cannot_undo_the_first_tabs_price(client: httpx.AsyncClient) -> None:
    await login(client, "owner@demo.test")
    item = await _item()
    tab_a, tab_b = await _form(client, item.id), await _form(client, item.id)
    assert tab_a["seen"] and tab_a["seen"] == tab_b["seen"]
    assert tab_a["price"] == "6.50"

    saved = await client.post(f"/manage/demo/menu/items/{item.id}",
                              data={**tab_a, "price": "7.20"})
    assert saved.status_code == 303

    refused = await client.post(f"/manage/demo/menu/items/{item.id}",
                                data={**tab_b, "name": "Tomato soup (vegan)"})
    assert refused.status_code == 409
    text = html.unescape(refused.text)
    assert "Someone changed this dish while you had it open, so nothing was saved" in text
    assert "The form now shows their change (price: 7.20) with yours." in text
    after = await _item()
    assert (after.name, after.price_amount) == ("Tomato soup", 720)
    again = _fields(refused.text)
    assert again["name"] == "Tomato soup (vegan)"  # what tab B typed is kept
    assert again["price"] == "7.20"  # and what tab A saved is there, not B's stale 6.50

    # Saving again from the refusal keeps both changes (it used to put 6.50 back).
    assert (await client.post(f"/manage/demo/menu/items/{item.id}",
                              data=again)).status_code == 303
    final = await MenuItem.objects().get(MenuItem.id == item.id)
    assert final is not None and (final.name, final.price_amount) == ("Tomato soup (vegan)", 720)


async def test_a_field_both_tabs_changed_is_named_and_the_later_save_decides(
        client: httpx.AsyncClient) -> None:
    await login(client, "owner@demo.test")
    item = await _item()
    tab_a, tab_b = await _form(client, item.id), await _form(client, item.id)
    assert (await client.post(f"/manage/demo/menu/items/{item.id}",
                              data={**tab_a, "price": "7.20"})).status_code == 303
    refused = await client.post(f"/manage/demo/menu/items/{item.id}",
                                data={**tab_b, "price": "8.00"})
    assert refused.status_code == 409
    assert "You both changed: price; yours is shown." in html.unescape(refused.text)
    again = _fields(refused.text)
    assert again["price"] == "8.00"
    assert (await client.post(f"/manage/demo/menu/items/{item.id}",
                              data=again)).status_code == 303
    assert (await MenuItem.objects().get(MenuItem.id == item.id)).price_amount == 800


async def test_the_kitchens_86_is_not_undone_by_an_open_form(client: httpx.AsyncClient) -> None:
    await login(client, "owner@demo.test")
    item = await _item()
    tab = await _form(client, item.id)
    await MenuItem.update({MenuItem.available: False}).where(MenuItem.id == item.id)
    refused = await client.post(f"/manage/demo/menu/items/{item.id}",
                                data={**tab, "available": "on", "description": "Hot"})
    assert refused.status_code == 409
    assert "available: no" in html.unescape(refused.text)
    after = await MenuItem.objects().get(MenuItem.id == item.id)
    assert after is not None and after.available is False and after.description != "Hot"
    again = _fields(refused.text)
    assert "available" not in again and again["description"] == "Hot"  # the box is unticked
    assert (await client.post(f"/manage/demo/menu/items/{item.id}",
                              data=again)).status_code == 303
    final = await MenuItem.objects().get(MenuItem.id == item.id)
    assert final is not None and final.available is False and final.description == "Hot"


async def test_a_form_saved_twice_in_a_row_from_one_tab_is_no_conflict(
        client: httpx.AsyncClient) -> None:
    await login(client, "owner@demo.test")
    item = await _item()
    first = await client.post(f"/manage/demo/menu/items/{item.id}",
                              data={**await _form(client, item.id), "price": "6.90"})
    assert first.status_code == 303
    second = await client.post(f"/manage/demo/menu/items/{item.id}",
                               data={**await _form(client, item.id), "price": "7.10"})
    assert second.status_code == 303
    assert (await MenuItem.objects().get(MenuItem.id == item.id)).price_amount == 710

