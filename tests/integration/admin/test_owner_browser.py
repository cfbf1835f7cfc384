"""The owner's pages in Debian's chromium at 1440x900: the Orders page (search by
reference, number, email and day; open an order; refund it), analytics charts with axes and
revenue, the email log keeping "skipped on purpose" apart from "failed", the webhook inbox
not painting Resend's early-event race red, and a System page that is green on a healthy
demo."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from arq.connections import ArqRedis

from app.notifications.tables import EmailMessage
from app.ops.alerts import evaluate_alerts
from app.ops.heartbeat import beat
from app.ops.request_metrics import count_webhook
from app.orders.archive import archive_closed_orders
from app.orders.tables import PaidOrder
from app.platform.tables import WebhookDelivery
from tests.helpers.browser import logged_in_context
from tests.helpers.orders import make_paid_order, paid_order_via_sandbox
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess, start_web

pytestmark = pytest.mark.browser
ADMIN_SCREEN = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def web() -> Iterator[RunningProcess]:
    with start_web() as server:
        yield server


async def admin_page(browser: Any, web: RunningProcess) -> Any:
    context = await logged_in_context(browser, web.url, "admin@orderpass.test",
                                      viewport=ADMIN_SCREEN)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


async def rows(page: Any) -> list[str]:
    return [await row.get_attribute("id") for row in await page.locator(
        "table.orders tbody tr").all()]


async def test_orders_page_searches_opens_and_refunds(
        browser: Any, web: RunningProcess, client: httpx.AsyncClient,
        sandbox: RunningSandbox) -> None:
    paid = await paid_order_via_sandbox(client, sandbox)
    berlin = ZoneInfo("Europe/Berlin")
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    older = await make_paid_order(status="completed", customer_email="grace@hopper.test",
                                  customer_name="Grace Hopper", paid_at=three_days_ago,
                                  completed_at=three_days_ago)
    archived = await make_paid_order(status="completed", customer_email="old@example.test",
                                     paid_at=datetime.now(UTC) - timedelta(days=60),
                                     completed_at=datetime.now(UTC) - timedelta(days=60))
    assert await archive_closed_orders(after_days=30) == 1
    page = await admin_page(browser, web)
    await page.goto("/admin/orders")
    assert len(await rows(page)) == 3  # live and archived, newest first
    assert (await rows(page))[0] == f"order-{paid.public_id}"

    async def search(**fields: str) -> list[str]:
        for name in ("q", "day"):
            await page.fill(f"#{name}", fields.get(name, ""))
        await page.click("form.search button[type=submit]")
        await page.wait_for_load_state()
        return await rows(page)

    assert await search(q=paid.public_id) == [f"order-{paid.public_id}"]
    assert await search(q=f"#{older.ticket_number}") == [f"order-{older.public_id}"]
    assert await search(q="hopper") == [f"order-{older.public_id}"]
    assert await search(q="old@example") == [f"order-{archived.public_id}"]
    assert "archived" in await page.inner_text(f"#order-{archived.public_id}")
    day = three_days_ago.astimezone(berlin).date().isoformat()
    assert await search(day=day) == [f"order-{older.public_id}"]

    await search(q=paid.public_id)
    await page.click(f"#order-{paid.public_id} a")
    await page.wait_for_url(f"**/admin/orders/{paid.public_id}")
    assert f"Order #{paid.ticket_number}" in await page.inner_text("h1")
    assert "Tomato soup" in await page.inner_text("main")
    await page.fill("#reason", "cold food")
    await page.check("#refund-confirm")  # the form's own confirmation (required)
    await page.click(".refund-form button[type=submit]")
    await page.wait_for_url("**?done=refunded")
    assert "Refunded in full." in await page.inner_text(".admin-outcome")
    refunded = await PaidOrder.objects().get(PaidOrder.id == paid.id)
    assert refunded is not None and refunded.status == "refunded"
    assert await page.locator(".refund-form").count() == 0  # nothing left to refund
    assert page.errors == []


async def test_analytics_emails_webhooks_and_a_green_system_page(
        browser: Any, web: RunningProcess, redis: ArqRedis) -> None:
    # A healthy demo: orders paid and done, their emails delivered, two confirmations not
    # sent because the order was paid first, and Resend's events racing our "sent" update.
    for _ in range(3):
        order = await make_paid_order(status="completed")
        for kind in ("order_confirmation", "payment_received", "order_ready"):
            skipped = kind == "order_confirmation"
            await EmailMessage(idempotency_key=f"{kind}/{order.public_id}", kind=kind,
                               recipient="ada@example.test", order_ref=order.public_id,
                               restaurant=order.restaurant,
                               status="skipped" if skipped else "delivered",
                               last_error="not sent: order is paid" if skipped else "").save()
    await EmailMessage(idempotency_key="order_ready/TEMP-bounce", kind="order_ready",
                       recipient="bounced@resend.dev", order_ref="TEMP-bounce",
                       status="bounced", last_error="bounced (Permanent)").save()
    for index in range(12):
        event = f"msg_race_{index}"
        await WebhookDelivery(provider="resend", event_id=event, type="email.delivered",
                              signature_valid=True, processed=False,
                              error=f"unknown email_id em_{index}", body="{}").save()
        if index < 11:  # the last one is still waiting for Resend's retry
            await WebhookDelivery(provider="resend", event_id=event, type="email.delivered",
                                  signature_valid=True, processed=True, error="",
                                  body="{}").save()
        await count_webhook(redis, "resend", 409)
        await count_webhook(redis, "resend", 200)
    await beat(redis, "worker-under-test")
    assert await evaluate_alerts(redis) == []  # nothing fires on a healthy demo

    page = await admin_page(browser, web)
    await page.goto("/admin/system")
    summary = page.locator(".system-summary")
    assert "is-ok" in (await summary.get_attribute("class") or ""), await summary.inner_text()
    assert "All checked components healthy" in await summary.inner_text()

    await page.goto("/admin/emails")
    tabs = await page.inner_text("nav.filters")
    assert "Failed (1)" in tabs and "Skipped on purpose (3)" in tabs
    await page.click("text=Skipped on purpose (3)")
    await page.wait_for_url("**status=skipped**")
    badges = await page.locator("table.emails .badge.email-skipped").all_inner_texts()
    assert badges == ["skipped on purpose"] * 3
    assert await page.locator("table.emails .error-text").count() == 0
    await page.click("text=Failed (1)")
    await page.wait_for_url("**status=failed**")
    assert await page.locator("table.emails tbody tr").count() == 1
    assert await page.locator("table.emails .error-text").count() == 1

    await page.goto("/admin/webhooks?provider=resend")
    assert await page.locator("td.error-text:has-text('unknown email_id')").count() == 0
    assert await page.locator(".badge:has-text('on retry')").count() == 11
    assert await page.locator(".badge:has-text('retry due')").count() == 1

    await page.goto("/admin/analytics?restaurant=demo&days=7")
    revenue = page.locator("#chart-revenue")
    assert "Revenue by day (EUR)" in await revenue.locator("figcaption").inner_text()
    ticks = await revenue.locator("text.tick").all_text_contents()
    assert len(ticks) == 5 and ticks[0] == "€0.00" and all("€" in tick for tick in ticks)
    assert await revenue.locator("line.y-axis").count() == 1
    assert await revenue.locator("line.x-axis").count() == 1
    labels = await revenue.locator("text.label").all_text_contents()
    assert datetime.now(UTC).strftime("%d %b") in labels
    assert await page.locator("#chart-paid text.tick").count() == 5
    assert "€" in await page.locator(".stat", has_text="Revenue").inner_text()
    assert page.errors == []


async def test_on_a_phone_each_search_label_sits_over_its_own_field(
        browser: Any, web: RunningProcess) -> None:
    """At 360 px the search row wraps: a label wrapped away from its field and sat beside
    the next one ("From" beside the day, "To" beside "From"), so an owner filtered by the
    wrong date."""
    context = await logged_in_context(browser, web.url, "owner@demo.test",
                                      viewport={"width": 360, "height": 740})
    page = await context.new_page()
    await page.goto(f"{web.url}/manage/demo/orders")
    for field in ("q", "day", "date_from", "date_to", "status"):
        label = await page.locator(f"label[for={field}]").bounding_box()
        control = await page.locator(f"#{field}").bounding_box()
        assert label is not None and control is not None, field
        # right above it: starts where it starts, ends just over its top
        assert abs(label["x"] - control["x"]) <= 2, (field, label, control)
        gap = control["y"] - (label["y"] + label["height"])
        assert 0 <= gap <= 8, (field, label, control)
        assert control["x"] + control["width"] <= 360, (field, control)
    await context.close()
