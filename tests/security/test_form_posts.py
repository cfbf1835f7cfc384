"""HTML form posts (issue #14 items 7 and 12): one posted from another site (`Origin`) is
refused, and a CSRF token pair from another session does not pass with a logged-in
session (the double-submit check alone took any well-formed pair)."""

from __future__ import annotations

from typing import Any, cast

import httpx
import pytest
from litestar import Litestar

from tests.helpers.accounts import PASSWORD, login
from tests.helpers.orders import make_paid_order


def _refused(response: httpx.Response) -> bool:
    return response.status_code == 403 and "csrf" in response.text.lower()


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://testserver.evil"])
async def test_cross_site_form_posts_are_refused(client: httpx.AsyncClient,
                                                 origin: str) -> None:
    await client.get("/login")
    token = client.cookies["csrftoken"]
    form = {"email": "kitchen@demo.test", "password": PASSWORD, "_csrf_token": token}
    assert _refused(await client.post("/login", data=form, headers={"origin": origin}))
    item = (await client.get("/api/restaurants/demo/menu")).json()["items"][0]["id"]
    checkout = {"_csrf_token": token, f"qty-{item}": "1", "name": "Ada",
                "email": "ada@example.com", "fulfillment": "pickup"}
    assert _refused(await client.post("/r/demo/checkout", data=checkout,
                                      headers={"origin": origin}))
    # The same posts from our own pages, or from clients that send no Origin, go through.
    assert (await client.post("/login", data=form,
                              headers={"origin": "http://testserver"})).status_code == 303


async def test_a_token_from_another_session_is_refused(app: Litestar,
                                                       client: httpx.AsyncClient) -> None:
    order = await make_paid_order("demo")
    await login(client, "kitchen@demo.test")
    session = client.cookies["orderpass_session"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=cast(Any, app)),
                                 base_url="http://testserver") as attacker:
        await attacker.get("/login")
        planted = attacker.cookies["csrftoken"]  # a valid pair, but the attacker's
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=cast(Any, app)),
                                 base_url="http://testserver") as victim:
        response = await victim.post(
            f"/kitchen/demo/orders/{order.public_id}/accept",
            data={"_csrf_token": planted, "from": "paid"},
            headers={"cookie": f"orderpass_session={session}; csrftoken={planted}"})
    assert _refused(response), (response.status_code, response.text[:200])
    assert (await client.get(f"/api/orders/{order.public_id}")).json()["status"] == "paid"
    # The session's own token still works.
    accepted = await client.post(f"/kitchen/demo/orders/{order.public_id}/accept",
                                 data={"_csrf_token": client.cookies["csrftoken"],
                                       "from": "paid"})
    assert accepted.status_code == 303, accepted.text[:200]


async def test_a_browser_that_lost_its_csrf_cookie_gets_its_sessions_back(
        client: httpx.AsyncClient) -> None:
    """A kitchen tablet's browser restarts: the session cookie (a week) survives, the CSRF
    cookie (a browser-session cookie) does not. The next page sets the session's token
    again, so the screen's buttons keep working."""
    order = await make_paid_order("demo")
    await login(client, "kitchen@demo.test")
    token = client.cookies["csrftoken"]
    client.cookies.delete("csrftoken")
    page = await client.get("/kitchen/demo")
    assert page.status_code == 200
    assert client.cookies["csrftoken"] == token
    accepted = await client.post(f"/kitchen/demo/orders/{order.public_id}/accept",
                                 data={"_csrf_token": token, "from": "paid"})
    assert accepted.status_code == 303, accepted.text[:200]
