"""The owner's sales for a period as CSV, for the accountant (an outside try: an owner had
no way to get a month's net, VAT per rate and tips without adding up orders by hand). Real
orders paid through the sandbox, refunds made through the admin's pages, archived orders
counted from their documents; card holds, rejections and full refunds left out."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
from arq.connections import ArqRedis
from litestar import Litestar

from app.orders import archive, lifecycle
from app.orders.tables import OrderItem, PaidOrder
from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login, staff_session
from tests.helpers.hours import BERLIN
from tests.helpers.orders import paid_dishes
from tests.helpers.payments import refund_in_full, refund_items
from tests.helpers.sandbox import RunningSandbox


async def test_a_period_of_sales_with_vat_per_rate_tips_and_refunds(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
        app: Litestar) -> None:
    # 2 pizzas (7 %) and a lemonade (19 %): 26.50, and a 10 % tip, 2.65.
    tipped = await paid_dishes(client, sandbox, [("Margherita pizza", 2), ("Lemonade", 1)],
                        {"percent": 10})
    # A pizza and a soup (both 7 %); the soup refunded as an item: 11.00 kept.
    souped = await paid_dishes(client, sandbox, [("Margherita pizza", 1), ("Tomato soup", 1)])
    gone = await paid_dishes(client, sandbox, [("Lemonade", 1)])  # refunded in full: no sale
    await refund_in_full(client, gone)  # `client` is the admin's from here
    order = await PaidOrder.objects().get(PaidOrder.public_id == souped)
    assert order is not None
    [soup] = await OrderItem.objects().where(
        (OrderItem.paid_order == order.id) & (OrderItem.name == "Tomato soup"))
    assert await refund_items(client, client.cookies["csrftoken"], souped, {soup.id: 1}) == 650
    # The first order is archived (as after ARCHIVE_AFTER_DAYS): read from its document.
    await lifecycle.apply_action(tipped, "accept", actor="kitchen@demo.test", redis=redis)
    for action in ("start", "ready", "complete"):
        await lifecycle.apply_action(tipped, action, actor="kitchen@demo.test", redis=redis)
    await PaidOrder.update({PaidOrder.completed_at: datetime.now(UTC) - timedelta(days=60)}
                           ).where(PaidOrder.public_id == tipped)
    assert await archive.archive_closed_orders(after_days=30) >= 1
    # A card hold not accepted yet is no sale.
    await Restaurant.update({Restaurant.capture_mode: "manual"}).where(
        Restaurant.slug == "demo")
    held = await paid_dishes(client, sandbox, [("Lemonade", 1)])

    today = datetime.now(BERLIN).date()
    async with staff_session(app, "owner@demo.test") as owner:
        overview = (await owner.get("/manage/demo")).text
        assert 'action="/manage/demo/sales.csv"' in overview
        assert f'name="from" value="{today.replace(day=1).isoformat()}"' in overview
        response = await owner.get("/manage/demo/sales.csv",
                                   params={"from": today.isoformat(), "to": today.isoformat()})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert f"demo-sales-{today}-{today}.csv" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        by_ref = {row["order"]: row for row in rows}
        assert set(by_ref) == {tipped, souped, "2 orders"}, rows
        assert gone not in by_ref and held not in by_ref
        first = by_ref[tipped]
        assert (first["net 7 %"], first["VAT 7 %"], first["gross 7 %"]) == (
            "20.56", "1.44", "22.00")
        assert (first["net 19 %"], first["VAT 19 %"], first["gross 19 %"]) == (
            "3.78", "0.72", "4.50")
        assert (first["tip"], first["kept"], first["currency"]) == ("2.65", "29.15", "EUR")
        second = by_ref[souped]
        assert (second["net 7 %"], second["VAT 7 %"], second["gross 7 %"]) == (
            "10.28", "0.72", "11.00")
        assert (second["gross 19 %"], second["kept"]) == ("0.00", "11.00")
        total = rows[-1]
        assert total["date"] == "total"
        assert (total["VAT 7 %"], total["gross 7 %"], total["VAT 19 %"]) == (
            "2.16", "33.00", "0.72")
        assert (total["tip"], total["kept"]) == ("2.65", "40.15")


async def test_a_period_that_is_no_period_is_a_4xx_saying_why(
        client: httpx.AsyncClient, app: Litestar) -> None:
    await login(client, "owner@demo.test")
    for params, said in (({"from": "2026-12-05", "to": "2026-12-01"}, "on or after"),
                         ({"from": "yesterday", "to": "2026-12-01"}, "`from` must be a day"),
                         ({"from": "2024-01-01", "to": "2026-12-01"}, "at most 366 days")):
        refused = await client.get("/manage/demo/sales.csv", params=params)
        assert refused.status_code == 400 and said in refused.text, (params, refused.text)
    async with staff_session(app, "kitchen@demo.test") as kitchen:
        assert (await kitchen.get("/manage/demo/sales.csv", params={
            "from": "2026-12-01", "to": "2026-12-01"})).status_code == 403


async def test_the_csv_files_say_their_charset_once(client: httpx.AsyncClient,
                                                    app: Litestar) -> None:
    """`text/csv; charset=utf-8; charset=utf-8` (outside try): Litestar adds the charset
    to a text type itself."""
    await login(client, "owner@demo.test")
    sales = await client.get("/manage/demo/sales.csv")
    assert sales.status_code == 200
    assert sales.headers["content-type"] == "text/csv; charset=utf-8"
    async with staff_session(app, "admin@orderpass.test") as admin:
        analytics = await admin.get("/admin/analytics.csv")
        assert analytics.status_code == 200
        assert analytics.headers["content-type"] == "text/csv; charset=utf-8"
