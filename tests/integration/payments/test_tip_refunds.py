"""Refunds and the tip: refunding items gives back their price with its VAT, unit by unit so
the units of a line add up to exactly what it cost, and never the tip; refunding the whole
order gives back everything, the tip included. The admin's order page shows the breakdown."""

from __future__ import annotations

import json
import re

import httpx
import stripe

from app.orders.tables import OrderItem, OrderRefund, PaidOrder
from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login
from tests.helpers.orders import menu, pay_and_post_webhook
from tests.helpers.payments import reload
from tests.helpers.sandbox import RunningSandbox


async def paid_with_tip(client: httpx.AsyncClient, sandbox: RunningSandbox) -> PaidOrder:
    """VAT added at checkout: 2 x pizza 22.00 + 7 % = 23.54, a lemonade 4.50 + 19 % = 5.36,
    a 3.00 tip: 31.90."""
    await Restaurant.update({Restaurant.tax_mode: "added"}).where(Restaurant.slug == "demo")
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    created = (await client.post("/api/orders", json={
        "restaurant": "demo",
        "items": [{"menu_item_id": items["Margherita pizza"], "quantity": 2},
                  {"menu_item_id": items["Lemonade"], "quantity": 1}],
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "fulfillment": "pickup", "tip": {"amount": 300}})).json()
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    order = await reload(created["id"])
    assert order.amount_charged == 3190
    return order


def nonce_of(html: str) -> str:
    match = re.search(r'name="nonce" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def test_refunding_every_item_leaves_the_tip_and_a_full_refund_returns_it(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient
) -> None:
    order = await paid_with_tip(client, sandbox)
    token = await login(client, "admin@orderpass.test")
    page = await client.get(f"/admin/orders/{order.public_id}")
    for shown in ("VAT 7%", "€1.54", "VAT 19%", "€0.86", "Tip", "€3.00", "€31.90",
                  'data-testid="vat-table"', "VAT added at checkout"):
        assert shown in page.text, shown
    pizza, lemonade = await OrderItem.objects().where(
        OrderItem.paid_order == order.id).order_by(OrderItem.id)
    url = f"/admin/orders/{order.public_id}/refund"

    # One of the two pizzas: half the line, VAT included.
    one = await client.post(url, data={"_csrf_token": token, "nonce": nonce_of(page.text),
                                       f"qty_{pizza.id}": "1"}, follow_redirects=False)
    assert one.status_code == 303, one.text
    assert (await reload(order.public_id)).amount_refunded == 1177  # 23.54 / 2

    # The other pizza and the lemonade: every item is back, 28.90, and not the tip.
    page = await client.get(f"/admin/orders/{order.public_id}")
    rest = await client.post(url, data={"_csrf_token": token, "nonce": nonce_of(page.text),
                                        f"qty_{pizza.id}": "1", f"qty_{lemonade.id}": "1"},
                             follow_redirects=False)
    assert rest.status_code == 303, rest.text
    after = await reload(order.public_id)
    assert after.amount_refunded == 2890 and after.status == "paid"  # the tip is kept
    refunds = await OrderRefund.select(OrderRefund.lines).where(
        OrderRefund.paid_order == order.id)
    lines = [line for row in refunds for line in (
        row["lines"] if isinstance(row["lines"], list) else json.loads(row["lines"]))]
    assert sum(line["tax"] for line in lines) == 240  # every item's VAT, nothing more

    # No unit twice: nothing of the items is left to refund.
    page = await client.get(f"/admin/orders/{order.public_id}")
    again = await client.post(url, data={"_csrf_token": token, "nonce": nonce_of(page.text),
                                         f"qty_{lemonade.id}": "1"})
    assert again.status_code == 400 and "at most 0 left to refund" in again.text

    # Refunding the whole order gives back what is left: the tip.
    whole = await client.post(url, data={"_csrf_token": token, "reason": "sorry"},
                              follow_redirects=False)
    assert whole.status_code == 303, whole.text
    final = await reload(order.public_id)
    assert final.status == "refunded" and final.amount_refunded == 3190
    refunded = sdk.v1.refunds.list(params={"payment_intent": str(order.stripe_payment_intent_id)})
    assert sorted(refund.amount for refund in refunded.data) == [300, 1177, 1713]
