"""Staff login, sessions, CSRF, rate limiting and restaurant isolation."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.accounts import PASSWORD, login
from tests.helpers.orders import make_paid_order
from tests.helpers.payments import reload

HTML = {"accept": "text/html"}


async def test_anonymous_pages_redirect_to_login_and_streams_answer_401(
        client: httpx.AsyncClient) -> None:
    page = await client.get("/kitchen/demo", headers=HTML)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fkitchen%2Fdemo"
    events = await client.get("/kitchen/demo/events", headers={"accept": "text/event-stream"})
    assert events.status_code == 401
    token = (await client.get("/login")).cookies.get("csrftoken") or client.cookies["csrftoken"]
    order = await make_paid_order()
    action = await client.post(f"/kitchen/demo/orders/{order.public_id}/accept",
                               data={"_csrf_token": token}, headers={"hx-request": "true"})
    assert action.status_code == 401
    assert action.headers["hx-redirect"] == "/login"


async def test_login_sets_a_hardened_session_cookie_and_redirects_home(
        client: httpx.AsyncClient) -> None:
    await client.get("/login")
    response = await client.post("/login", data={
        "email": "kitchen@demo.test", "password": PASSWORD,
        "_csrf_token": client.cookies["csrftoken"]})
    assert response.status_code == 303
    assert response.headers["location"] == "/kitchen/demo"
    cookies = [value for key, value in response.headers.multi_items()
               if key == "set-cookie" and value.startswith("orderpass_session=")]
    assert cookies, response.headers
    flags = cookies[-1].lower()
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags.replace("samesite", "")  # only in production
    assert (await client.get("/kitchen/demo")).status_code == 200


@pytest.mark.parametrize(("email", "home"), [("owner@demo.test", "/manage/demo"),
                                             ("admin@orderpass.test", "/admin")])
async def test_each_role_lands_on_its_own_pages(client: httpx.AsyncClient, email: str,
                                                home: str) -> None:
    """The platform admin landed on the diners' list of restaurants (an outside try)."""
    await client.get("/login")
    response = await client.post("/login", data={
        "email": email, "password": PASSWORD, "_csrf_token": client.cookies["csrftoken"]})
    assert response.status_code == 303 and response.headers["location"] == home
    assert (await client.get(home)).status_code == 200
    assert (await client.get("/login")).headers["location"] == home  # logged in already


async def test_diners_and_api_clients_get_no_session(client: httpx.AsyncClient,
                                                     redis: object) -> None:
    from app.bench.client import menu_item_ids, order_payload

    pages = [await client.get("/"), await client.get("/r/demo"),
             await client.get("/api/restaurants/demo/menu")]
    order = await client.post("/api/orders",
                              json=order_payload("demo", await menu_item_ids(client, "demo")))
    assert order.status_code == 201
    status = await client.get(order.json()["status_url"])
    for response in [*pages, order, status]:
        assert response.status_code in (200, 201), response.url
        assert "orderpass_session" not in response.headers.get("set-cookie", ""), response.url
    assert await redis.keys("orderpass:sessions*") == []  # type: ignore[attr-defined]
    # Logging in still creates one.
    client.cookies.clear()
    await login(client, "kitchen@demo.test")
    assert len(await redis.keys("orderpass:sessions*")) == 1  # type: ignore[attr-defined]


async def test_login_keeps_a_safe_next_and_ignores_an_offsite_one(
        client: httpx.AsyncClient) -> None:
    await client.get("/login")
    token = client.cookies["csrftoken"]
    response = await client.post("/login", data={
        "email": "admin@orderpass.test", "password": PASSWORD, "_csrf_token": token,
        "next": "//evil.example/x"})
    assert response.headers["location"] == "/admin"  # the admin's home, not the offsite one
    await client.post("/logout", data={"_csrf_token": token})
    await client.get("/login")
    response = await client.post("/login", data={
        "email": "admin@orderpass.test", "password": PASSWORD,
        "_csrf_token": client.cookies["csrftoken"], "next": "/kitchen/demo-2"})
    assert response.headers["location"] == "/kitchen/demo-2"


async def test_wrong_password_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    response = await client.post("/login", data={
        "email": "kitchen@demo.test", "password": "nope",
        "_csrf_token": client.cookies["csrftoken"]})
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    assert (await client.get("/kitchen/demo", headers=HTML)).status_code == 303


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    token = await login(client, "kitchen@demo.test")
    response = await client.post("/logout", data={"_csrf_token": token})
    assert response.status_code == 303
    assert (await client.get("/kitchen/demo", headers=HTML)).status_code == 303


async def test_forms_without_csrf_token_are_refused(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    response = await client.post("/login", data={
        "email": "kitchen@demo.test", "password": PASSWORD})
    assert response.status_code == 403
    token = await login(client, "kitchen@demo.test")
    order = await make_paid_order()
    url = f"/kitchen/demo/orders/{order.public_id}/accept"
    assert (await client.post(url)).status_code == 403
    assert (await client.post(url, data={"_csrf_token": "forged"})).status_code == 403
    ok = await client.post(url, headers={"x-csrftoken": token})
    assert ok.status_code == 303  # a plain form post redirects back to the board


async def test_staff_cannot_see_or_act_on_another_restaurant(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "kitchen@demo.test")
    other = await make_paid_order("demo-2")
    # Another restaurant's kitchen is 404, as for one that does not exist.
    assert (await client.get("/kitchen/demo-2", headers=HTML)).status_code == 404
    assert (await client.get("/kitchen/demo-2/board")).status_code == 404
    assert (await client.get("/kitchen/demo-2/events",
                             headers={"accept": "text/event-stream"})).status_code == 404
    assert (await client.get(
        f"/kitchen/demo-2/orders/{other.public_id}/ticket")).status_code == 404
    forbidden = await client.post(f"/kitchen/demo-2/orders/{other.public_id}/accept",
                                  data={"_csrf_token": token})
    assert forbidden.status_code == 404
    assert (await reload(other.public_id)).status == "paid"
    # Through its own kitchen's URL, another restaurant's order does not exist.
    missing = await client.post(f"/kitchen/demo/orders/{other.public_id}/accept",
                                data={"_csrf_token": token})
    assert missing.status_code == 404
    page = await client.get("/kitchen/demo")
    assert other.public_id not in page.text


async def test_admin_sees_every_kitchen(client: httpx.AsyncClient) -> None:
    await login(client, "admin@orderpass.test")
    order = await make_paid_order("demo-2")
    page = await client.get("/kitchen/demo-2")
    assert page.status_code == 200
    assert order.public_id in page.text
    assert (await client.get("/kitchen/demo")).status_code == 200


async def test_login_is_rate_limited(client: httpx.AsyncClient) -> None:
    from app.settings import get_settings

    await client.get("/login")
    token = client.cookies["csrftoken"]
    limit = get_settings().login_rate_limit_per_minute
    statuses = [
        (await client.post("/login", data={"email": "x@y.test", "password": "bad",
                                           "_csrf_token": token})).status_code
        for _ in range(limit + 1)]
    assert statuses[:limit] == [401] * limit
    assert statuses[-1] == 429


@pytest.mark.parametrize("path", ["/kitchen/nope", "/kitchen/nope/events"])
async def test_unknown_restaurant_is_not_found_for_admins(
        client: httpx.AsyncClient, path: str) -> None:
    await login(client, "admin@orderpass.test")
    assert (await client.get(path)).status_code == 404


async def test_login_rotates_a_planted_session_id(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    client.cookies.set("orderpass_session", "attacker-chosen-id")
    response = await client.post("/login", data={
        "email": "kitchen@demo.test", "password": PASSWORD,
        "_csrf_token": client.cookies["csrftoken"]})
    assert response.status_code == 303
    issued = response.cookies.get("orderpass_session")
    assert issued and issued not in ("attacker-chosen-id", "null")
    # The planted id carries no session; the issued one does.
    for cookie, expected in (("attacker-chosen-id", 303), (issued, 200)):
        async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver",
                                     cookies={"orderpass_session": cookie}) as browser:
            assert (await browser.get("/kitchen/demo", headers=HTML)).status_code == expected
