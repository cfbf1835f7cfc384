"""Restaurant isolation on every route: the app's routes are enumerated and each must be
classified in tests/security/routes.py; staff of `demo` get 403/404 on everything of
`demo-2` (pages, board, SSE stream, ticket, actions, admin), and cannot reach a `demo-2`
order through a `demo` URL."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from app.orders.tables import PaidOrder
from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.accounts import login
from tests.helpers.orders import make_paid_order
from tests.security.routes import ROUTES, SCHEMA_PREFIX, app_routes, fill

GUARD_OF = {"staff": ("require_staff_for_slug",), "admin": ("require_admin",),
            "public": (), "webhook": ()}
HTML = {"accept": "text/html"}


def test_every_route_is_classified_and_guarded_as_classified(app: Litestar) -> None:
    routes = [route for route in app_routes(app) if not route.path.startswith(SCHEMA_PREFIX)]
    unclassified = [f"{r.method} {r.path}" for r in routes if (r.method, r.path) not in ROUTES]
    assert not unclassified, (
        "new routes: classify them in tests/security/routes.py (public / staff / admin / "
        f"webhook) so the isolation and CSRF tests cover them: {unclassified}")
    stale = set(ROUTES) - {(r.method, r.path) for r in routes}
    assert not stale, f"routes gone from the app, drop them from routes.py: {stale}"
    for route in routes:
        kind = ROUTES[(route.method, route.path)]
        assert route.guards == GUARD_OF[kind], (route, kind)
        if kind == "staff":
            assert route.path.startswith("/kitchen/{slug:str}"), route
        if kind == "admin":
            assert route.path.startswith("/admin"), route
    schema = [r for r in app_routes(app) if r.path.startswith(SCHEMA_PREFIX)]
    assert all(r.method == "GET" for r in schema), schema


async def _values() -> dict[str, object]:
    other = await make_paid_order("demo-2")
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo-2")
    assert restaurant is not None
    item = await MenuItem.objects().get(MenuItem.restaurant == restaurant.id)
    assert item is not None
    return {"slug": "demo-2", "ref": other.public_id, "order_id": other.public_id,
            "action": "accept", "discrepancy_id": 1, "delivery_id": 1, "event_id": "evt_1",
            "item_id": item.id, "file_path": "css/app.css"}


def _guarded(app: Litestar, kind: str) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in app_routes(app)
            if ROUTES.get((r.method, r.path)) == kind]


async def test_anonymous_callers_are_sent_to_login(client: httpx.AsyncClient,
                                                   app: Litestar) -> None:
    values = await _values()
    token = (await client.get("/login")).cookies.get("csrftoken") or client.cookies["csrftoken"]
    for kind in ("staff", "admin"):
        for method, path in _guarded(app, kind):
            url = fill(path, values)
            if method == "GET":
                response = await client.get(url, headers=HTML)
                assert response.status_code == 303, (url, response.status_code)
                assert response.headers["location"].startswith("/login?next=")
            else:
                response = await client.post(url, data={"_csrf_token": token})
                assert response.status_code == 401, (method, url, response.status_code)


async def test_demo_staff_get_nothing_of_demo_2(client: httpx.AsyncClient,
                                                app: Litestar) -> None:
    values = await _values()
    token = await login(client, "kitchen@demo.test")
    checked = 0
    for kind in ("staff", "admin"):
        for method, path in _guarded(app, kind):
            url = fill(path, values)
            if method == "GET":
                headers = {"accept": "text/event-stream"} if url.endswith("/events") else HTML
                response = await client.get(url, headers=headers)
            else:
                response = await client.post(url, data={"_csrf_token": token,
                                                        "prep_minutes": "5", "reason": "x"},
                                             headers={"hx-request": "true"})
            assert response.status_code == 403, (method, url, response.status_code,
                                                 response.text[:200])
            assert "csrf" not in response.text.lower(), url  # the guard refused, not CSRF
            checked += 1
    assert checked >= 5
    order = await PaidOrder.objects().get(PaidOrder.public_id == values["ref"])
    assert order is not None and order.status == "paid"  # untouched
    # Their own restaurant still works (the 403s above are about demo-2, not a broken login).
    assert (await client.get("/kitchen/demo")).status_code == 200


@pytest.mark.parametrize("action", ["accept", "reject", "start", "ready", "complete",
                                    "recall"])
async def test_a_demo_2_order_cannot_be_reached_through_a_demo_url(
        client: httpx.AsyncClient, action: str) -> None:
    other = await make_paid_order("demo-2")
    token = await login(client, "kitchen@demo.test")
    ticket = await client.get(f"/kitchen/demo/orders/{other.public_id}/ticket")
    assert ticket.status_code == 404
    response = await client.post(f"/kitchen/demo/orders/{other.public_id}/{action}",
                                 data={"_csrf_token": token, "prep_minutes": "5",
                                       "reason": "x"},
                                 headers={"hx-request": "true"})
    assert response.status_code == 404, (action, response.status_code, response.text)
    order = await PaidOrder.objects().get(PaidOrder.public_id == other.public_id)
    assert order is not None and order.status == "paid"
    board = await client.get("/kitchen/demo/board")
    assert other.public_id not in board.text


async def test_demo_staff_stream_carries_only_demo_orders(client: httpx.AsyncClient) -> None:
    mine = await make_paid_order("demo")
    theirs = await make_paid_order("demo-2")
    await login(client, "kitchen@demo.test")
    page = await client.get("/kitchen/demo")
    assert mine.public_id in page.text and theirs.public_id not in page.text
