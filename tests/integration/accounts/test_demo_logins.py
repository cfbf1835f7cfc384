"""The demo seed's logins: an owner and a kitchen login per demo restaurant and the platform
admin, all with the demo password; each lands where its role works."""

from __future__ import annotations

import httpx
import pytest

from app.accounts.tables import StaffUser
from app.restaurants.seed import seed_demo
from app.restaurants.tables import MenuItem
from tests.helpers.accounts import PASSWORD


@pytest.mark.parametrize(("email", "role", "home"), [
    ("owner@demo.test", "owner", "/manage/demo"),
    ("owner@demo-2.test", "owner", "/manage/demo-2"),
    ("kitchen@demo.test", "kitchen", "/kitchen/demo"),
    ("kitchen@demo-2.test", "kitchen", "/kitchen/demo-2"),
    ("admin@orderpass.test", "admin", "/admin"),
])
async def test_demo_logins(client: httpx.AsyncClient, email: str, role: str,
                           home: str) -> None:
    user = await StaffUser.objects().get(StaffUser.email == email)
    assert user is not None and user.role == role
    await client.get("/login")
    response = await client.post("/login", data={
        "_csrf_token": client.cookies["csrftoken"], "email": email, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == home


async def test_seeding_again_changes_nothing() -> None:
    before = await StaffUser.select(StaffUser.email, StaffUser.role).order_by(StaffUser.id)
    logins = await seed_demo(PASSWORD)
    assert {login.email for login in logins} == {
        "owner@demo.test", "kitchen@demo.test", "owner@demo-2.test", "kitchen@demo-2.test",
        "admin@orderpass.test"}
    assert await StaffUser.select(StaffUser.email, StaffUser.role).order_by(
        StaffUser.id) == before


async def test_seeding_again_keeps_an_owners_menu_choices() -> None:
    """`make dev` seeds on every start: a drink the owner set to the restaurant's default
    VAT rate keeps that choice (the seed gives drinks their own rate only once)."""
    drink = await MenuItem.objects().get((MenuItem.category == "Drinks")
                                         & MenuItem.tax_rate.is_not_null())
    assert drink is not None
    await MenuItem.update({MenuItem.tax_rate: None}).where(MenuItem.id == drink.id)
    try:
        await seed_demo(PASSWORD)
        after = await MenuItem.select(MenuItem.tax_rate).where(MenuItem.id == drink.id).first()
        assert after == {"tax_rate": None}
    finally:
        await MenuItem.update({MenuItem.tax_rate: drink.tax_rate}).where(
            MenuItem.id == drink.id)
