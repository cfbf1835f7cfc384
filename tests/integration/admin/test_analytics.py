"""Analytics on a small known data set: rates, percentiles, patterns, archived orders, CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from piccolo.querystring import QueryString

from app.notifications.tables import EmailMessage
from app.ops import analytics
from app.piccolo_conf import DB
from app.platform.tables import FunnelDaily
from app.restaurants.tables import Restaurant
from tests.helpers.admin import HTML
from tests.helpers.orders import make_paid_order


async def demo_id() -> int:
    demo = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert demo is not None
    return int(demo.id)


async def known_data() -> datetime:
    """Today (UTC) for `demo`: 6 submitted, 3 paid, 4 links, 1 expired; three live orders
    (submit→pay 60/120/180 s, pay→kitchen 1/2/3 s, prep 600/1200 s, one rejected+refunded)
    and one archived completed order of a returning customer; 2 emails sent, 1 delivered."""
    restaurant = await demo_id()
    today = datetime.now(UTC).date()
    paid_at = datetime(today.year, today.month, today.day, 10, 0, tzinfo=UTC)
    await FunnelDaily.insert(FunnelDaily(restaurant=restaurant, day=today, submitted=6,
                                         link_created=4, paid=3, expired=1))
    for index, (status, wait, prep) in enumerate([("completed", 60, 600), ("ready", 120, 1200),
                                                  ("refunded", 180, None)]):
        moment = paid_at + timedelta(minutes=index)
        fields: dict[str, Any] = {
            "submitted_at": moment - timedelta(seconds=wait), "paid_at": moment,
            "kitchen_shown_at": moment + timedelta(seconds=index + 1)}
        if prep is not None:
            fields |= {"accepted_at": moment, "ready_at": moment + timedelta(seconds=prep)}
        else:
            fields |= {"rejected_at": moment, "refunded_at": moment,
                       "customer_email": "once@example.test"}
        await make_paid_order(status=status, items=[("Burrata", 1150, index + 1, "")], **fields)
    await DB.run_querystring(QueryString(
        "INSERT INTO archived_order (id, public_id, restaurant, status, currency, total_amount,"
        " paid_at, closed_at, customer_email, document) VALUES (9999, 'TEMP-archived', {}, "
        "'completed', 'eur', 500, {}, {}, 'ada@example.test', {}::jsonb)",
        restaurant, paid_at - timedelta(days=1), paid_at - timedelta(days=1),
        json.dumps({"items": []})))
    for index, status in enumerate(["delivered", "sent"]):
        await EmailMessage.insert(EmailMessage(
            idempotency_key=f"payment_received/TEMP-x{index}", kind="payment_received",
            recipient="ada@example.test", order_ref=f"TEMP-x{index}", restaurant=restaurant,
            status=status, sent_at=paid_at))
    return paid_at


async def test_rates_and_percentiles_on_known_data() -> None:
    paid_at = await known_data()
    report = await analytics.report(await demo_id(), 7)
    total, today = report.total, report.days[-1]
    assert today.day == paid_at.date()
    assert (total.submitted, total.paid) == (6, 3)
    assert total.conversion == 0.5
    assert total.expiry_rate == 0.25
    assert total.submit_to_pay_p50 == 120.0
    assert total.submit_to_pay_p95 == 174.0  # percentile_cont: 120 + 0.9 * 60
    assert total.pay_to_kitchen_p50 == 2.0
    assert total.prep_p50 == 900.0  # halfway between 600 and 1200
    assert (total.orders, total.rejected) == (4, 1)  # the archived order counts
    assert total.rejection_rate == 0.25
    assert (total.emails_sent, total.emails_delivered, total.delivery_rate) == (2, 1, 0.5)
    # 10:00 UTC in November is 11:00 in Berlin, the restaurant's time zone.
    assert report.hours[11] == 4 and sum(report.hours) == 4  # the archived one too
    assert report.weekdays[paid_at.weekday()] == 3
    assert report.weekdays[(paid_at.weekday() - 1) % 7] == 1
    assert report.popular_items[0]["name"] == "Burrata"
    assert report.popular_items[0]["quantity"] == 3  # the refunded order's 3 do not count
    [repeat] = report.repeat_customers
    assert (repeat["email"], repeat["orders"]) == ("ada@example.test", 3)
    other = await analytics.report(None, 7)
    assert other.total.conversion == 0.5  # demo-2 has no data: overall equals demo here


async def test_no_data_renders_without_rates() -> None:
    report = await analytics.report(await demo_id(), 30)
    assert len(report.days) == 30
    assert report.total.conversion is None and report.total.submit_to_pay_p50 is None


async def test_page_and_csv(admin: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = admin
    paid_at = await known_data()
    page = await client.get("/admin/analytics?restaurant=demo&days=7", headers=HTML)
    assert page.status_code == 200
    assert "Analytics · Demo Bistro" in page.text
    assert "50%" in page.text and "3 paid / 6 submitted" in page.text
    assert page.text.count("<svg") >= 6 and "<title id=\"chart-conversion-title\">" in page.text
    assert "style=" not in page.text and "<script>" not in page.text
    response = await client.get("/admin/analytics.csv?restaurant=demo&days=7")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 8  # 7 days + total
    day = next(row for row in rows if row["day"] == paid_at.date().isoformat())
    assert (day["submitted"], day["paid"], day["conversion_rate"]) == ("6", "3", "0.5")
    assert day["link_expiry_rate"] == "0.25" and day["submit_to_pay_p50_s"] == "120"
    assert rows[-1]["day"] == "total" and rows[-1]["email_delivery_rate"] == "0.5"
    assert (await client.get("/admin/analytics?restaurant=nope")).status_code == 404
    assert (await client.get("/admin/analytics?days=0")).status_code == 400
    assert (await client.get("/admin/analytics.csv?days=abc")).status_code == 400
