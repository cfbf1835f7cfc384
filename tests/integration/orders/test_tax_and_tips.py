"""VAT and tips through the public API, the real stripe SDK and the sandbox: the breakdown
the API shows, the Checkout Session's lines and total, the paid order Postgres keeps (its
amount check passing), a rebuild from Stripe, and every bad tip refused with nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from app.orders.tables import OrderItem, PaidOrder
from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.orders import menu, pay_and_post_webhook, temp_keys
from tests.helpers.sandbox import RunningSandbox, stripe_client
from tests.helpers.stripe_events import paid_events, post_event


def money(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "eur"}


async def demo_order(client: httpx.AsyncClient, tip: dict[str, int] | None = None,
                     slug: str = "demo") -> dict[str, Any]:
    """2 x Margherita pizza (food, 7 %) and a lemonade (drinks, 19 %) at the demo bistro."""
    items = {item["name"]: item for item in (await menu(client, slug))["items"]}
    assert items["Margherita pizza"]["tax_rate"] == "7"
    assert items["Lemonade"]["tax_rate"] == "19"
    body: dict[str, Any] = {
        "restaurant": slug,
        "items": [{"menu_item_id": items["Margherita pizza"]["id"], "quantity": 2},
                  {"menu_item_id": items["Lemonade"]["id"], "quantity": 1}],
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "fulfillment": "pickup",
    }
    if tip is not None:
        body["tip"] = tip
    return body


def line_items(sandbox: RunningSandbox, created: dict[str, Any]) -> list[tuple[str, int, int]]:
    session_id = created["payment_url"].rsplit("/", 1)[1]
    sdk = stripe_client(sandbox.url)
    return [(item.description, item.quantity, item.amount_total)
            for item in sdk.v1.checkout.sessions.line_items.list(session_id).data]


def session_total(sandbox: RunningSandbox, created: dict[str, Any]) -> int:
    session_id = created["payment_url"].rsplit("/", 1)[1]
    return int(stripe_client(sandbox.url).v1.checkout.sessions.retrieve(session_id)
               .amount_total)


async def test_prices_including_vat_with_a_ten_percent_tip(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    response = await client.post("/api/orders",
                                 json=await demo_order(client, {"percent": 10}))
    assert response.status_code == 201, response.text
    created = response.json()
    # 22.00 at 7 % holds 1.44 VAT; 4.50 at 19 % holds 0.72 (per rate, half up); the tip is
    # 10 % of the 26.50 the menu prices add up to, without VAT.
    expected = {
        "prices_include_tax": True, "net": money(2434), "tax": money(216),
        "gross": money(2650),
        "taxes": [{"rate": "7", "net": money(2056), "tax": money(144), "gross": money(2200)},
                  {"rate": "19", "net": money(378), "tax": money(72), "gross": money(450)}],
        "tip": money(265), "total": money(2915)}
    assert created["totals"] == expected
    assert created["total"] == money(2915)
    # Stripe charges the goods at their menu prices and the tip as a line of its own.
    assert line_items(sandbox, created) == [("Margherita pizza", 2, 2200),
                                            ("Lemonade", 1, 450), ("Tip", 1, 265)]
    assert session_total(sandbox, created) == 2915
    status = (await client.get(f"/api/orders/{created['id']}")).json()
    assert status["totals"] == expected
    assert [(line["tax_rate"], line["net"]["amount"], line["tax"]["amount"],
             line["gross"]["amount"]) for line in status["items"]] == [
        ("7", 2056, 144, 2200), ("19", 378, 72, 450)]

    # Paid: Postgres keeps what Stripe charged, frozen, and the amount check passes.
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None and not order.needs_review
    assert (order.total_amount, order.amount_charged, order.tip_amount, order.net_amount,
            order.tax_amount, order.tax_mode) == (2915, 2915, 265, 2434, 216, "included")
    assert (order.seller_legal_name, order.seller_tax_id) == ("Demo Bistro GmbH",
                                                              "DE123456789")
    items = await OrderItem.objects().where(OrderItem.paid_order == order.id).order_by(
        OrderItem.id)
    assert [(i.tax_rate, i.net_amount, i.tax_amount, i.gross_amount) for i in items] == [
        (700, 2056, 144, 2200), (1900, 378, 72, 450)]
    assert (await client.get(f"/api/orders/{created['id']}")).json()["totals"] == expected

    # A rate changed on the menu afterwards does not change the order.
    await MenuItem.update({MenuItem.tax_rate: 1900}).where(MenuItem.name == "Margherita pizza")
    assert (await client.get(f"/api/orders/{created['id']}")).json()["totals"] == expected


async def test_vat_added_at_checkout_is_charged_as_a_line_per_rate(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    await Restaurant.update({Restaurant.tax_mode: "added"}).where(Restaurant.slug == "demo")
    menu_body = (await menu(client))["restaurant"]
    assert menu_body["prices_include_tax"] is False and menu_body["tips"] == [5, 10, 15]
    # the menu page says so above its first price, not only once a dish is in the basket
    page = (await client.get("/r/demo")).text
    note = page.index("Prices on this menu are before VAT: VAT is added at checkout.")
    assert note < page.index('class="menu-item-price"'), "said after the prices"
    response = await client.post("/api/orders",
                                 json=await demo_order(client, {"amount": 300}))
    assert response.status_code == 201, response.text
    created = response.json()
    # Net 22.00 at 7 % is 1.54 VAT, 4.50 at 19 % is 0.855 → 0.86 (half up).
    totals = created["totals"]
    assert totals["prices_include_tax"] is False
    assert [(t["rate"], t["net"]["amount"], t["tax"]["amount"], t["gross"]["amount"])
            for t in totals["taxes"]] == [("7", 2200, 154, 2354), ("19", 450, 86, 536)]
    assert (totals["net"]["amount"], totals["tax"]["amount"], totals["gross"]["amount"],
            totals["tip"]["amount"], totals["total"]["amount"]) == (2650, 240, 2890, 300, 3190)
    assert line_items(sandbox, created) == [
        ("Margherita pizza", 2, 2200), ("Lemonade", 1, 450), ("VAT 7%", 1, 154),
        ("VAT 19%", 1, 86), ("Tip", 1, 300)]
    assert session_total(sandbox, created) == 3190
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None and not order.needs_review
    assert (order.total_amount, order.amount_charged, order.tax_mode) == (3190, 3190, "added")


async def test_a_rebuild_from_stripe_keeps_the_vat_and_the_tip(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    await Restaurant.update({Restaurant.tax_mode: "added"}).where(Restaurant.slug == "demo")
    created = (await client.post("/api/orders",
                                 json=await demo_order(client, {"percent": 15}))).json()
    before = (await client.get(f"/api/orders/{created['id']}")).json()
    await redis.flushdb()  # the temp order is gone: the order comes back from Stripe
    session_id = created["payment_url"].rsplit("/", 1)[1]
    sandbox.pay(session_id)
    [event] = paid_events(sandbox, session_id)
    assert (await post_event(client, event)).json()["result"] == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None and order.rebuilt_from_stripe
    assert not order.needs_review, order.review_reason
    after = (await client.get(f"/api/orders/{created['id']}")).json()
    assert after["totals"] == before["totals"]
    assert after["totals"]["tip"]["amount"] == 398  # 15 % of 26.50, half up
    assert [(line["name"], line["tax_rate"]) for line in after["items"]] == [
        ("Margherita pizza", "7"), ("Lemonade", "19")]


@pytest.mark.parametrize(("tip", "status", "field"), [
    ({"percent": 101}, 400, "percent"),
    ({"amount": -5}, 400, "amount"),
    ({"amount": 2651}, 422, "tip"),  # more than the food
    ({"percent": 10, "amount": 100}, 422, "tip"),
    ({"percent": 7.5}, 400, "percent"),
])
async def test_bad_tips_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, redis: ArqRedis, tip: dict[str, Any], status: int, field: str
) -> None:
    response = await client.post("/api/orders", json=await demo_order(client, tip))
    assert response.status_code == status, response.text
    assert field in response.text
    assert await temp_keys(redis) == []


async def test_a_restaurant_without_tips_refuses_one_but_not_a_zero_tip(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    await Restaurant.update({Restaurant.tips_enabled: False}).where(Restaurant.slug == "demo")
    assert (await menu(client))["restaurant"]["tips"] == []
    refused = await client.post("/api/orders", json=await demo_order(client, {"amount": 100}))
    assert refused.status_code == 422 and "does not take tips" in refused.text
    # a tip larger than the food is still refused for having no tips, not for its size
    huge = await client.post("/api/orders", json=await demo_order(client, {"amount": 999999}))
    assert huge.status_code == 422 and "does not take tips" in huge.text, huge.text
    assert await temp_keys(redis) == []
    fine = await client.post("/api/orders", json=await demo_order(client, {"percent": 0}))
    assert fine.status_code == 201 and fine.json()["totals"]["tip"]["amount"] == 0


async def test_the_card_minimum_applies_to_the_total_with_the_tip(
    client: httpx.AsyncClient
) -> None:
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    await MenuItem.insert(MenuItem(restaurant=restaurant.id, category="Sides", name="Bread",
                                   price_amount=30, position=99))
    [bread] = [item for item in (await menu(client))["items"] if item["name"] == "Bread"]
    body = {"restaurant": "demo", "items": [{"menu_item_id": bread["id"], "quantity": 1}],
            "customer": {"name": "Ada", "email": "ada@example.com"}, "fulfillment": "pickup"}
    refused = await client.post("/api/orders", json=body)
    assert refused.status_code == 422 and "total" in refused.text
    tipped = await client.post("/api/orders", json={**body, "tip": {"amount": 20}})
    assert tipped.status_code == 201, tipped.text
    assert tipped.json()["total"] == money(50)


async def test_an_archived_order_keeps_its_vat_tip_and_seller(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    from datetime import UTC, datetime, timedelta

    from app.orders.archive import archive_batch
    from app.orders.views import load_order_view

    created = (await client.post("/api/orders",
                                 json=await demo_order(client, {"percent": 10}))).json()
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    live = (await client.get(f"/api/orders/{created['id']}")).json()
    await PaidOrder.update({PaidOrder.status: "completed",
                            PaidOrder.completed_at: datetime.now(UTC) - timedelta(days=90)}
                           ).where(PaidOrder.public_id == created["id"])
    assert await archive_batch(datetime.now(UTC) - timedelta(days=30)) == 1
    assert await PaidOrder.count() == 0
    archived = (await client.get(f"/api/orders/{created['id']}")).json()
    assert archived["totals"] == live["totals"] and archived["items"] == live["items"]
    view = await load_order_view(redis, created["id"])
    assert view is not None and view.archived and view.seller is not None
    assert (view.seller.legal_name, view.seller.tax_id) == ("Demo Bistro GmbH", "DE123456789")
