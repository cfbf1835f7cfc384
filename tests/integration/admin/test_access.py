"""Admin pages are for admins: anonymous → login, staff → 403, admin → 200 everywhere."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.accounts import login
from tests.helpers.admin import ADMIN, HTML

PAGES = ["/admin", "/admin/discrepancies?status=all", "/admin/webhooks", "/admin/emails",
         "/admin/restaurants", "/admin/restaurants/new", "/admin/restaurants/demo",
         "/admin/system", "/admin/system/status", "/admin/analytics",
         "/admin/analytics?restaurant=demo&days=7", "/admin/analytics.csv"]


@pytest.mark.parametrize("path", PAGES)
async def test_anonymous_is_sent_to_login(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fadmin")


async def test_staff_get_403_on_pages_and_actions(client: httpx.AsyncClient) -> None:
    token = await login(client, "kitchen@demo.test")
    for path in PAGES:
        assert (await client.get(path, headers=HTML)).status_code == 403, path
    response = await client.post("/admin/discrepancies/1/resolve",
                                 data={"_csrf_token": token, "note": "x"})
    assert response.status_code == 403
    response = await client.post("/admin/restaurants/demo",
                                 data={"_csrf_token": token, "name": "Hijacked"})
    assert response.status_code == 403


async def test_admin_sees_every_page(client: httpx.AsyncClient) -> None:
    await login(client, ADMIN)
    for path in PAGES:
        response = await client.get(path, headers=HTML)
        assert response.status_code == 200, (path, response.text[:2000])


async def test_admin_forms_need_the_csrf_token(client: httpx.AsyncClient) -> None:
    await login(client, ADMIN)
    response = await client.post("/admin/discrepancies/1/resolve", data={"note": "x"})
    assert response.status_code == 403


async def test_login_next_brings_the_admin_back(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    response = await client.post("/login", data={
        "email": ADMIN, "password": "demo", "_csrf_token": client.cookies["csrftoken"],
        "next": "/admin/system"})
    assert response.headers["location"] == "/admin/system"
