"""Restaurant isolation on every route: the app's routes are enumerated and each must be
classified in tests/helpers/routes.py; staff of `demo`, whatever their role (kitchen,
manager, owner), get 404 on everything of `demo-2` (pages, board, SSE stream, ticket,
actions, management area: as for a restaurant that does not exist) and 403 on admin, and
cannot reach a `demo-2` order, member or invitation through a `demo` URL. Within their own
restaurant each role reaches only what its role allows (kitchen: the board; manager: the
management area and kitchen staff; owner: settings and managers too), and nobody raises
their own role or removes the owner."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from app.accounts.tables import StaffInvitation, StaffUser
from app.orders.tables import PaidOrder
from app.restaurants.tables import (
    MenuCategory,
    MenuItem,
    ModifierOption,
    Restaurant,
    RestaurantClosure,
)
from tests.helpers.accounts import add_invitation, add_member, login, members_of, user_id
from tests.helpers.orders import make_paid_order
from tests.helpers.routes import ROUTES, SCHEMA_PREFIX, app_routes, fill

GUARD_OF = {"staff": ("require_staff_for_slug",), "admin": ("require_admin",),
            "manager": ("require_manager_for_slug",), "owner": ("require_owner_for_slug",),
            "public": (), "webhook": (), "link": ()}
GUARDED = ("staff", "manager", "owner", "admin")
HTML = {"accept": "text/html"}
# What a form on any guarded route might carry: enough to succeed if a guard let it through.
FORM = {"prep_minutes": "5", "reason": "x", "email": "intruder@example.test",
        "role": "owner", "name": "Taken over", "timezone": "UTC", "currency": "usd",
        "default_prep_minutes": "1", "auto_reject_minutes": "0", "capture_mode": "manual"}


def test_every_route_is_classified_and_guarded_as_classified(app: Litestar) -> None:
    routes = [route for route in app_routes(app) if not route.path.startswith(SCHEMA_PREFIX)]
    unclassified = [f"{r.method} {r.path}" for r in routes if (r.method, r.path) not in ROUTES]
    assert not unclassified, (
        "new routes: classify them in tests/helpers/routes.py (public / staff / admin / "
        f"webhook) so the isolation and CSRF tests cover them: {unclassified}")
    stale = set(ROUTES) - {(r.method, r.path) for r in routes}
    assert not stale, f"routes gone from the app, drop them from routes.py: {stale}"
    for route in routes:
        kind = ROUTES[(route.method, route.path)]
        assert route.guards == GUARD_OF[kind], (route, kind)
        if kind == "staff":
            assert route.path.startswith("/kitchen/{slug:str}"), route
        if kind in ("manager", "owner"):
            assert route.path.startswith("/manage/{slug:str}"), route
        if kind == "admin":
            assert route.path.startswith("/admin"), route
        if kind == "link":
            assert route.path.endswith("/{token:str}"), route
    schema = [r for r in app_routes(app) if r.path.startswith(SCHEMA_PREFIX)]
    assert all(r.method == "GET" for r in schema), schema


async def _values() -> dict[str, object]:
    other = await make_paid_order("demo-2")
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo-2")
    assert restaurant is not None
    item = await MenuItem.objects().get(MenuItem.restaurant == restaurant.id)
    assert item is not None
    invitation_id, _ = await add_invitation("new-cook@demo-2.test", slug="demo-2")
    closure = await RestaurantClosure.objects().get(RestaurantClosure.restaurant == restaurant.id)
    assert closure is not None  # the seed gives each demo restaurant one
    return {"slug": "demo-2", "ref": other.public_id, "order_id": other.public_id,
            "action": "accept", "discrepancy_id": 1, "delivery_id": 1, "event_id": "evt_1",
            "item_id": item.id, "file_path": "css/app.css",
            "member_id": await user_id("kitchen@demo-2.test"),
            "invitation_id": invitation_id, "closure_id": closure.id, "token": "x",
            "photo_id": 1,
            "option_id": (await _demo_2_options())[0]["id"],
            "category_id": (await MenuCategory.select(MenuCategory.id).where(
                MenuCategory.restaurant == restaurant.id).first() or {"id": 1})["id"]}


async def _demo_2_options() -> list[dict[str, object]]:
    return await ModifierOption.select(ModifierOption.id, ModifierOption.available).where(
        ModifierOption.modifier_group.menu_item.restaurant.slug == "demo-2").order_by(
        ModifierOption.id)


async def _demo_2_state() -> tuple[object, ...]:
    restaurant = await Restaurant.select().where(Restaurant.slug == "demo-2").first()
    invitations = await StaffInvitation.select(
        StaffInvitation.email, StaffInvitation.role, StaffInvitation.revoked_at).order_by(
        StaffInvitation.id)
    closures = await RestaurantClosure.select().order_by(RestaurantClosure.id)
    menu = await MenuItem.select().where(MenuItem.restaurant == restaurant["id"]).order_by(
        MenuItem.id) if restaurant else []
    categories = await MenuCategory.select().where(
        MenuCategory.restaurant == restaurant["id"]).order_by(MenuCategory.id) if restaurant \
        else []
    return (restaurant, await members_of("demo-2"), invitations, closures, menu, categories,
            await _demo_2_options())


def _guarded(app: Litestar, kind: str) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in app_routes(app)
            if ROUTES.get((r.method, r.path)) == kind]


async def test_anonymous_callers_are_sent_to_login(client: httpx.AsyncClient,
                                                   app: Litestar) -> None:
    values = await _values()
    token = (await client.get("/login")).cookies.get("csrftoken") or client.cookies["csrftoken"]
    for kind in GUARDED:
        for method, path in _guarded(app, kind):
            url = fill(path, values)
            if method == "GET":
                response = await client.get(url, headers=HTML)
                assert response.status_code == 303, (url, response.status_code)
                assert response.headers["location"].startswith("/login?next=")
            else:
                response = await client.post(url, data={"_csrf_token": token})
                assert response.status_code == 401, (method, url, response.status_code)


@pytest.mark.parametrize(("email", "role", "home"), [
    ("kitchen@demo.test", "kitchen", "/kitchen/demo"),
    ("manager@demo.test", "manager", "/manage/demo/staff"),
    ("owner@demo.test", "owner", "/manage/demo/settings"),
])
async def test_demo_staff_get_nothing_of_demo_2(client: httpx.AsyncClient, app: Litestar,
                                                email: str, role: str, home: str) -> None:
    if role == "manager":
        await add_member(email, "manager")
    values = await _values()
    before = await _demo_2_state()
    token = await login(client, email)
    checked = 0
    for kind in GUARDED:
        for method, path in _guarded(app, kind):
            url = fill(path, values)
            if method == "GET":
                headers = {"accept": "text/event-stream"} if url.endswith("/events") else HTML
                response = await client.get(url, headers=headers)
            else:
                response = await client.post(url, data={"_csrf_token": token, **FORM},
                                             headers={"hx-request": "true"})
            assert response.status_code == (403 if kind == "admin" else 404), (
                method, url, response.status_code, response.text[:200])
            assert "csrf" not in response.text.lower(), url  # the guard refused, not CSRF
            checked += 1
    assert checked >= 15
    order = await PaidOrder.objects().get(PaidOrder.public_id == values["ref"])
    assert order is not None and order.status == "paid"  # untouched
    assert await _demo_2_state() == before  # no member, invitation or setting changed
    # Their own restaurant still works (the refusals above are about demo-2, not a broken
    # login).
    assert (await client.get(home)).status_code == 200


# (role, routes of their own restaurant they may open). Everything else guarded: 403.
OWN_RESTAURANT = {
    "kitchen": {"staff"},
    "manager": {"staff", "manager"},
    "owner": {"staff", "manager", "owner"},
}


@pytest.mark.parametrize("role", sorted(OWN_RESTAURANT))
async def test_each_role_reaches_only_its_part_of_its_own_restaurant(
        client: httpx.AsyncClient, app: Litestar, role: str) -> None:
    email = f"{role}@demo.test"
    if role == "manager":
        await add_member(email, role)
    token = await login(client, email)
    values = {"slug": "demo", "token": "x"}
    for kind in GUARDED:
        for method, path in _guarded(app, kind):
            if (method != "GET" or "{" in path.replace("{slug:str}", "")
                    or path.endswith("/events")):  # a stream the in-process client holds open
                continue
            response = await client.get(fill(path, values), headers=HTML)
            allowed = kind in OWN_RESTAURANT[role]
            assert (response.status_code == 200) is allowed, (role, path, response.status_code)
            if not allowed:
                assert response.status_code == 403, (role, path, response.status_code)
    # Kitchen staff cannot manage staff at all, not even kitchen staff.
    cook = await user_id("kitchen@demo.test")
    if role == "kitchen":
        for url, data in [("/manage/demo/staff/invitations", {"email": "x@demo.test",
                                                              "role": "kitchen"}),
                          (f"/manage/demo/staff/{cook}/remove", {}),
                          (f"/manage/demo/staff/{cook}/role", {"role": "owner"})]:
            response = await client.post(url, data={"_csrf_token": token, **data})
            assert response.status_code == 403, (url, response.status_code)
        assert (await members_of("demo"))["kitchen@demo.test"] == "kitchen"
        assert await StaffInvitation.count() == 0


async def test_a_manager_cannot_touch_the_owner_or_raise_anyone(
        client: httpx.AsyncClient) -> None:
    manager = await add_member("manager@demo.test", "manager")
    other_manager = await add_member("manager-2@demo.test", "manager")
    owner = await user_id("owner@demo.test")
    token = await login(client, "manager@demo.test")
    refused = [
        (f"/manage/demo/staff/{owner}/remove", {}),
        (f"/manage/demo/staff/{owner}/role", {"role": "kitchen"}),
        (f"/manage/demo/staff/{other_manager}/remove", {}),
        (f"/manage/demo/staff/{manager}/role", {"role": "owner"}),  # themselves
        (f"/manage/demo/staff/{manager}/remove", {}),
        (f"/manage/demo/staff/{await user_id('kitchen@demo.test')}/role", {"role": "manager"}),
        ("/manage/demo/staff/invitations", {"email": "boss@demo.test", "role": "owner"}),
        ("/manage/demo/staff/invitations", {"email": "boss@demo.test", "role": "manager"}),
        ("/manage/demo/settings", {"name": "Renamed", "timezone": "UTC"}),
    ]
    for url, data in refused:
        response = await client.post(url, data={"_csrf_token": token, **data})
        assert response.status_code == 403, (url, data, response.status_code)
    assert await members_of("demo") == {"owner@demo.test": "owner",
                                        "kitchen@demo.test": "kitchen",
                                        "manager@demo.test": "manager",
                                        "manager-2@demo.test": "manager"}
    assert await StaffInvitation.count() == 0
    # What a manager may do: kitchen staff.
    invited = await client.post("/manage/demo/staff/invitations", data={
        "_csrf_token": token, "email": "cook@demo.test", "role": "kitchen"})
    assert invited.status_code == 303
    removed = await client.post(f"/manage/demo/staff/{await user_id('kitchen@demo.test')}"
                                "/remove", data={"_csrf_token": token})
    assert removed.status_code == 303
    assert "kitchen@demo.test" not in await members_of("demo")


async def test_an_owner_cannot_raise_or_remove_themselves_or_another_owner(
        client: httpx.AsyncClient) -> None:
    owner = await user_id("owner@demo.test")
    co_owner = await add_member("co-owner@demo.test", "owner")
    manager = await add_member("manager@demo.test", "manager")
    token = await login(client, "owner@demo.test")
    refused = [
        (f"/manage/demo/staff/{owner}/remove", {}),
        (f"/manage/demo/staff/{owner}/role", {"role": "manager"}),
        (f"/manage/demo/staff/{co_owner}/remove", {}),
        (f"/manage/demo/staff/{co_owner}/role", {"role": "kitchen"}),
        (f"/manage/demo/staff/{manager}/role", {"role": "owner"}),
        ("/manage/demo/staff/invitations", {"email": "boss@demo.test", "role": "owner"}),
        ("/manage/demo/staff/invitations", {"email": "root@demo.test", "role": "admin"}),
    ]
    for url, data in refused:
        response = await client.post(url, data={"_csrf_token": token, **data})
        assert response.status_code in (403, 422), (url, data, response.status_code)
        assert response.status_code == (422 if data.get("role") == "admin" else 403)
    assert (await members_of("demo"))["owner@demo.test"] == "owner"
    assert (await members_of("demo"))["co-owner@demo.test"] == "owner"
    assert (await members_of("demo"))["manager@demo.test"] == "manager"
    assert await StaffInvitation.count() == 0
    # The platform admin account is nobody's member: not reachable through /manage at all.
    admin = await user_id("admin@orderpass.test")
    for action in ("remove", "role"):
        response = await client.post(f"/manage/demo/staff/{admin}/{action}",
                                     data={"_csrf_token": token, "role": "kitchen"})
        assert response.status_code == 404
    assert await StaffUser.count().where(StaffUser.role == "admin") == 1


async def test_demo_2_members_and_invitations_cannot_be_reached_through_demo_urls(
        client: httpx.AsyncClient) -> None:
    """An owner of demo, past the guard on their own slug, names demo-2's ids: 404."""
    values = await _values()
    before = await _demo_2_state()
    token = await login(client, "owner@demo.test")
    for url, data in [
            (f"/manage/demo/staff/{values['member_id']}/remove", {}),
            (f"/manage/demo/staff/{values['member_id']}/role", {"role": "manager"}),
            (f"/manage/demo/staff/invitations/{values['invitation_id']}/withdraw", {}),
            (f"/manage/demo/hours/closures/{values['closure_id']}/remove", {})]:
        response = await client.post(url, data={"_csrf_token": token, **data})
        assert response.status_code == 404, (url, response.status_code)
    page = await client.get("/manage/demo/staff")
    assert "kitchen@demo-2.test" not in page.text and "new-cook@demo-2.test" not in page.text
    assert await _demo_2_state() == before


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
