"""The menu page's checkout takes the largest cart a diner can fill in: every dish with a
note and an allergy at their limits, in characters that percent-encode to 12 bytes each.
The form's size cap only stops junk; the cart's own limits decide what is too big."""

from __future__ import annotations

import httpx

from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.orders import LONGEST_PHONE, menu

EMOJI = "\N{GRINNING FACE}"  # 4 bytes of UTF-8, %F0%9F%98%80 in a form body


async def test_the_largest_cart_checks_out_through_the_form(client: httpx.AsyncClient) -> None:
    restaurant = await Restaurant.select(Restaurant.id).where(Restaurant.slug == "demo").first()
    assert restaurant is not None
    await MenuItem.insert(*(  # a long menu: 40 dishes a diner can take without choosing
        MenuItem(restaurant=restaurant["id"], category="Sides", name=f"Side {n}",
                 price_amount=100, position=100 + n) for n in range(30)))
    await client.get("/r/demo")
    dishes = [item for item in (await menu(client))["items"]
              if not any(group["required"] for group in item["groups"])]
    form = {"_csrf_token": client.cookies["csrftoken"],
            "name": EMOJI * 120, "email": "a" * 60 + "@" + "b" * 60 + ".example.com",
            "phone": LONGEST_PHONE, "fulfillment": "delivery",
            "delivery_address": EMOJI * 300, "notes": EMOJI * 500,
            "has_allergy": "on", "allergy": EMOJI * 200}
    for dish in dishes:
        form |= {f"qty-{dish['id']}": "99", f"note-{dish['id']}": EMOJI * 200,
                 f"allergic-{dish['id']}": "on", f"allergy-{dish['id']}": EMOJI * 200}
    assert len(dishes) >= 30
    size = len(str(httpx.QueryParams(form)))
    assert size > 192 * 1024, size  # three times the cap this test was written against

    cart = await client.post("/r/demo/cart", data=form)
    assert cart.status_code == 200, cart.text[:500]
    response = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    ref = response.headers["location"].rsplit("/", 1)[1]
    created = (await client.get(f"/api/orders/{ref}")).json()
    assert len(created["items"]) == len(dishes)
    assert all(line["notes"] == EMOJI * 200 for line in created["items"])


async def test_a_form_far_beyond_any_cart_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/r/demo")
    form = {"_csrf_token": client.cookies["csrftoken"], "notes": "x" * (1024 * 1024)}
    for path in ("/r/demo/cart", "/r/demo/checkout"):
        response = await client.post(path, data=form)
        assert response.status_code == 413, (path, response.status_code)
