"""The new-order alarm is the kitchen's, not one tablet's: a cook's "Acknowledge new order" on
one screen stops it on every screen of the restaurant, and a screen opened (or reloaded) later
does not ring for an order someone has seen; an order that arrives after the press rings
everywhere again. The route takes only the restaurant's own new tickets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.orders.tables import PaidOrder
from tests.helpers.accounts import login
from tests.helpers.browser import logged_in_context, open_kitchen
from tests.helpers.orders import announce_paid, make_paid_order
from tests.helpers.server import RunningProcess

HX = {"hx-request": "true"}
ALARM = "() => document.body.dataset.alarm"


async def wait_alarm(screen: Any, level: str) -> None:
    await screen.wait_for_function(f"() => document.body.dataset.alarm === '{level}'",
                                   timeout=10_000)


@pytest.mark.browser
async def test_one_press_stops_the_alarm_on_every_screen(browser: Any,
                                                         web: RunningProcess) -> None:
    errors: list[str] = []
    line = await open_kitchen(browser, web.url, errors)
    pass_ = await open_kitchen(browser, web.url, errors)
    first = await make_paid_order()
    await announce_paid(first)
    for screen in (line, pass_):
        await screen.locator(f"#card-{first.public_id}").wait_for(timeout=10_000)
        await wait_alarm(screen, "new")

    await line.click("#alarm-ack")
    await wait_alarm(line, "none")
    await wait_alarm(pass_, "none")  # the other tablet went quiet without a touch
    assert await pass_.locator("#alarm-ack").is_hidden()
    assert "is-alarming" not in (await pass_.locator(
        f"#card-{first.public_id}").get_attribute("class") or "")
    # the ticket is still new: acknowledging is not accepting
    assert await pass_.locator(f"#card-{first.public_id}").get_attribute("data-status") == "paid"

    # A third screen, switched on later and not touched yet (logged in without a gesture:
    # its "Start service" overlay is up, as on a tablet switched on in the morning).
    late = await (await logged_in_context(browser, web.url, "kitchen@demo.test")).new_page()
    late.on("pageerror", lambda error: errors.append(str(error)))
    await late.goto("/kitchen/demo")
    await late.wait_for_selector("#connection.is-live", timeout=10_000)
    await late.locator("#start-service").wait_for(state="visible")
    await late.locator(f"#card-{first.public_id}").wait_for(timeout=10_000)
    await late.wait_for_timeout(600)  # the alarm is re-read every 250 ms
    assert await late.evaluate(ALARM) == "none"
    await line.reload()  # a reload does not ring again either
    await line.wait_for_selector("#connection.is-live", timeout=10_000)
    await line.wait_for_timeout(600)
    assert await line.evaluate(ALARM) == "none"

    second = await make_paid_order()  # a new order after the press rings everywhere again
    await announce_paid(second)
    for screen in (line, pass_, late):
        await screen.locator(f"#card-{second.public_id}").wait_for(timeout=10_000)
        await wait_alarm(screen, "new")
    # The key does what the button does, also on the screen no one has touched yet (a bump
    # bar's A: it starts service there too, the press being the gesture audio needs).
    assert await late.locator("#start-service").is_visible()
    await late.keyboard.press("a")
    await late.locator("#start-service").wait_for(state="hidden")
    for screen in (line, pass_, late):
        await wait_alarm(screen, "none")
    assert errors == []


async def test_the_route_takes_only_the_restaurants_own_new_tickets(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "kitchen@demo.test")
    new = await make_paid_order()
    accepted = await make_paid_order(status="accepted")
    elsewhere = await make_paid_order("demo-2")

    async def acknowledge(*refs: str) -> httpx.Response:
        return await client.post("/kitchen/demo/alarm/acknowledge", headers=HX,
                                 data={"_csrf_token": token, "ref": list(refs)})

    response = await acknowledge(new.public_id, accepted.public_id, elsewhere.public_id,
                                 "TEMP-nosuchorder")
    assert response.status_code == 200, response.text
    assert response.json() == {"acknowledged": [new.public_id]}
    marked = await PaidOrder.select(PaidOrder.public_id).where(
        PaidOrder.alarm_acknowledged_at.is_not_null())
    assert [row["public_id"] for row in marked] == [new.public_id]  # demo-2's is untouched
    again = await acknowledge(new.public_id)  # the second screen's press: nothing new
    assert again.json() == {"acknowledged": []}

    for refs, problem in ([(), "name each new order"], [("x" * 65,), "name each new order"],
                          [("TEMP-a\x00",), "name each new order"],
                          [tuple(f"TEMP-{n}" for n in range(101)), "at most 100"]):
        refused = await acknowledge(*refs)
        assert refused.status_code == 400, refused.text
        assert problem in refused.text
    other_kitchen = await client.post("/kitchen/demo-2/alarm/acknowledge", headers=HX,
                                      data={"_csrf_token": token, "ref": elsewhere.public_id})
    assert other_kitchen.status_code in (401, 403, 404)
    assert await PaidOrder.count().where(PaidOrder.alarm_acknowledged_at.is_not_null()) == 1
