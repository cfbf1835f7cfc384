"""A slot at its capacity is not offered: not in the menu API's `next_slots`, not among the
checkout's times, and a day whose slots are all full is not in the Day select. They were
offered, and picking one answered 409 "That time is fully booked". The count is intake's
own (app/orders/slot_cap.py: paid orders and unexpired holds)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import httpx
from arq.connections import ArqRedis

from app.orders.slot_cap import slot_key
from app.restaurants.tables import Restaurant
from tests.helpers.hours import BERLIN
from tests.helpers.orders import valid_order

HX = {"hx-request": "true"}


def _options(page: str, select: str) -> list[str]:
    match = re.search(rf'<select id="{select}".*?</select>', page, re.S)
    assert match, f"no {select} select"
    return [value for value in re.findall(r'<option value="([^"]*)"', match.group(0)) if value]


async def _times_of(client: httpx.AsyncClient, day: str) -> list[str]:
    page = await client.post("/r/demo/cart", headers=HX, data={
        "_csrf_token": client.cookies["csrftoken"], "schedule_day": day})
    assert page.status_code == 200, page.text
    return _options(page.text, "scheduled_for")


async def _next_slots(client: httpx.AsyncClient) -> list[str]:
    return (await client.get("/api/restaurants/demo/menu")).json()["restaurant"]["next_slots"]


def _day(slot: str) -> str:
    return datetime.fromisoformat(slot).astimezone(BERLIN).date().isoformat()


async def test_a_full_slot_and_a_full_day_are_not_offered(client: httpx.AsyncClient,
                                                         redis: ArqRedis) -> None:
    await Restaurant.update({Restaurant.slot_capacity: 1}).where(Restaurant.slug == "demo")
    await client.get("/r/demo")  # the form's CSRF cookie
    slots = await _next_slots(client)
    # two slots on one day, whatever the hour (near midnight the first ones straddle two)
    same_day = [(one, two) for one, two in pairwise(slots) if _day(one) == _day(two)]
    assert same_day, slots
    full, neighbour = same_day[0]
    assert full in await _times_of(client, _day(full))

    body = await valid_order(client)  # the one place the slot has, taken by a pending order
    body["scheduled_for"] = full
    booked = await client.post("/api/orders", json=body)
    assert booked.status_code in (201, 202), booked.text

    offered = await _next_slots(client)
    assert full not in offered
    assert neighbour in offered
    times = await _times_of(client, _day(full))
    assert full not in times
    assert neighbour in times

    # A day whose every slot is full leaves the Day select; the other days stay.
    days = _options((await client.get("/r/demo")).text, "schedule_day")
    last = days[-1]
    hold = (datetime.now(UTC) + timedelta(hours=2)).timestamp()
    restaurant = await Restaurant.select(Restaurant.id).where(Restaurant.slug == "demo").first()
    assert restaurant is not None
    for slot in await _times_of(client, last):
        await redis.zadd(slot_key(restaurant["id"], datetime.fromisoformat(slot)),
                         {f"TEMP-held{slot}": hold})
    days_now = _options((await client.get("/r/demo")).text, "schedule_day")
    assert last not in days_now
    assert days_now == days[:-1]
