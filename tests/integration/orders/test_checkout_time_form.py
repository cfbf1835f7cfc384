"""The menu page's time choice without JavaScript: while open, "as soon as possible" or a slot;
while closed, the menu says when it opens, the select offers only slots, and ordering for
"now" is a field error before any payment; a chosen slot goes through to the status page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx
from arq.connections import ArqRedis

from app.restaurants.tables import Restaurant
from tests.helpers.hours import BERLIN, close_now, next_slot, set_hours
from tests.helpers.orders import make_paid_order, menu, temp_keys


async def basket(client: httpx.AsyncClient) -> dict[str, str]:
    await client.get("/r/demo")
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    return {"_csrf_token": client.cookies["csrftoken"], f"qty-{items['Tiramisu']}": "1",
            "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup"}


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_an_open_restaurant_offers_asap_and_slots(client: httpx.AsyncClient) -> None:
    page = (await client.get("/r/demo")).text
    assert re.search(r'<option value=""\s+selected>As soon as possible \(about 15 min\)</option>',
                     page)
    assert DAY_OPTION.search(page) and 'id="closed-notice"' not in page
    assert 'name="scheduled_for"' not in page  # as soon as possible: no time to choose


def local_day(slot: str) -> str:
    return datetime.fromisoformat(slot).astimezone(BERLIN).date().isoformat()


DAY_OPTION = re.compile(r'<option value="(\d{4}-\d\d-\d\d)"')
TIME_OPTION = re.compile(r'<option value="(\d{4}-\d\d-\d\dT[^"]+)"')


async def test_every_day_the_owner_offers_can_be_chosen(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    """Open round the clock, orders taken 7 days ahead: over 672 slots. The form offers all 8
    days (today's rest and 7 whole days more, the last one up to its midnight; one select of
    every slot stopped after two days) and lists the times of the chosen day only."""
    await set_hours("demo", "00:00-24:00")
    page = (await client.get("/r/demo")).text
    days = [date.fromisoformat(day) for day in DAY_OPTION.findall(page)]
    now = datetime.now(UTC)
    # today's rest (none in its last half hour) and each day up to a week from now
    assert days[0] - now.astimezone(BERLIN).date() <= timedelta(days=1)
    assert days[-1] == (now + timedelta(days=7)).astimezone(BERLIN).date()
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))], days
    assert len(days) >= 7

    form = await basket(client)
    last = days[-1].isoformat()
    page = (await client.post("/r/demo/cart", data={**form, "schedule_day": last})).text
    assert re.search(rf'<option value="{last}"\s+selected>', page)
    times = TIME_OPTION.findall(page)
    assert times and {local_day(t) for t in times} == {last}
    clock = f"{datetime.fromisoformat(times[-1]).astimezone(BERLIN):%H:%M}"
    assert clock == "23:45"  # the whole last day, not up to this time of day

    taken = await client.post("/r/demo/checkout", data={
        **form, "schedule_day": last, "scheduled_for": times[-1]}, follow_redirects=False)
    assert taken.status_code == 303, text_of(taken.text)
    assert f"Pickup at {clock}" in text_of((await client.get(taken.headers["location"])).text)


async def test_a_day_without_a_time_is_not_taken_for_as_soon_as_possible(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    """A diner who picks tomorrow and no time, or changes the day without JavaScript and
    places the order before the times follow, gets a field error, not an order for now or
    for the day before."""
    form = await basket(client)
    page = (await client.get("/r/demo")).text
    tomorrow = DAY_OPTION.findall(page)[1]
    no_time = await client.post("/r/demo/checkout", data={**form, "schedule_day": tomorrow},
                                follow_redirects=False)
    assert no_time.status_code == 422
    assert "Please choose a time on the day you picked." in text_of(no_time.text)
    shown = TIME_OPTION.findall(no_time.text)  # tomorrow's times, to choose from
    assert shown and {local_day(t) for t in shown} == {tomorrow}

    other = await client.post("/r/demo/checkout", data={
        **form, "schedule_day": "", "scheduled_for": shown[0]}, follow_redirects=False)
    assert other.status_code == 422
    assert "is not on the day you picked" in text_of(other.text)
    assert await temp_keys(redis) == []


async def test_a_closed_restaurant_says_when_it_opens_and_takes_a_slot(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    opening = await close_now("demo")
    clock = f"{opening.astimezone(BERLIN):%H:%M}"
    page = (await client.get("/r/demo")).text
    notice = text_of(re.search(r'id="closed-notice">(.*?)</p>', page, re.S).group(1))  # type: ignore[union-attr]
    assert re.fullmatch(rf"Opens (today|tomorrow) at {clock}\. You can order now for a "
                        r"later time\.", notice), notice
    assert '<option value="">' not in page  # no "as soon as possible"
    assert f'value="{opening.isoformat()}"' in page

    form = await basket(client)
    refused = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert refused.status_code == 422
    assert "is closed now" in text_of(refused.text) and clock in text_of(refused.text)
    assert await temp_keys(redis) == []

    taken = await client.post("/r/demo/checkout", data={
        **form, "scheduled_for": opening.isoformat()}, follow_redirects=False)
    assert taken.status_code == 303, taken.text
    status = text_of((await client.get(taken.headers["location"])).text)
    assert f"Pickup at {clock}" in status


async def test_a_restaurant_without_scheduling_that_is_closed_cannot_take_orders(
    client: httpx.AsyncClient
) -> None:
    await close_now("demo")
    await Restaurant.update({Restaurant.schedule_days: 0}).where(Restaurant.slug == "demo")
    page = (await client.get("/r/demo")).text
    assert 'name="scheduled_for"' not in page
    assert re.search(r'<button type="submit" class="primary-action"\s+disabled', page)


async def test_a_paid_order_for_later_reads_booked_not_waiting_for_the_kitchen(
    client: httpx.AsyncClient,
) -> None:
    """Paid days ahead, the kitchen does not see it until its slot minus prep: "waiting
    for the kitchen to accept" told the diner someone should be acting on it now."""
    ahead = await make_paid_order(scheduled_for=next_slot(datetime.now(UTC) + timedelta(days=2)),
                                  prep_minutes=15)
    page = text_of((await client.get(f"/orders/{ahead.public_id}")).text)
    assert "Payment received: your order is booked" in page
    assert "waiting for the kitchen" not in page
    # Its time has come but the release sweep has not run yet: the kitchen still does not
    # see it, so it is still booked; released (the sweep stamps it), the kitchen is to act.
    due = await make_paid_order(
        scheduled_for=next_slot(datetime.now(UTC) + timedelta(minutes=15)), prep_minutes=45)
    page = text_of((await client.get(f"/orders/{due.public_id}")).text)
    assert "Payment received: your order is booked" in page
    released = await make_paid_order(
        scheduled_for=next_slot(datetime.now(UTC) + timedelta(minutes=15)), prep_minutes=45,
        released_at=datetime.now(UTC))
    page = text_of((await client.get(f"/orders/{released.public_id}")).text)
    assert "Payment received: waiting for the kitchen to accept" in page
    asap = await make_paid_order()
    page = text_of((await client.get(f"/orders/{asap.public_id}")).text)
    assert "Payment received: waiting for the kitchen to accept" in page
