"""Refunds and the tip: refunding some items gives back their price with its VAT, unit by unit
so the units of a line add up to exactly what it cost, and never the tip; refunding the whole
order gives back everything, the tip included, and so does refunding every item left (it is
the whole refund: nothing is left to make, the order closes). The admin's order page shows
the breakdown and says so before the items form is sent."""

from __future__ import annotations

import json
import re

import httpx
import stripe
from arq.connections import ArqRedis
from litestar import Litestar

from app.orders import lifecycle
from app.orders.tables import OrderItem, OrderRefund, PaidOrder
from app.restaurants.tables import Restaurant
from app.settings import get_settings
from tests.helpers.accounts import login
from tests.helpers.orders import menu, pay_and_post_webhook
from tests.helpers.payments import emails_of, reload
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email


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


async def test_refunding_some_items_leaves_the_tip_and_a_full_refund_returns_it(
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

    # The lemonade: a pizza is left to make, so the tip is kept and the order stays open.
    page = await client.get(f"/admin/orders/{order.public_id}")
    lemon = await client.post(url, data={"_csrf_token": token, "nonce": nonce_of(page.text),
                                         f"qty_{lemonade.id}": "1"}, follow_redirects=False)
    assert lemon.status_code == 303, lemon.text
    after = await reload(order.public_id)
    assert after.amount_refunded == 1177 + 536 and after.status == "paid"  # the tip is kept
    refunds = await OrderRefund.select(OrderRefund.lines).where(
        OrderRefund.paid_order == order.id)
    lines = [line for row in refunds for line in (
        row["lines"] if isinstance(row["lines"], list) else json.loads(row["lines"]))]
    assert sum(line["tax"] for line in lines) == 77 + 86  # the refunded units' VAT, no more

    # No unit twice: nothing of the lemonade is left to refund.
    page = await client.get(f"/admin/orders/{order.public_id}")
    again = await client.post(url, data={"_csrf_token": token, "nonce": nonce_of(page.text),
                                         f"qty_{lemonade.id}": "1"})
    assert again.status_code == 400 and "Lemonade: refunded already" in again.text

    # Refunding the whole order gives back what is left: a pizza and the tip.
    whole = await client.post(url, data={"_csrf_token": token, "reason": "sorry",
                                         "confirm": "yes"}, follow_redirects=False)
    assert whole.status_code == 303, whole.text
    final = await reload(order.public_id)
    assert final.status == "refunded" and final.amount_refunded == 3190
    refunded = sdk.v1.refunds.list(params={"payment_intent": str(order.stripe_payment_intent_id)})
    assert sorted(refund.amount for refund in refunded.data) == [536, 1177, 1477]


async def test_refunding_every_item_left_refunds_the_tip_and_closes_the_order(
    app: Litestar, client: httpx.AsyncClient, sandbox: RunningSandbox,
    sdk: stripe.StripeClient, redis: ArqRedis
) -> None:
    order = await paid_with_tip(client, sandbox)
    ref = order.public_id
    await lifecycle.apply_action(ref, "accept", actor="kitchen@demo.test", redis=redis)
    token = await login(client, "admin@orderpass.test")
    pizza, lemonade = await OrderItem.objects().where(
        OrderItem.paid_order == order.id).order_by(OrderItem.id)
    url = f"/admin/orders/{ref}/refund"
    page = await client.get(f"/admin/orders/{ref}")
    one = await client.post(url, data={"_csrf_token": token, "nonce": nonce_of(page.text),
                                       f"qty_{pizza.id}": "1"}, follow_redirects=False)
    assert one.status_code == 303, one.text

    # The form says, before it is sent, what refunding every item left does.
    page = await client.get(f"/admin/orders/{ref}")
    note = " ".join(page.text.split('data-testid="items-refund-everything">')[1]
                    .split("</p>")[0].split())
    assert note == ("Refunding every item left also refunds the €3.00 tip and closes the "
                    "order: the customer gets all €20.13 still charged back."), note
    # The other pizza and the lemonade: nothing is left to make, so it is the whole refund.
    rest = await client.post(url, data={"_csrf_token": token, "nonce": nonce_of(page.text),
                                        f"qty_{pizza.id}": "1", f"qty_{lemonade.id}": "1",
                                        "reason": "kitchen fire"}, follow_redirects=False)
    assert rest.status_code == 303, rest.text
    assert "Refunded in full." in (await client.get(rest.headers["location"])).text

    # One Stripe refund of everything still charged, the tip included.
    refunded = sdk.v1.refunds.list(params={"payment_intent": str(order.stripe_payment_intent_id)})
    assert sorted(refund.amount for refund in refunded.data) == [1177, 3190 - 1177]
    final = await reload(ref)
    assert (final.status, final.amount_refunded, final.refund_notice) == ("refunded", 3190, True)
    body = (await client.get(f"/api/orders/{ref}")).json()
    assert (body["status"], body["refunded_amount"]) == ("refunded", 3190)

    # The kitchen: the ticket leaves the board with the "refunded in full" notice.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as screen:
        await login(screen, "kitchen@demo.test")
        board = (await screen.get("/kitchen/demo/board")).text
    assert f'id="card-{ref}"' not in board
    assert f"#{order.ticket_number} refunded by the restaurant" in board, board
    # The diner: refunded, no "Ready around".
    status = (await client.get(f"/orders/{ref}")).text
    assert "Your payment has been refunded" in status and "Ready around" not in status
    # The email of the rest says everything was refunded.
    keys = [key for key in await emails_of(ref) if key.startswith("order_refunded/")]
    assert keys == [f"order_refunded/{ref}", f"order_refunded/{ref}/rest"], keys
    settings = get_settings().model_copy(update={"resend_api_url": sandbox.url})
    seen = {message["id"] for message in sandbox.messages(to="ada@example.com")}
    await send_email({"redis": redis, "settings": settings, "job_try": 1}, "order_refunded",
                     ref, keys[1])
    [message] = sandbox.wait_for(lambda: [m for m in sandbox.messages(to="ada@example.com")
                                          if m["id"] not in seen])
    text = " ".join(message["text"].split())
    assert "the remaining €20.13 of your €31.90 payment: €31.90 in all" in text, text
