"""Which fulfilment modes a restaurant offers is its owner's setting (and the admin's, on the
restaurant form): three boxes, "Pickup", "Delivery", "Table service (dine-in)". At least one
stays ticked: none is a field error (422), everything typed is kept and nothing is saved. A
form without the boxes (an older page) leaves the modes as they are; a new restaurant offers
pickup only (its blank form has only that box ticked) until the admin or its owner ticks more:
delivery or table service it never set up was offered to diners."""

from __future__ import annotations

import httpx

from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login

ALL = ["pickup", "delivery", "dine_in"]
GOOD = {"name": "Demo Bistro", "timezone": "Europe/Berlin", "phone": "+49 30 1234567",
        "email": "hello@demo.test", "address": "Torstraße 1, 10119 Berlin",
        "default_prep_minutes": "15", "auto_reject_minutes": "10", "capture_mode": "automatic",
        "accepting_orders": "on"}
BOXES = {"pickup": "Pickup", "delivery": "Delivery", "dine_in": "Table service (dine-in)"}


async def _modes(slug: str = "demo") -> list[str]:
    row = await Restaurant.select(Restaurant.fulfillment_modes).where(
        Restaurant.slug == slug).first()
    assert row is not None
    return list(row["fulfillment_modes"])


def _ticked(*modes: str) -> dict[str, str]:
    return {"fulfillment_settings": "1", **{f"fulfillment_{mode}": "on" for mode in modes}}


def _box(html: str, mode: str) -> str:
    return html.split(f'id="fulfillment_{mode}"')[0].rsplit("<input", 1)[1] + \
        html.split(f'id="fulfillment_{mode}"')[1].split(">", 1)[0]


async def test_an_owner_chooses_the_modes(client: httpx.AsyncClient) -> None:
    assert await _modes() == ALL  # the demo seed offers every mode
    token = await login(client, "owner@demo.test")
    page = (await client.get("/manage/demo/settings")).text
    for mode, label in BOXES.items():
        assert f'name="fulfillment_{mode}"' in page and label in page
        assert "checked" in _box(page, mode)
    saved = await client.post("/manage/demo/settings", data={
        "_csrf_token": token, **GOOD, **_ticked("pickup")})
    assert saved.status_code == 303, saved.text
    assert await _modes() == ["pickup"]
    page = (await client.get("/manage/demo/settings")).text
    assert "checked" in _box(page, "pickup")
    assert "checked" not in _box(page, "delivery") and "checked" not in _box(page, "dine_in")
    # A form without the boxes (an older page) leaves the modes as they are.
    again = await client.post("/manage/demo/settings", data={"_csrf_token": token, **GOOD})
    assert again.status_code == 303
    assert await _modes() == ["pickup"]
    await client.post("/manage/demo/settings", data={
        "_csrf_token": token, **GOOD, **_ticked("dine_in", "delivery")})
    assert await _modes() == ["delivery", "dine_in"]  # always in the same order


async def test_no_mode_at_all_is_refused_and_nothing_saved(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    refused = await client.post("/manage/demo/settings", data={
        "_csrf_token": token, **GOOD, "name": "Renamed Bistro", **_ticked()})
    assert refused.status_code == 422
    assert 'id="fulfillment_modes-error"' in refused.text
    assert "at least one" in refused.text.split('id="fulfillment_modes-error">')[1][:200]
    assert "Nothing was saved." in refused.text
    assert 'value="Renamed Bistro"' in refused.text  # everything typed is kept
    assert await _modes() == ALL
    row = await Restaurant.select(Restaurant.name).where(Restaurant.slug == "demo").first()
    assert row is not None and row["name"] == "Demo Bistro"
    # A mode Orderpass does not know is not stored either.
    await client.post("/manage/demo/settings", data={
        "_csrf_token": token, **GOOD, **_ticked("pickup"), "fulfillment_drone": "on"})
    assert await _modes() == ["pickup"]


async def test_the_admin_chooses_them_on_the_restaurant_form(client: httpx.AsyncClient) -> None:
    token = await login(client, "admin@orderpass.test")
    form = (await client.get("/admin/restaurants/demo")).text
    for mode, label in BOXES.items():
        assert f'name="fulfillment_{mode}"' in form and label in form
    saved = await client.post("/admin/restaurants/demo", data={
        "_csrf_token": token, **GOOD, "currency": "eur", **_ticked("delivery")},
        follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert await _modes() == ["delivery"]
    refused = await client.post("/admin/restaurants/demo", data={
        "_csrf_token": token, **GOOD, "currency": "eur", "name": "Renamed", **_ticked()})
    assert refused.status_code == 422
    assert 'id="fulfillment_modes-error"' in refused.text and 'value="Renamed"' in refused.text
    assert await _modes() == ["delivery"]
    # A new restaurant: created with the modes chosen.
    created = await client.post("/admin/restaurants", data={
        "_csrf_token": token, **GOOD, "slug": "delivery-too", "name": "Delivery Too",
        "currency": "eur", **_ticked("pickup", "delivery")}, follow_redirects=False)
    assert created.status_code == 303, created.text
    assert await _modes("delivery-too") == ["pickup", "delivery"]
    refused_new = await client.post("/admin/restaurants", data={
        "_csrf_token": token, **GOOD, "slug": "no-modes", "name": "No Modes",
        "currency": "eur", **_ticked()})
    assert refused_new.status_code == 422 and 'id="fulfillment_modes-error"' in refused_new.text
    assert await Restaurant.count().where(Restaurant.slug == "no-modes") == 0


async def test_a_new_restaurant_offers_pickup_only_until_more_are_ticked(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "admin@orderpass.test")
    blank = (await client.get("/admin/restaurants/new")).text
    assert "checked" in _box(blank, "pickup")
    assert "checked" not in _box(blank, "delivery") and "checked" not in _box(blank, "dine_in")
    # The blank form as it is sent: pickup only.
    created = await client.post("/admin/restaurants", data={
        "_csrf_token": token, **GOOD, "slug": "pickup-only", "name": "Pickup Only",
        "currency": "eur", **_ticked("pickup")}, follow_redirects=False)
    assert created.status_code == 303, created.text
    assert await _modes("pickup-only") == ["pickup"]
    # Created without the boxes at all (an older form, a script): pickup only as well.
    bare = await client.post("/admin/restaurants", data={
        "_csrf_token": token, **GOOD, "slug": "bare", "name": "Bare", "currency": "eur"},
        follow_redirects=False)
    assert bare.status_code == 303, bare.text
    assert await _modes("bare") == ["pickup"]
    restaurant = (await client.get("/api/restaurants/bare/menu")).json()["restaurant"]
    assert restaurant["fulfillment_modes"] == ["pickup"]
    # Its form shows what it offers; ticking delivery there offers it.
    form = (await client.get("/admin/restaurants/bare")).text
    assert "checked" in _box(form, "pickup") and "checked" not in _box(form, "delivery")
