"""Managers and owners edit opening hours, closures, pause and busy at /manage/{slug}/hours:
saved in one go, or every bad field named and nothing saved; kitchen staff may not."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.restaurants.tables import Restaurant, RestaurantClosure
from tests.helpers.accounts import add_member, login
from tests.helpers.hours import BERLIN, set_hours
from tests.helpers.orders import order_for

# Input rules and wording: no server version changes them (not in the standalone run).
pytestmark = pytest.mark.server_agnostic

WEEK = {f"day_{index}": "11:30-14:30, 17:30-22:00" for index in range(5)} | {
    "day_5": "18:00-02:00", "day_6": "", "slot_capacity": "3", "schedule_days": "5"}


async def _row() -> dict[str, object]:
    row = await Restaurant.select(Restaurant.weekly_hours, Restaurant.slot_capacity,
                                  Restaurant.schedule_days, Restaurant.paused_until,
                                  Restaurant.busy_minutes).where(
        Restaurant.slug == "demo").first()
    assert row is not None
    return row


async def test_a_manager_saves_weekly_hours(client: httpx.AsyncClient) -> None:
    await add_member("manager@demo.test", "manager")
    token = await login(client, "manager@demo.test")
    page = await client.get("/manage/demo/hours")
    assert page.status_code == 200 and 'value="00:00-24:00"' in page.text  # the demo's
    saved = await client.post("/manage/demo/hours", data={"_csrf_token": token, **WEEK})
    assert saved.status_code == 303, saved.text
    row = await _row()
    stored = row["weekly_hours"]
    rows = json.loads(stored) if isinstance(stored, str) else stored
    assert [0, 690, 870] in rows and [5, 1080, 120] in rows  # Saturday passes midnight
    assert not any(entry[0] == 6 for entry in rows)  # closed on Sundays
    assert (row["slot_capacity"], row["schedule_days"]) == (3, 5)
    again = (await client.get("/manage/demo/hours")).text
    assert 'value="11:30-14:30, 17:30-22:00"' in again and 'value="18:00-02:00"' in again


async def test_bad_hours_name_each_field_and_save_nothing(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    before = await _row()
    bad = {**WEEK, "day_1": "11:30-", "day_3": "10:00-14:00, 13:00-15:00",
           "day_4": "x\x00", "slot_capacity": "-1", "schedule_days": "999"}
    response = await client.post("/manage/demo/hours", data={"_csrf_token": token, **bad})
    assert response.status_code == 422
    assert "Nothing was saved." in response.text
    for field in ("day_1", "day_3", "day_4", "slot_capacity", "schedule_days"):
        assert f'id="{field}-error"' in response.text, field
    assert 'id="day_0-error"' not in response.text
    assert await _row() == before


async def test_a_lunch_typed_backwards_is_refused_with_the_range_it_meant(
        client: httpx.AsyncClient) -> None:
    """"14:30-11:30" saved as 21 hours overnight; a bar's "18:00-02:00" still saves."""
    token = await login(client, "owner@demo.test")
    before = await _row()
    response = await client.post("/manage/demo/hours", data={
        "_csrf_token": token, **WEEK, "day_2": "14:30-11:30, 17:30-22:00"})
    assert response.status_code == 422
    error = html.unescape(_error_text(response.text, "day_2"))
    assert error.startswith("Wednesday: '14:30-11:30'"), error
    assert "did you mean 11:30-14:30?" in error, error
    assert "?." not in error
    assert 'value="14:30-11:30, 17:30-22:00"' in response.text  # shown again as written
    assert await _row() == before


@pytest.mark.parametrize(("days", "field", "says"), [
    ({"day_0": "18:00-02:00", "day_1": "01:00-03:00"}, "day_1",
     "Tuesday: 01:00-03:00 overlaps Monday's 18:00-02:00, which runs to 02:00 on Tuesday; "
     "write them as one range."),
    ({"day_6": "20:00-03:00", "day_0": "00:00-24:00"}, "day_0",  # Sunday night into Monday
     "Monday: 00:00-24:00 overlaps Sunday's 20:00-03:00"),
])
async def test_a_night_running_into_the_next_days_hours_is_refused(
        client: httpx.AsyncClient, days: dict[str, str], field: str, says: str) -> None:
    """Each day was checked alone, so Monday 18:00-02:00 with Tuesday 01:00-03:00 saved two
    ranges for one stretch of time; "11:00-14:00, 13:00-15:00" on one day was refused."""
    token = await login(client, "owner@demo.test")
    before = await _row()
    response = await client.post("/manage/demo/hours",
                                 data={"_csrf_token": token, **WEEK, **days})
    assert response.status_code == 422
    assert html.unescape(_error_text(response.text, field)).startswith(says)
    assert await _row() == before
    fine = {**WEEK, "day_0": "18:00-02:00", "day_1": "02:00-03:00"}  # touching, not overlapping
    saved = await client.post("/manage/demo/hours", data={"_csrf_token": token, **fine})
    assert saved.status_code == 303


async def test_whole_hours_are_read_without_minutes(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    saved = await client.post("/manage/demo/hours", data={
        "_csrf_token": token, **WEEK, "day_0": "9-17", "day_1": "9:30-14, 18-2"})
    assert saved.status_code == 303, saved.text[-2000:]
    page = (await client.get("/manage/demo/hours")).text
    assert 'value="09:00-17:00"' in page and 'value="09:30-14:00, 18:00-02:00"' in page


async def test_closures_are_added_and_removed(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    start = datetime.now(UTC).date() + timedelta(days=3)
    added = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=2)).isoformat(), "reason": "Inventory"})
    assert added.status_code == 303
    page = (await client.get("/manage/demo/hours")).text
    assert "Inventory" in page
    # Dates as an owner reads them, with the year (a closure may be in the next one).
    assert (f'<time datetime="{start.isoformat()}">{start:%a} {start.day} {start:%b %Y}</time>'
            in page)
    closure = await RestaurantClosure.objects().get(RestaurantClosure.reason == "Inventory")
    assert closure is not None and closure.ends_on == start + timedelta(days=2)
    bad = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": start.isoformat(),
        "ends_on": (start - timedelta(days=1)).isoformat(), "reason": "x"})
    assert bad.status_code == 422 and 'id="ends_on-error"' in bad.text
    bad = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": "soon"})
    assert bad.status_code == 422 and 'id="starts_on-error"' in bad.text
    removed = await client.post(f"/manage/demo/hours/closures/{closure.id}/remove",
                                data={"_csrf_token": token})
    assert removed.status_code == 303
    assert await RestaurantClosure.count().where(RestaurantClosure.reason == "Inventory") == 0
    gone = await client.post(f"/manage/demo/hours/closures/{closure.id}/remove",
                             data={"_csrf_token": token})
    assert gone.status_code == 404


async def test_pause_and_busy_from_the_management_area(client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    paused = await client.post("/manage/demo/hours/floor", data={"_csrf_token": token,
                                                                 "pause": "30"})
    assert paused.status_code == 303
    until = (await _row())["paused_until"]
    assert isinstance(until, datetime) and until > datetime.now(UTC) + timedelta(minutes=29)
    menu = (await client.get("/r/demo")).text
    assert 'id="paused-notice"' in menu and "order now for a later time" in menu
    busy = await client.post("/manage/demo/hours/floor", data={"_csrf_token": token,
                                                               "busy": "20"})
    assert busy.status_code == 303 and (await _row())["busy_minutes"] == 20
    wrong = await client.post("/manage/demo/hours/floor", data={"_csrf_token": token,
                                                                "busy": "7"})
    assert wrong.status_code == 422 and (await _row())["busy_minutes"] == 20


async def test_a_pause_for_the_rest_of_the_day_says_when_orders_are_taken_again(
        client: httpx.AsyncClient) -> None:
    """The pause ends at the restaurant's midnight; the restaurant closed at 23:00. Diners
    read "paused new orders until 00:00" and the kitchen "paused until 00:00" (an outside
    try): now, when it opens next, and "until the end of the day"."""
    now = datetime.now(BERLIN)
    opens, closes = (now - timedelta(hours=1)).replace(second=0), now + timedelta(minutes=30)
    if closes.date() != now.date() or opens.date() != now.date():
        pytest.skip("the test's opening must lie within today on Berlin's clock")
    await set_hours("demo", f"{opens:%H:%M}-{closes:%H:%M}")
    token = await login(client, "owner@demo.test")
    paused = await client.post("/manage/demo/hours/floor", data={"_csrf_token": token,
                                                                 "pause": "today"})
    assert paused.status_code == 303
    said = f"Demo Bistro has paused new orders: Opens tomorrow at {opens:%H:%M}."
    menu = (await client.get("/r/demo")).text
    notice = re.search(r'id="paused-notice">([^<]*)<', menu)
    assert notice and notice.group(1).startswith(said), menu[-3000:]
    assert (await client.get("/api/restaurants/demo/menu")).json()["restaurant"][
        "notice"] == said
    refused = await client.post("/api/orders", json=await order_for(client, None))
    assert refused.status_code == 409
    assert refused.json()["extra"][0]["message"] == said
    assert "paused until the end of the day" in (await client.get("/manage/demo/hours")).text
    kitchen = await client.get("/kitchen/demo")  # the owner's view of the kitchen screen
    assert "New orders paused until the end of the day" in kitchen.text, kitchen.text[-3000:]


async def test_kitchen_staff_may_not_edit_hours(client: httpx.AsyncClient) -> None:
    token = await login(client, "kitchen@demo.test")
    assert (await client.get("/manage/demo/hours")).status_code == 403
    refused = await client.post("/manage/demo/hours", data={"_csrf_token": token, **WEEK})
    assert refused.status_code == 403


def _error_text(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', html)
    assert match, html[-3000:]
    return match.group(1)


async def test_oversized_hours_are_refused_and_errors_quote_only_an_excerpt(
        client: httpx.AsyncClient) -> None:
    """A 5,000-character value was cut to 300 characters, read as cut (what followed was
    dropped without a word: the second range below was never saved) and quoted back whole in
    its error; the pause and busy controls on the same page quoted 5,000 characters too, and
    answered 500 to 5,000 digits or "²"."""
    token = await login(client, "owner@demo.test")
    before = await _row()
    for day_0, says in (("x" * 5000, "at most 300 characters"),
                        ("11:30-14:30" + " " * 4990 + ", 17:00-22:00", "at most 300 characters"),
                        ("x" * 299, "write each range as 11:30-14:30")):
        response = await client.post("/manage/demo/hours", data={
            "_csrf_token": token, **WEEK, "day_0": day_0})
        assert response.status_code == 422, response.text[-2000:]
        error = _error_text(response.text, "day_0")
        assert says in error and len(error) < 120, error
        assert "x" * 25 not in error
        assert await _row() == before
    for control in ({"busy": "9" * 5000}, {"busy": "x" * 5000}, {"pause": "²"},
                    {"pause": "y" * 5000}):
        refused = await client.post("/manage/demo/hours/floor",
                                    data={"_csrf_token": token, **control})
        assert refused.status_code == 422, (control, refused.status_code)
        message = re.search(r'<p class="form-errors" role="alert">([^<]*)<', refused.text)
        assert message and len(message.group(1)) < 150, control
        assert await _row() == before


async def test_a_closure_reason_refuses_text_direction_overrides(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    start = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    before = await RestaurantClosure.count()
    for reason in ("\u202eyadiloh", "holi\nday", "holi\x00day"):
        response = await client.post("/manage/demo/hours/closures", data={
            "_csrf_token": token, "starts_on": start, "reason": reason})
        assert response.status_code == 422
        assert "text-direction overrides" in _error_text(response.text, "reason")
    assert await RestaurantClosure.count() == before


async def test_a_closure_on_days_already_closed_is_refused_naming_the_one_there(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "owner@demo.test")
    first = datetime.now(UTC).date() + timedelta(days=10)
    last = first + timedelta(days=2)

    async def add(starts: int, ends: int, reason: str, slug: str = "demo") -> httpx.Response:
        return await client.post(f"/manage/{slug}/hours/closures", data={
            "_csrf_token": token, "starts_on": (first + timedelta(days=starts)).isoformat(),
            "ends_on": (first + timedelta(days=ends)).isoformat(), "reason": reason})

    assert (await add(0, 2, "Christmas")).status_code == 303
    for starts, ends in ((0, 2), (2, 4), (-3, 0), (1, 1), (-1, 5)):  # same, overlapping
        refused = await add(starts, ends, "Again")
        assert refused.status_code == 422, (starts, ends)
        message = html.unescape(refused.text)
        assert 'id="starts_on-error"' in refused.text
        assert f"{first.isoformat()} to {last.isoformat()} (Christmas)" in message, message
    rows = await RestaurantClosure.objects().where(RestaurantClosure.reason != "Staff holiday")
    assert [(row.starts_on, row.ends_on, row.reason) for row in rows] == [
        (first, last, "Christmas")]
    # The days right after it are no overlap.
    assert (await add(3, 4, "Inventory")).status_code == 303
