"""VAT, tips and legal details are restaurant settings an owner edits (and the admin, on the
restaurant form); a menu item has its own VAT rate or the restaurant's default. Bad input
names each field and saves nothing; the diner's menu and checkout follow what was saved."""

from __future__ import annotations

import httpx

from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.accounts import login

GOOD = {"name": "Demo Bistro", "timezone": "Europe/Berlin", "phone": "+49 30 1234567",
        "email": "hello@demo.test", "address": "Torstraße 1, 10119 Berlin",
        "default_prep_minutes": "15", "auto_reject_minutes": "10", "capture_mode": "automatic",
        "accepting_orders": "on"}
TAX = {"tax_settings": "1", "tax_mode": "added", "default_tax_rate": "5,5",
       "legal_name": "Bistro Demo SARL", "legal_address": "1 rue de Rivoli, 75001 Paris",
       "tax_id": "FR 12 345678901"}


async def _row() -> dict[str, object]:
    row = await Restaurant.select().where(Restaurant.slug == "demo").first()
    assert row is not None
    return row


async def test_an_owner_sets_vat_tips_and_legal_details(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    page = await client.get("/manage/demo/settings")
    assert 'value="Demo Bistro GmbH"' in page.text and 'value="7"' in page.text  # the seed's
    saved = await client.post("/manage/demo/settings",
                              data={"_csrf_token": token, **GOOD, **TAX})  # tips unticked
    assert saved.status_code == 303, saved.text
    row = await _row()
    assert (row["tax_mode"], row["default_tax_rate"], row["tips_enabled"], row["legal_name"],
            row["legal_address"], row["tax_id"]) == (
        "added", 550, False, "Bistro Demo SARL", "1 rue de Rivoli, 75001 Paris",
        "FR 12 345678901")
    page = await client.get("/manage/demo/settings")
    assert 'value="5.5"' in page.text and 'value="added" selected' in page.text
    # The diner's side follows: prices before VAT, no tip offered, items at the new default.
    menu = (await client.get("/api/restaurants/demo/menu")).json()
    assert menu["restaurant"]["prices_include_tax"] is False
    assert menu["restaurant"]["tips"] == []
    rates = {item["name"]: item["tax_rate"] for item in menu["items"]}
    assert rates["Burrata"] == "5.5" and rates["Lemonade"] == "19"  # its own rate stays
    form = await client.get("/r/demo")
    assert 'name="tip"' not in form.text
    # A form without the VAT fieldset (an older page) leaves the settings as they are.
    await client.post("/manage/demo/settings", data={"_csrf_token": token, **GOOD})
    assert (await _row())["tax_mode"] == "added"


async def test_bad_vat_settings_name_each_field_and_save_nothing(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    before = await _row()
    bad = {"tax_mode": "sideways", "default_tax_rate": "7.123", "legal_name": "x" * 201,
           "legal_address": "y" * 301, "tax_id": "DE<script>"}
    response = await client.post("/manage/demo/settings", data={
        "_csrf_token": token, **GOOD, "tax_settings": "1", **bad})
    assert response.status_code == 422
    for field in bad:
        assert f'id="{field}-error"' in response.text, field
    assert "&lt;script&gt;" in response.text and "<script>" not in response.text
    for rate in ("abc", "101", "-7"):
        refused = await client.post("/manage/demo/settings", data={
            "_csrf_token": token, **GOOD, **TAX, "default_tax_rate": rate})
        assert refused.status_code == 422 and 'id="default_tax_rate-error"' in refused.text
    assert await _row() == before


async def test_the_admin_sets_an_items_rate_or_leaves_the_default(client: httpx.AsyncClient
                                                                  ) -> None:
    token = await login(client, "admin@orderpass.test")
    page = await client.get("/admin/restaurants/demo")
    assert 'name="tax_settings"' in page.text and 'value="DE123456789"' in page.text
    burrata = await MenuItem.objects().get(MenuItem.name == "Burrata")
    assert burrata is not None and burrata.tax_rate is None
    item = {"_csrf_token": token, "name": "Burrata", "category": "Starters", "price": "11.50",
            "position": "1", "available": "on"}
    url = f"/admin/restaurants/demo/menu/{burrata.id}"
    assert (await client.post(url, data={**item, "tax_rate": "19"})).status_code == 303
    assert (await MenuItem.objects().get(MenuItem.id == burrata.id)).tax_rate == 1900
    assert 'value="19"' in (await client.get(url)).text
    bad = await client.post(url, data={**item, "tax_rate": "nineteen"})
    assert bad.status_code == 422 and 'id="tax_rate-error"' in bad.text
    assert (await MenuItem.objects().get(MenuItem.id == burrata.id)).tax_rate == 1900
    assert (await client.post(url, data={**item, "tax_rate": ""})).status_code == 303
    assert (await MenuItem.objects().get(MenuItem.id == burrata.id)).tax_rate is None
    # The admin's restaurant form saves the same settings.
    saved = await client.post("/admin/restaurants/demo", data={
        "_csrf_token": token, "name": "Demo Bistro", "currency": "eur",
        "timezone": "Europe/Berlin", "default_prep_minutes": "15", "auto_reject_minutes": "10",
        "capture_mode": "automatic", "accepting_orders": "on", **TAX, "tips_enabled": "on"})
    assert saved.status_code == 303, saved.text
    row = await _row()
    assert (row["tax_mode"], row["default_tax_rate"], row["tips_enabled"], row["tax_id"]) == (
        "added", 550, True, "FR 12 345678901")
