"""CSRF on every state-changing form route (missing token, or another session's token:
403), cookie flags (dev and production), and the login / order rate limits (429 with
RateLimit-* headers after the configured budget)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from asgi_lifespan import LifespanManager
from litestar import Litestar

from app.accounts.form_guard import CSRF_EXEMPT
from app.settings import get_settings, reset_settings_cache
from tests.helpers.accounts import PASSWORD, login
from tests.helpers.orders import make_paid_order
from tests.helpers.routes import ROUTES, app_routes, fill

FORM_ROUTES = sorted((method, path) for (method, path), kind in ROUTES.items()
                     if method != "GET" and kind != "webhook" and path != "/api/orders")


def test_only_webhooks_and_the_order_api_are_csrf_exempt() -> None:
    exempt = [(method, path) for (method, path) in ROUTES
              if method != "GET" and any(re.search(rule, path) for rule in CSRF_EXEMPT)]
    assert sorted(exempt) == [("POST", "/api/orders"), ("POST", "/webhooks/resend"),
                              ("POST", "/webhooks/stripe")]


async def _values() -> dict[str, object]:
    order = await make_paid_order("demo")
    return {"slug": "demo", "ref": order.public_id, "order_id": order.public_id,
            "action": "accept", "discrepancy_id": 1, "delivery_id": 1, "event_id": "evt_1",
            "item_id": 1, "option_id": 1, "member_id": 1, "invitation_id": 1, "closure_id": 1,
            "token": "x", "category_id": 1, "photo_id": 1}


@pytest.fixture
async def other_client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser, the attacker's, with its own session and token."""
    asgi = cast(Any, app)
    async with LifespanManager(asgi), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://testserver") as other:
        yield other


def _is_csrf_refusal(response: httpx.Response) -> bool:
    return response.status_code == 403 and "csrf" in response.text.lower()


async def test_every_form_route_refuses_a_missing_or_foreign_token(
        client: httpx.AsyncClient, other_client: httpx.AsyncClient, app: Litestar) -> None:
    assert len(FORM_ROUTES) >= 6, FORM_ROUTES
    values = await _values()
    await login(client, "admin@orderpass.test")  # past every guard: CSRF alone must refuse
    foreign = (await other_client.get("/login")).cookies["csrftoken"]
    assert foreign != client.cookies["csrftoken"]
    for method, path in FORM_ROUTES:
        url = fill(path, values)
        form = {"prep_minutes": "5", "reason": "x", "email": "kitchen@demo.test",
                "password": PASSWORD}
        for headers in ({}, {"hx-request": "true"}):
            missing = await client.post(url, data=form, headers=headers)
            assert _is_csrf_refusal(missing), (method, url, missing.status_code)
            stolen = await client.post(url, data={**form, "_csrf_token": foreign},
                                       headers=headers)
            assert _is_csrf_refusal(stolen), (method, url, stolen.status_code)
            header = await client.post(url, data=form, headers={**headers,
                                                                 "x-csrftoken": foreign})
            assert _is_csrf_refusal(header), (method, url, header.status_code)
    # Cross-site with no cookies at all (what SameSite=Lax leaves a foreign site).
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=cast(Any, app)),
                                 base_url="http://testserver") as anonymous:
        for method, path in FORM_ROUTES:
            response = await anonymous.post(fill(path, values), data={"_csrf_token": foreign})
            assert _is_csrf_refusal(response), (method, path, response.status_code)
    # The admin is still logged in: nothing above logged them out.
    assert (await client.get("/admin/system")).status_code == 200


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    found = {}
    for key, value in response.headers.multi_items():
        if key == "set-cookie":
            found[value.split("=", 1)[0]] = value.lower()
    return found


async def test_cookie_flags_in_dev(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    csrf = _set_cookies(page)["csrftoken"]
    assert "samesite=lax" in csrf
    response = await client.post("/login", data={
        "email": "kitchen@demo.test", "password": PASSWORD,
        "_csrf_token": client.cookies["csrftoken"]})
    session = _set_cookies(response)["orderpass_session"]
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    # The account's device cookie (app/accounts/known_devices.py): only sent to /login.
    [device] = [value for name, value in _set_cookies(response).items()
                if name.startswith("orderpass_device_")]
    assert "httponly" in device and "samesite=lax" in device and "path=/login" in device
    assert "secure" not in device.replace("samesite", "")


async def test_cookie_flags_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERPASS_ENV", "production")
    monkeypatch.setenv("METRICS_TOKEN", "scraper-token")  # production refuses to start without
    reset_settings_cache()
    try:
        assert get_settings().is_production
        from app.asgi import create_app

        app = create_app()
        async with LifespanManager(cast(Any, app)), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=cast(Any, app)),
                base_url="https://testserver") as browser:
            page = await browser.get("/login")
            csrf = _set_cookies(page)["csrftoken"]
            assert "secure" in csrf.replace("samesite", "") and "samesite=lax" in csrf
            assert page.headers["strict-transport-security"].startswith("max-age=")
            response = await browser.post("/login", data={
                "email": "kitchen@demo.test", "password": PASSWORD,
                "_csrf_token": browser.cookies["csrftoken"]})
            assert response.status_code == 303, response.text
            session = _set_cookies(response)["orderpass_session"]
            assert "httponly" in session and "samesite=lax" in session
            assert "secure" in session.replace("samesite", "")
            [device] = [value for name, value in _set_cookies(response).items()
                        if name.startswith("orderpass_device_")]
            assert "httponly" in device and "secure" in device.replace("samesite", "")
    finally:
        monkeypatch.undo()
        reset_settings_cache()


def _assert_rate_limited(response: httpx.Response, budget: int) -> None:
    assert response.status_code == 429, (response.status_code, response.text[:200])
    headers = {key.lower(): value for key, value in response.headers.items()}
    assert headers["ratelimit-limit"] == str(budget)
    assert headers["ratelimit-remaining"] == "0"
    assert int(headers["ratelimit-reset"]) >= 0
    assert "ratelimit-policy" in headers


async def test_login_is_rate_limited(client: httpx.AsyncClient,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # The budget is bound when the controller is imported, so the test spends the real one;
    # refused passwords skip argon2 here to keep it fast (the limit sits in front anyway).
    monkeypatch.setattr("app.accounts.services.verify_password", lambda *_: False)
    budget = get_settings().login_rate_limit_per_minute
    await client.get("/login")
    token = client.cookies["csrftoken"]
    for attempt in range(budget):
        response = await client.post("/login", data={
            "email": "kitchen@demo.test", "password": f"wrong-{attempt}", "_csrf_token": token})
        assert response.status_code == 401
        assert response.headers["ratelimit-remaining"] == str(budget - attempt - 1)
    monkeypatch.undo()
    blocked = await client.post("/login", data={
        "email": "kitchen@demo.test", "password": PASSWORD, "_csrf_token": token})
    _assert_rate_limited(blocked, budget)
    assert "orderpass_session" not in _set_cookies(blocked)  # even the right password


async def test_order_submission_is_rate_limited_across_api_and_form(
        client: httpx.AsyncClient) -> None:
    budget = get_settings().order_rate_limit_per_minute
    for _ in range(budget - 1):
        response = await client.post("/api/orders", json={"restaurant": "demo"})
        assert response.status_code == 400
    await client.get("/r/demo")
    form = await client.post("/r/demo/checkout",
                             data={"_csrf_token": client.cookies["csrftoken"]})
    assert form.status_code == 422  # the last one of the budget, through the HTML form
    _assert_rate_limited(await client.post("/api/orders", json={"restaurant": "demo"}), budget)
    _assert_rate_limited(await client.post(
        "/r/demo/checkout", data={"_csrf_token": client.cookies["csrftoken"]}), budget)


def test_form_routes_match_the_app(app: Litestar) -> None:
    live = {(r.method, r.path) for r in app_routes(app)}
    assert set(FORM_ROUTES) <= live
