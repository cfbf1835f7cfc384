"""A new payment link is for the order as the menu takes it now: a dish sold out since the
link expired (or a restaurant no longer taking orders) refuses the renewal on the page, with
what is wrong and the way back to the menu, and makes no Checkout Session."""

from __future__ import annotations

import httpx
import stripe

from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login
from tests.helpers.orders import menu
from tests.helpers.payments import post_event, sessions_of
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.stripe_events import sandbox_events


async def _expired_order(client: httpx.AsyncClient, sandbox: RunningSandbox,
                         sdk: stripe.StripeClient) -> tuple[str, int]:
    """A Margherita ordered, its link expired unpaid: (order id, the dish's id)."""
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    pizza = items["Margherita pizza"]
    created = (await client.post("/api/orders", json={
        "restaurant": "demo", "items": [{"menu_item_id": pizza, "quantity": 1}],
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "fulfillment": "pickup"})).json()
    session = created["payment_url"].rsplit("/", 1)[1]
    sdk.v1.checkout.sessions.expire(session)  # as at its time, without moving Stripe's clock
    [expired] = sandbox_events(sandbox.url, session_id=session,
                               types={"checkout.session.expired"})
    assert await post_event(client, expired) == "expired"
    assert (await client.get(f"/api/orders/{created['id']}")).json()["status"] \
        == "payment_expired"
    return created["id"], pizza


async def test_a_renewal_refuses_a_dish_sold_out_meanwhile(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient
) -> None:
    ref, pizza = await _expired_order(client, sandbox, sdk)
    token = await login(client, "kitchen@demo.test")
    out = await client.post(f"/kitchen/demo/menu/{pizza}/availability",
                            data={"_csrf_token": token, "available": "0"},
                            headers={"hx-request": "true"})
    assert out.status_code == 200, out.text
    hx = {"hx-request": "true", "x-csrftoken": client.cookies["csrftoken"]}
    # The page's form (409), and htmx's swap (200: htmx swaps only a 2xx).
    for headers, code in (({"x-csrftoken": client.cookies["csrftoken"]}, 409), (hx, 200)):
        refused = await client.post(f"/orders/{ref}/payment-link", headers=headers)
        assert refused.status_code == code, refused.text
        assert "Margherita pizza is sold out." in refused.text
        assert 'href="/r/demo"' in refused.text and "Back to the menu" in refused.text
        # and no invitation to try the renewal again: only a new order can be paid
        assert "Get a new payment link" not in refused.text
    assert [s.status for s in sessions_of(sdk, ref)] == ["expired"]  # no new session
    assert (await client.get(f"/api/orders/{ref}")).json()["status"] == "payment_expired"

    # Back on the menu, but the restaurant stopped taking orders: refused too.
    await client.post(f"/kitchen/demo/menu/{pizza}/availability",
                      data={"_csrf_token": token, "available": "1"},
                      headers={"hx-request": "true"})
    await Restaurant.update({Restaurant.accepting_orders: False}).where(
        Restaurant.slug == "demo")
    closed = await client.post(f"/orders/{ref}/payment-link", headers=hx)
    assert "is not taking orders right now" in closed.text
    assert len(sessions_of(sdk, ref)) == 1

    await Restaurant.update({Restaurant.accepting_orders: True}).where(
        Restaurant.slug == "demo")
    renewed = await client.post(f"/orders/{ref}/payment-link", headers=hx)
    assert renewed.status_code == 200, renewed.text
    assert [s.status for s in sessions_of(sdk, ref)].count("open") == 1
