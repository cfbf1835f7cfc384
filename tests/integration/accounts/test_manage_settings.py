"""Owners edit their restaurant's settings (the admin form's fields minus slug and currency):
saved in one go, or every bad field named and nothing saved. The management overview."""

from __future__ import annotations

import httpx

from app.accounts.tables import StaffUser
from app.restaurants.tables import Restaurant
from tests.helpers.accounts import add_member, login

GOOD = {"name": "Demo Bistro & Bar", "timezone": "Europe/Paris", "phone": "+33 1 23 45 67 89",
        "email": "bonjour@demo.test", "address": "1 rue de Rivoli, Paris",
        "default_prep_minutes": "20", "auto_reject_minutes": "5", "capture_mode": "manual",
        "accepting_orders": "on"}


async def _row() -> dict[str, object]:
    row = await Restaurant.select().where(Restaurant.slug == "demo").first()
    assert row is not None
    return row


async def test_an_owner_saves_the_settings(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    page = await client.get("/manage/demo/settings")
    assert page.status_code == 200 and 'value="Demo Bistro"' in page.text
    saved = await client.post("/manage/demo/settings", data={
        "_csrf_token": token, **GOOD, "currency": "usd", "slug": "stolen"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/manage/demo/settings?saved=1"
    assert "Saved." in (await client.get(saved.headers["location"])).text
    row = await _row()
    assert {key: row[key] for key in ("name", "timezone", "phone", "email", "address",
                                      "default_prep_minutes", "auto_reject_minutes",
                                      "capture_mode", "accepting_orders")} == {
        **GOOD, "default_prep_minutes": 20, "auto_reject_minutes": 5, "accepting_orders": True}
    assert (row["currency"], row["slug"]) == ("eur", "demo")  # not the owner's to change
    # Unticking the box pauses orders (a checkbox sends nothing when unticked).
    paused = {key: value for key, value in GOOD.items() if key != "accepting_orders"}
    await client.post("/manage/demo/settings", data={"_csrf_token": token, **paused})
    assert (await _row())["accepting_orders"] is False


async def test_bad_settings_name_every_field_and_save_nothing(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    before = await _row()
    bad = {"name": "", "timezone": "Mars/Olympus", "phone": "1" * 41, "email": "nope",
           "address": "a" * 301, "default_prep_minutes": "0", "auto_reject_minutes": "soon",
           "capture_mode": "whenever"}
    response = await client.post("/manage/demo/settings", data={"_csrf_token": token, **bad})
    assert response.status_code == 422
    assert "Nothing was saved." in response.text
    for field in bad:
        assert f'id="{field}-error"' in response.text, field
    assert 'value="Mars/Olympus"' in response.text  # what was typed is kept for correcting
    # NUL characters (Postgres text cannot hold them) are a field error, not a 500.
    nul = await client.post("/manage/demo/settings", data={
        "_csrf_token": token, **GOOD, "name": "Demo\x00Bistro", "address": "\x00"})
    assert nul.status_code == 422
    assert 'id="name-error"' in nul.text and 'id="address-error"' in nul.text
    # One bad field among good ones: still nothing saved.
    one_bad = await client.post("/manage/demo/settings", data={
        "_csrf_token": token, **GOOD, "default_prep_minutes": "999"})
    assert one_bad.status_code == 422 and 'id="default_prep_minutes-error"' in one_bad.text
    assert await _row() == before


async def test_the_overview_shows_what_the_role_may_open(
        client: httpx.AsyncClient, other_client: httpx.AsyncClient) -> None:
    await login(client, "owner@demo.test")
    owner_page = await client.get("/manage/demo")
    assert owner_page.status_code == 200
    assert 'href="/manage/demo/settings"' in owner_page.text
    assert 'href="/manage/demo/staff"' in owner_page.text
    await add_member("manager@demo.test", "manager")
    await login(other_client, "manager@demo.test")
    manager_page = await other_client.get("/manage/demo")
    assert 'href="/manage/demo/staff"' in manager_page.text
    assert 'href="/manage/demo/settings"' not in manager_page.text


async def test_a_refusal_names_the_roles_as_english_writes_them(
        other_client: httpx.AsyncClient) -> None:
    """A manager acting on the owner's account is refused (403) with "an owner", not
    "a owner"."""
    owner = await StaffUser.select(StaffUser.id).where(
        StaffUser.email == "owner@demo.test").first()
    assert owner is not None
    await add_member("manager@demo.test", "manager")
    token = await login(other_client, "manager@demo.test")
    refused = await other_client.post(f"/manage/demo/staff/{owner['id']}/role",
                                      data={"_csrf_token": token, "role": "kitchen"})
    assert refused.status_code == 403, refused.text[-500:]
    assert "a manager may not change an owner&#39;s account" in refused.text or \
        "a manager may not change an owner's account" in refused.text, refused.text[-800:]
