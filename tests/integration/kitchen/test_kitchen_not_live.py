"""A kitchen screen of a restaurant not live yet says why no order comes (outside try: its
badge said "Live" over "No open orders.", nothing more); going live drops the note from the
page and from the board every open screen re-reads."""

from __future__ import annotations

import httpx

from app.kitchen.board_feed import board_frame
from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login

NOTE = "Not live yet: diners cannot order until the owner goes live (Overview → Go live)."


async def _demo() -> Restaurant:
    row = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert row is not None
    return row


async def test_the_kitchen_is_told_the_restaurant_is_not_live_until_it_goes_live(
        client: httpx.AsyncClient) -> None:
    await Restaurant.update({Restaurant.live_since: None, Restaurant.accepting_orders: False}
                            ).where(Restaurant.slug == "demo")
    await login(client, "kitchen@demo.test")
    page = await client.get("/kitchen/demo")
    assert page.status_code == 200
    assert 'id="not-live-note"' in page.text and NOTE in page.text
    assert NOTE in (await client.get("/kitchen/demo/board")).text
    assert NOTE in (await board_frame(await _demo())).encode().decode()
    # The other restaurant's screen, live, says nothing of the kind.
    await client.post("/logout", data={"_csrf_token": client.cookies["csrftoken"]})
    await login(client, "kitchen@demo-2.test")
    assert "Not live yet" not in (await client.get("/kitchen/demo-2")).text

    await client.post("/logout", data={"_csrf_token": client.cookies["csrftoken"]})
    token = await login(client, "owner@demo.test")
    live = await client.post("/manage/demo/go-live", data={"_csrf_token": token})
    assert live.status_code == 303, live.text[:500]
    # the board every open screen re-reads on the go-live announcement
    assert "Not live yet" not in (await board_frame(await _demo())).encode().decode()
    await client.post("/logout", data={"_csrf_token": token})
    await login(client, "kitchen@demo.test")
    assert "Not live yet" not in (await client.get("/kitchen/demo")).text

