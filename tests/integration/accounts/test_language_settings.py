"""A restaurant's default language is a setting its owner edits (and the admin, on the
restaurant form): diners whose browser names no language Orderpass speaks then read it. A
language Orderpass does not speak is a field error and saves nothing."""

from __future__ import annotations

import httpx

from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login

GOOD = {"name": "Demo Bistro", "timezone": "Europe/Berlin", "phone": "+49 30 1234567",
        "email": "hello@demo.test", "address": "Torstraße 1, 10119 Berlin",
        "default_prep_minutes": "15", "auto_reject_minutes": "10", "capture_mode": "automatic",
        "accepting_orders": "on"}


async def _language() -> str:
    row = await Restaurant.select(Restaurant.default_language).where(
        Restaurant.slug == "demo").first()
    assert row is not None
    return str(row["default_language"])


async def test_an_owner_sets_the_diners_default_language(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    page = await client.get("/manage/demo/settings")
    assert 'name="default_language"' in page.text and 'value="en" selected' in page.text
    saved = await client.post("/manage/demo/settings", data={
        "_csrf_token": token, **GOOD, "default_language": "de"})
    assert saved.status_code == 303, saved.text
    assert await _language() == "de"
    assert 'value="de" selected' in (await client.get("/manage/demo/settings")).text
    menu = await client.get("/r/demo", headers={"Accept-Language": "fr"})
    assert '<html lang="de">' in menu.text
    # A form without the field (an older page) leaves the language as it is.
    await client.post("/manage/demo/settings", data={"_csrf_token": token, **GOOD})
    assert await _language() == "de"


async def test_a_language_we_do_not_speak_is_refused(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    refused = await client.post("/manage/demo/settings", data={
        "_csrf_token": token, **GOOD, "name": "Renamed", "default_language": "fr"})
    assert refused.status_code == 422
    assert 'id="default_language-error"' in refused.text
    assert await _language() == "en"
    row = await Restaurant.select(Restaurant.name).where(Restaurant.slug == "demo").first()
    assert row is not None and row["name"] == "Demo Bistro"  # nothing half-saved


async def test_the_admin_sets_it_on_the_restaurant_form(client: httpx.AsyncClient) -> None:
    token = await login(client, "admin@orderpass.test")
    form = await client.get("/admin/restaurants/demo")
    assert 'name="default_language"' in form.text
    saved = await client.post("/admin/restaurants/demo", data={
        "_csrf_token": token, **GOOD, "slug": "demo", "currency": "eur",
        "default_language": "de"}, follow_redirects=False)
    assert saved.status_code in (200, 303), saved.text
    assert await _language() == "de"
