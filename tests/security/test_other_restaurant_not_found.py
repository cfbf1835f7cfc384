"""Another restaurant's staff area is 404, as for a slug that does not exist: an owner or
cook of `demo-2` who opens any `/manage/demo/…` or `/kitchen/demo/…` route learns nothing,
not even that `demo` exists (the rest of the product answers another restaurant's data with
404 too). Someone of `demo` itself below a page's role still gets 403 (they know their own
restaurant exists); nobody logged in is still sent to log in."""

from __future__ import annotations

import httpx
import pytest

from app.orders.tables import PaidOrder
from app.restaurants.tables import MenuItem, ModifierOption, Restaurant
from tests.helpers.accounts import login
from tests.helpers.orders import make_paid_order
from tests.helpers.routes import ROUTES, fill

BROWSER = {"accept": "text/html"}
STREAM = {"accept": "text/event-stream"}
SLUG_ROUTES = sorted((method, path) for (method, path), kind in ROUTES.items()
                     if kind in ("staff", "manager", "owner"))
GETS = [path for method, path in SLUG_ROUTES if method == "GET"]
# One state-changing form of each area, posted with a valid CSRF token.
POSTS = ["/manage/{slug:str}/settings", "/kitchen/{slug:str}/orders/{ref:str}/{action:str}"]
FORM = {"name": "Taken over", "timezone": "UTC", "currency": "usd", "phone": "+49 30 1",
        "default_prep_minutes": "1", "auto_reject_minutes": "0", "prep_minutes": "5"}
# What would give `demo` (Demo Bistro) away: its name, contact and legal details, its staff,
# its menu.
DEMO_MARKERS = ("Demo Bistro", "Torstraße", "1234567", "hello@demo.test", "DE123456789",
                "kitchen@demo.test", "owner@demo.test", "Margherita", "Tiramisu")
UNKNOWN = "no-such-place"


async def _demo_ids() -> dict[str, object]:
    """Real ids of `demo`: one of its orders, a dish, an option."""
    demo = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert demo is not None
    item = await MenuItem.objects().get(MenuItem.restaurant == demo.id)
    option = await ModifierOption.select(ModifierOption.id).where(
        ModifierOption.modifier_group.menu_item.restaurant == demo.id).first()
    assert item is not None and option is not None
    order = await make_paid_order("demo")
    return {"ref": order.public_id, "action": "accept", "item_id": item.id,
            "option_id": option["id"], "member_id": 1, "invitation_id": 1, "closure_id": 1,
            "category_id": 1}


async def _ask(client: httpx.AsyncClient, method: str, url: str,
               token: str) -> httpx.Response:
    if method == "GET":
        return await client.get(url, headers=STREAM if url.endswith("/events") else BROWSER)
    return await client.post(url, data={"_csrf_token": token, **FORM}, headers=BROWSER)


async def _demo_state() -> tuple[object, ...]:
    return (await Restaurant.select().where(Restaurant.slug == "demo").first(),
            await PaidOrder.select(PaidOrder.public_id, PaidOrder.status).order_by(
                PaidOrder.id))


@pytest.mark.parametrize("email", ["owner@demo-2.test", "kitchen@demo-2.test"])
@pytest.mark.parametrize(("method", "path"),
                         [("GET", path) for path in GETS] + [("POST", path) for path in POSTS])
async def test_another_restaurants_staff_get_404_as_for_an_unknown_slug(
        client: httpx.AsyncClient, email: str, method: str, path: str) -> None:
    ids = await _demo_ids()
    token = await login(client, email)
    before = await _demo_state()
    response = await _ask(client, method, fill(path, {"slug": "demo", **ids}), token)
    assert response.status_code == 404, (method, path, response.status_code,
                                         response.text[:300])
    assert "csrf" not in response.text.lower()  # the guard answered, not the CSRF check
    for marker in (*DEMO_MARKERS, str(ids["ref"])):
        assert marker not in response.text, (path, marker)
    # Word for word what a restaurant that does not exist gets.
    unknown = await _ask(client, method, fill(path, {"slug": UNKNOWN, **ids}), token)
    assert unknown.status_code == 404
    assert response.text == unknown.text
    assert await _demo_state() == before  # nothing of demo changed


async def test_own_restaurant_below_the_role_is_still_403(client: httpx.AsyncClient) -> None:
    token = await login(client, "kitchen@demo.test")
    page = await client.get("/manage/demo/settings", headers=BROWSER)
    assert page.status_code == 403 and "Not allowed here" in page.text
    assert (await client.get("/manage/demo/orders", headers=BROWSER)).status_code == 403
    refused = await client.post("/manage/demo/settings", data={"_csrf_token": token, **FORM})
    assert refused.status_code == 403
    assert (await client.get("/kitchen/demo", headers=BROWSER)).status_code == 200


async def test_not_logged_in_is_still_sent_to_login(client: httpx.AsyncClient) -> None:
    for url in ("/manage/demo/orders", "/manage/demo-2/settings", f"/manage/{UNKNOWN}",
                "/kitchen/demo-2"):
        response = await client.get(url, headers=BROWSER)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=")
