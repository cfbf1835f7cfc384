"""The management overview says what the hours page says about new orders right now: paused
(until when) and busy (how many minutes), not "accepting" while the kitchen has paused; and
the restaurant's sales today and over the last 7 days, on its own clock."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx

from app.restaurants.tables import Restaurant
from app.templating import format_money
from tests.helpers.accounts import login
from tests.helpers.orders import make_paid_order, paid_order_via_sandbox
from tests.helpers.sandbox import RunningSandbox


def _cell(page: str, name: str) -> str:
    """A figure of the sales table (`sales-<period>-<key>`), as the owner reads it."""
    match = re.search(rf'id="sales-{name}">([^<]*)</td>', page)
    assert match, name
    return html.unescape(match.group(1))


async def test_the_overview_shows_a_pause_and_busy_minutes(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    before = html.unescape((await client.get("/manage/demo")).text)
    assert "accepting" in before and "paused" not in before
    for field, value in (("pause", "15"), ("busy", "20")):
        saved = await client.post("/manage/demo/hours/floor",
                                  data={"_csrf_token": token, field: value})
        assert saved.status_code == 303, saved.text
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None and restaurant.paused_until is not None
    until = restaurant.paused_until.astimezone(ZoneInfo(restaurant.timezone)).strftime("%H:%M")
    page = html.unescape((await client.get("/manage/demo")).text)
    assert f"paused until {until}" in page
    assert "+20 min" in page
    assert "accepting" not in page

    resumed = await client.post("/manage/demo/hours/floor",
                                data={"_csrf_token": token, "pause": "resume", "busy": "0"})
    assert resumed.status_code == 303
    page = html.unescape((await client.get("/manage/demo")).text)
    assert "accepting" in page and "paused" not in page and "+20 min" not in page


async def test_the_overview_shows_today_and_the_last_7_days_on_the_restaurants_clock(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """Two orders paid now, one of them refunded from the owner's page; one paid three days
    ago with a tip; one eight days ago (outside); and, when the day is old enough, one paid
    at 00:05 Berlin time (yesterday in UTC, today on the restaurant's clock)."""
    kept = await paid_order_via_sandbox(client, sandbox)
    refunded = await paid_order_via_sandbox(client, sandbox)
    token = await login(client, "owner@demo.test")
    whole = await client.post(f"/manage/demo/orders/{refunded.public_id}/refund", data={
        "_csrf_token": token, "reason": "sorry", "confirm": "yes"})
    assert whole.status_code == 303, whole.text
    now = datetime.now(UTC)
    tipped = await make_paid_order("demo", status="completed", tip_amount=250,
                                   total_amount=2900, amount_charged=2900,
                                   paid_at=now - timedelta(days=3))
    await make_paid_order("demo", status="completed", paid_at=now - timedelta(days=8))
    berlin = ZoneInfo("Europe/Berlin")
    local_now = now.astimezone(berlin)
    early: list[int] = []
    if local_now.time() > time(0, 10):
        just_after_midnight = datetime.combine(local_now.date(), time(0, 5), berlin)
        early.append((await make_paid_order(
            "demo", status="completed", paid_at=just_after_midnight)).amount_charged)

    page = await client.get("/manage/demo")
    assert page.status_code == 200, page.text

    def eur(amount: int) -> str:
        return format_money(amount, "eur")

    today_gross = kept.amount_charged + refunded.amount_charged + sum(early)
    assert _cell(page.text, "today-orders") == str(2 + len(early))
    assert _cell(page.text, "today-gross") == eur(today_gross)
    assert _cell(page.text, "today-refunds") == eur(refunded.amount_charged)
    assert _cell(page.text, "today-net") == eur(today_gross - refunded.amount_charged)
    assert _cell(page.text, "today-tips") == eur(0)
    assert _cell(page.text, "week-orders") == str(3 + len(early))
    assert _cell(page.text, "week-gross") == eur(today_gross + tipped.amount_charged)
    assert _cell(page.text, "week-refunds") == eur(refunded.amount_charged)
    assert _cell(page.text, "week-net") == eur(today_gross + tipped.amount_charged
                                   - refunded.amount_charged)
    assert _cell(page.text, "week-tips") == eur(250)


async def test_card_holds_are_no_sales_until_charged(client: httpx.AsyncClient) -> None:
    """Authorise then capture: an outside try read "Paid orders 6, Gross sales €130.50" with
    two holds never captured (€58.00) and two released ones among them, under "Gross is
    what the diners paid". A hold counts once captured (accepted); until then it is shown
    as a card hold; a released one counts nowhere."""
    now = datetime.now(UTC)
    captured = await make_paid_order("demo", status="accepted", capture_mode="manual",
                                     accepted_at=now, paid_at=now)
    held = await make_paid_order("demo", status="paid", capture_mode="manual", paid_at=now)
    await make_paid_order("demo", status="voided", capture_mode="manual", paid_at=now,
                          voided_at=now)
    await login(client, "owner@demo.test")
    page = await client.get("/manage/demo")
    assert page.status_code == 200, page.text

    assert _cell(page.text, "today-orders") == "1"
    assert _cell(page.text, "today-gross") == format_money(captured.amount_charged, "eur")
    assert _cell(page.text, "today-net") == format_money(captured.amount_charged, "eur")
    assert _cell(page.text, "today-held") == format_money(held.amount_charged, "eur")
    assert "Card holds, not charged yet" in page.text
    listed = " ".join((await client.get("/manage/demo/orders")).text.split())
    assert re.search(rf'{held.public_id}.*?card authorised', listed), listed


async def test_the_kitchen_role_sees_no_sales(client: httpx.AsyncClient) -> None:
    await login(client, "kitchen@demo.test")
    assert (await client.get("/manage/demo")).status_code == 403


async def test_the_overview_counts_the_orders_turned_away(client: httpx.AsyncClient) -> None:
    """An outside try read "Paid orders 17" with ten of them rejected, nine by the timer,
    and nothing on the page said so: the screen had gone unwatched."""
    now = datetime.now(UTC)
    await make_paid_order("demo", status="completed", paid_at=now)
    for _ in range(2):
        await make_paid_order("demo", status="refunded", auto_rejected=True, paid_at=now,
                              rejected_at=now, refunded_at=now)
    await make_paid_order("demo", status="refunded", paid_at=now, rejected_at=now,
                          refunded_at=now, reject_reason="Out of dough")
    await login(client, "owner@demo.test")
    page = (await client.get("/manage/demo")).text
    assert _cell(page, "today-orders") == "4"
    assert _cell(page, "today-rejected") == (
        "3 (2 by the timer: nobody accepted them in time)")
    assert _cell(page, "week-rejected").startswith("3 (2 by the timer")
    assert "<th></th>" not in page  # the corner cell is no empty header (axe)
