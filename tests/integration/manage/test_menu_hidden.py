"""A dish taken off the menu without deleting it (a seasonal dish, kept with its photo and
options): untick-"Available" only marked it sold out, shown greyed out to every diner (an
outside try). Hidden, diners do not see it (menu page, API, home page's count), an order
naming it is refused, a basket holding it says it is gone; the owner still lists and edits it,
and unhiding brings it back as it was."""

from __future__ import annotations

import httpx

from app.restaurants.tables import MenuItem
from tests.helpers.accounts import login
from tests.helpers.menu_forms import item_form


async def _soup() -> MenuItem:
    item = await MenuItem.objects().where(MenuItem.name == "Tomato soup").first()
    assert item is not None
    return item


async def _set_hidden(client: httpx.AsyncClient, item_id: int, hidden: bool) -> None:
    form = await item_form(client, item_id)
    form.pop("hidden", None)
    if hidden:
        form["hidden"] = "on"
    saved = await client.post(f"/manage/demo/menu/items/{item_id}", data=form)
    assert saved.status_code == 303, saved.text


async def test_a_hidden_dish_is_off_the_menu_and_back_when_shown(
        client: httpx.AsyncClient) -> None:
    soup = await _soup()
    await login(client, "owner@demo.test")
    await _set_hidden(client, soup.id, True)
    stored = await MenuItem.objects().get(MenuItem.id == soup.id)
    assert stored is not None and stored.hidden and stored.available  # hidden, not sold out

    diner = client  # the public pages: the owner's login changes nothing on them
    page = await diner.get("/r/demo")
    assert "Tomato soup" not in page.text
    api = (await diner.get("/api/restaurants/demo/menu")).json()
    assert soup.id not in [item["id"] for item in api["items"]]
    refused = await diner.post("/api/orders", json={
        "restaurant": "demo", "items": [{"menu_item_id": soup.id, "quantity": 1}],
        "customer": {"name": "Ada", "email": "ada@example.com"}, "fulfillment": "pickup"})
    assert refused.status_code in (400, 409, 422), refused.text
    assert "not on" in refused.text and "menu" in refused.text

    editor = await client.get("/manage/demo/menu")
    assert "Tomato soup" in editor.text and "Hidden from diners" in editor.text
    assert 'name="hidden" id="hidden" checked' in (
        await client.get(f"/manage/demo/menu/items/{soup.id}")).text

    await _set_hidden(client, soup.id, False)
    assert "Tomato soup" in (await diner.get("/r/demo")).text
    back = (await diner.get("/api/restaurants/demo/menu")).json()
    assert soup.id in [item["id"] for item in back["items"]]


async def _order(client: httpx.AsyncClient, category: str) -> list[str]:
    menu = (await client.get("/api/restaurants/demo/menu")).json()["items"]
    return [item["name"] for item in menu if item["category"] == category]


async def test_dishes_move_up_and_down_in_their_category(client: httpx.AsyncClient) -> None:
    """Dishes were ordered only by typing a position number into each dish's form; the
    editor has ↑/↓ beside each, as categories do, and the diners' menu follows."""
    await login(client, "owner@demo.test")
    soup = await _soup()
    before = await _order(client, soup.category)
    assert len(before) >= 2 and before[0] == "Tomato soup", before
    token = client.cookies["csrftoken"]
    moved = await client.post(f"/manage/demo/menu/items/{soup.id}/move",
                              data={"_csrf_token": token, "direction": "down"})
    assert moved.status_code == 303 and moved.headers["location"].endswith(f"#item-{soup.id}")
    after = await _order(client, soup.category)
    assert after == [before[1], "Tomato soup", *before[2:]], after
    editor = (await client.get("/manage/demo/menu")).text
    assert 'aria-label="Move Tomato soup up"' in editor
    back = await client.post(f"/manage/demo/menu/items/{soup.id}/move",
                             data={"_csrf_token": token, "direction": "up"})
    assert back.status_code == 303
    assert await _order(client, soup.category) == before
    # The API lists dishes category by category, in the menu's order, whatever the moves.
    menu = (await client.get("/api/restaurants/demo/menu")).json()["items"]
    shown = [item["category"] for item in menu]
    assert shown == sorted(shown, key=shown.index), shown  # each category in one run
    sideways = await client.post(f"/manage/demo/menu/items/{soup.id}/move",
                                 data={"_csrf_token": token, "direction": "left"})
    assert sideways.status_code == 400 and "up or down" in sideways.text
