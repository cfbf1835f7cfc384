"""The management overview says what the hours page says about new orders right now: paused
(until when) and busy (how many minutes), not "accepting" while the kitchen has paused."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

import httpx

from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login


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
