"""A manual-capture restaurant holds the card until the kitchen accepts, and Stripe cancels a
hold 7 days after payment: it takes bookings at most 5 whole days ahead (every slot less than
6 days after payment, a day to accept in), whatever its `schedule_days` says. The menu API,
the checkout's day select and intake all keep to it and say why; the owner's hours page
explains the cap. Automatic capture keeps the owner's setting."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from arq.connections import ArqRedis

from app.restaurants.opening import MANUAL_CAPTURE_DAYS
from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login
from tests.helpers.hours import BERLIN, set_hours
from tests.helpers.orders import menu, order_for, temp_keys

DAY_OPTION = re.compile(r'<option value="(\d{4}-\d\d-\d\d)"')


async def capture(mode: str, schedule_days: int = 7) -> None:
    await Restaurant.update({Restaurant.capture_mode: mode,
                             Restaurant.schedule_days: schedule_days}).where(
        Restaurant.slug == "demo")
    await set_hours("demo", "00:00-24:00")


def noon_in(days: int) -> datetime:
    """12:00 on the restaurant's clock, `days` local days from today."""
    today = datetime.now(UTC).astimezone(BERLIN).date()
    return datetime.combine(today + timedelta(days=days), time(12), tzinfo=BERLIN)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize(("mode", "days"), [("manual", MANUAL_CAPTURE_DAYS),
                                            ("automatic", 7)])
async def test_the_menu_offers_days_within_the_holds_life(
    client: httpx.AsyncClient, mode: str, days: int
) -> None:
    await capture(mode)
    assert (await menu(client))["restaurant"]["schedule_days"] == days
    page = (await client.get("/r/demo")).text
    offered = DAY_OPTION.findall(page)
    today = datetime.now(UTC).astimezone(BERLIN).date()
    assert offered[-1] == (today + timedelta(days=days)).isoformat()


async def test_intake_refuses_a_manual_capture_booking_past_the_hold_and_says_why(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    await capture("manual")
    refused = await client.post("/api/orders", json=await order_for(client, noon_in(6)))
    assert refused.status_code == 422, refused.text
    errors = {entry["key"]: entry["message"] for entry in refused.json()["extra"]}
    assert "at most 5 days ahead" in errors["scheduled_for"]
    assert "authorisation lapses after 7 days" in errors["scheduled_for"]
    assert await temp_keys(redis) == []
    taken = await client.post("/api/orders", json=await order_for(client, noon_in(5)))
    assert taken.status_code == 201, taken.text

    await capture("automatic")  # the same slot is fine when the card is charged at once
    taken = await client.post("/api/orders", json=await order_for(client, noon_in(6)))
    assert taken.status_code == 201, taken.text


async def test_the_checkout_form_says_why_in_the_diners_language(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    await capture("manual")
    await Restaurant.update({Restaurant.default_language: "de"}).where(
        Restaurant.slug == "demo")
    await client.get("/r/demo")
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    slot = noon_in(6)
    refused = await client.post("/r/demo/checkout", data={
        "_csrf_token": client.cookies["csrftoken"], f"qty-{items['Tiramisu']}": "1",
        "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup",
        "schedule_day": slot.date().isoformat(), "scheduled_for": slot.isoformat()},
        follow_redirects=False)
    assert refused.status_code == 422
    assert ("Bitte wählen Sie eine Uhrzeit höchstens 5 Tage im Voraus: Ihre Karte wird beim "
            "Bezahlen nur reserviert") in text_of(refused.text)
    assert await temp_keys(redis) == []


async def test_the_hours_page_explains_the_capped_horizon(client: httpx.AsyncClient) -> None:
    await capture("manual", schedule_days=30)
    await login(client, "owner@demo.test")
    page = text_of((await client.get("/manage/demo/hours")).text)
    assert ("a card hold lapses 7 days after payment: diners can book at most 5 days ahead, "
            "not the 30 set here") in page
    await capture("automatic", schedule_days=30)
    page = text_of((await client.get("/manage/demo/hours")).text)
    assert "card hold lapses" not in page
