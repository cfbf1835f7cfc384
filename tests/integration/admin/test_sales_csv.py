"""The admin's analytics and CSV carry sales net, VAT and gross, and tips, per day: from real
paid orders (VAT per rate, tips), less the items an admin refunded, without orders refunded
in full, with archived orders counted from their documents."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import httpx
from arq.connections import ArqRedis
from piccolo.querystring import QueryString

from app.orders import lifecycle
from app.piccolo_conf import DB
from app.restaurants.tables import Restaurant
from tests.helpers.admin import HTML
from tests.helpers.orders import paid_dishes
from tests.helpers.sandbox import RunningSandbox


async def refund(client: httpx.AsyncClient, token: str, ref: str, **fields: str) -> None:
    page = await client.get(f"/admin/orders/{ref}", headers=HTML)
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce
    # the items form carries its nonce; "Refund everything" sends none, and its confirmation
    items = any(name.startswith("qty_") for name in fields)
    response = await client.post(f"/admin/orders/{ref}/refund", data={
        "_csrf_token": token, **({"nonce": nonce.group(1)} if items else {"confirm": "yes"}),
        **fields}, follow_redirects=False)
    assert response.status_code == 303, response.text


async def test_sales_and_tips_per_day(admin: tuple[httpx.AsyncClient, str],
                                      sandbox: RunningSandbox) -> None:
    client, token = admin
    # 2 pizzas (7 %) and a lemonade (19 %): 26.50 with 2.16 VAT, and a 10 % tip, 2.65.
    await paid_dishes(client, sandbox, [("Margherita pizza", 2), ("Lemonade", 1)], {"percent": 10})
    # A soup (6.50, 0.43 VAT) and a 1.00 tip; refunding the soup, its only item, is the whole
    # refund: the tip goes back with it and the order is refunded (it sold nothing).
    soup = await paid_dishes(client, sandbox, [("Tomato soup", 1)], {"amount": 100})
    from app.orders.tables import OrderItem, PaidOrder

    order = await PaidOrder.objects().get(PaidOrder.public_id == soup)
    assert order is not None
    [item] = await OrderItem.objects().where(OrderItem.paid_order == order.id)
    await refund(client, token, soup, **{f"qty_{item.id}": "1"})
    # A lemonade refunded in full: it sold nothing.
    lemonade = await paid_dishes(client, sandbox, [("Lemonade", 1)], None)
    await refund(client, token, lemonade, reason="mistake")
    # An archived order of today: 10.00 with 1.00 VAT and a 0.50 tip.
    demo = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert demo is not None
    now = datetime.now(UTC)
    await DB.run_querystring(QueryString(
        "INSERT INTO archived_order (id, public_id, restaurant, status, currency, total_amount,"
        " paid_at, closed_at, customer_email, document) VALUES (9999, 'TEMP-archived', {}, "
        "'completed', 'eur', 1050, {}, {}, 'bo@example.test', {}::jsonb)",
        demo.id, now, now, json.dumps({"items": [], "tax_amount": 100, "tip_amount": 50,
                                       "net_amount": 900, "refunds": []})))

    response = await client.get("/admin/analytics.csv?restaurant=demo&days=1")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    today, total = rows[0], rows[-1]
    assert today["day"] == now.date().isoformat() and total["day"] == "total"
    for row in (today, total):
        assert (row["gross_sales"], row["tax"], row["net_sales"], row["tips"]) == (
            "3650", "316", "3334", "315"), row
        # What was kept is the sales and the tips (no refund made outside Orderpass here).
        assert int(row["revenue"]) == 3650 + 315
    page = await client.get("/admin/analytics?restaurant=demo&days=1", headers=HTML)
    assert "Sales incl. VAT" in page.text and "€36.50" in page.text
    assert "net €33.34 + VAT €3.16" in page.text and "€3.15" in page.text


async def test_a_card_hold_is_no_sale_until_the_kitchen_accepts_it(
        admin: tuple[httpx.AsyncClient, str], sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """Manual capture: a paid order's card is only authorised until the kitchen accepts (and
    it is captured). The admin's CSV counted the hold as revenue and sales while the owner's
    overview listed it apart as not charged (an outside try)."""
    client, _token = admin
    await Restaurant.update({Restaurant.capture_mode: "manual"}).where(
        Restaurant.slug == "demo")
    held = await paid_dishes(client, sandbox, [("Margherita pizza", 1)], None)

    def today() -> dict[str, str]:
        rows = list(csv.DictReader(io.StringIO(response.text)))
        return rows[-1]

    response = await client.get("/admin/analytics.csv?restaurant=demo&days=1")
    assert (today()["orders"], today()["revenue"], today()["gross_sales"]) == ("1", "0", "0")
    # the kitchen accepts: the hold is captured (on the sandbox's Stripe)
    await lifecycle.apply_action(held, "accept", actor="kitchen@demo.test", redis=redis)
    response = await client.get("/admin/analytics.csv?restaurant=demo&days=1")
    assert (today()["revenue"], today()["gross_sales"]) == ("1100", "1100"), today()
