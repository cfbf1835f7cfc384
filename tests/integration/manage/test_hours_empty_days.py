"""The hours form says what an empty day means (outside try: every day's placeholder said
"closed" while the page said the restaurant was open around the clock): with no hours on any
day, open around the clock; once a day has hours, an empty day is closed."""

from __future__ import annotations

import re

import httpx

from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login

NO_HOURS = {f"day_{day}": "" for day in range(7)} | {"schedule_days": "7",
                                                      "slot_capacity": "0"}


def placeholders(html: str) -> set[str]:
    return set(re.findall(r'id="day_\d"[^>]*placeholder="([^"]*)"', html, re.S))


def hint(html: str) -> str:
    found = re.search(r'<p class="muted" id="hours-hint">(.*?)</p>', html, re.S)
    assert found, html[:2000]
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


async def test_empty_days_are_said_as_open_around_the_clock_or_closed(
        client: httpx.AsyncClient) -> None:
    await Restaurant.update({Restaurant.weekly_hours: "[]"}).where(Restaurant.slug == "demo")
    token = await login(client, "owner@demo.test")
    page = (await client.get("/manage/demo/hours")).text
    assert placeholders(page) == {"open around the clock"}
    assert "No hours on any day: open around the clock" in hint(page)
    assert "empty day is closed" not in hint(page)

    # one day with hours: the others are closed, and the form says so
    refused = await client.post("/manage/demo/hours", data={
        "_csrf_token": token, **NO_HOURS, "day_0": "11-22", "schedule_days": "x"})
    assert refused.status_code == 422
    assert placeholders(refused.text) == {"closed"}
    assert "An empty day is closed." in hint(refused.text)

    saved = await client.post("/manage/demo/hours", data={
        "_csrf_token": token, **NO_HOURS, "day_0": "11-22"})
    assert saved.status_code == 303
    page = (await client.get("/manage/demo/hours")).text
    assert placeholders(page) == {"closed"}
    assert "An empty day is closed." in hint(page)
