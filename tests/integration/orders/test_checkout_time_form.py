"""The menu page's time choice without JavaScript: while open, "as soon as possible" or a slot;
while closed, the menu says when it opens, the select offers only slots, and ordering for
"now" is a field error before any payment; a chosen slot goes through to the status page."""

from __future__ import annotations

import re

import httpx
from arq.connections import ArqRedis

from app.restaurants.tables import Restaurant
from tests.helpers.hours import BERLIN, close_now
from tests.helpers.orders import menu, temp_keys


async def basket(client: httpx.AsyncClient) -> dict[str, str]:
    await client.get("/r/demo")
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    return {"_csrf_token": client.cookies["csrftoken"], f"qty-{items['Tiramisu']}": "1",
            "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup"}


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_an_open_restaurant_offers_asap_and_slots(client: httpx.AsyncClient) -> None:
    page = (await client.get("/r/demo")).text
    assert '<option value="">As soon as possible (about 15 min)</option>' in page
    assert page.count('<optgroup label="') >= 1 and 'id="closed-notice"' not in page


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
