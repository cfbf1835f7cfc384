"""A booked (scheduled) order accepted with a prep time that runs past its slot promises the
diner the later time: the cook is told before the press (beside Accept) and as it happens
(the accept's answer carries a warning for the screen's result banner), every screen's ticket
says it is after the slot, and the diner's email and status page name the same time."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import httpx
from arq.connections import ArqRedis

from app.kitchen import board_feed
from app.notifications.compose import render_email
from app.notifications.delivery import _restaurant
from app.orders.release import release_due
from app.orders.tables import PaidOrder
from app.orders.views import load_order_view
from app.restaurants.tables import Restaurant
from app.templating import local_clock
from tests.helpers.accounts import login
from tests.helpers.orders import make_paid_order

HX = {"hx-request": "true"}
ZONE = "Europe/Berlin"  # the demo bistro's


async def booked(minutes_to_slot: int) -> PaidOrder:
    """A booked order on the board (released), its slot on a whole minute."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return await make_paid_order(scheduled_for=now + timedelta(minutes=minutes_to_slot),
                                 prep_minutes=15, released_at=now - timedelta(minutes=1))


async def accept(client: httpx.AsyncClient, token: str, ref: str, prep: int) -> httpx.Response:
    return await client.post(f"/kitchen/demo/orders/{ref}/accept",
                             data={"_csrf_token": token, "prep_minutes": str(prep),
                                   "from": "paid"}, headers=HX)


def outcome(response: httpx.Response) -> dict[str, object] | None:
    trigger = response.headers.get("HX-Trigger")
    return json.loads(trigger).get("orderpass:outcome") if trigger else None


async def demo() -> Restaurant:
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    return restaurant


async def test_an_accept_past_the_slot_warns_the_cook_and_names_the_time_the_diner_got(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    token = await login(client, "kitchen@demo.test")
    order = await booked(minutes_to_slot=20)
    slot = local_clock(order.scheduled_for, ZONE)

    # Before the press: Accept's default (15 min + busy 0) is in time, nothing is said…
    page = (await client.get("/kitchen/demo")).text
    card = page.split(f'id="card-{order.public_id}"', 1)[1].split("</article>", 1)[0]
    assert 'data-slot-hint' in card and f'data-slot-clock="{slot}"' in card
    assert "after the" not in card
    # …with a busy time that pushes the default past the slot, the ticket says so
    await Restaurant.update({Restaurant.busy_minutes: 20}).where(Restaurant.slug == "demo")
    try:
        page = (await client.get("/kitchen/demo")).text
    finally:
        await Restaurant.update({Restaurant.busy_minutes: 0}).where(Restaurant.slug == "demo")
    card = page.split(f'id="card-{order.public_id}"', 1)[1].split("</article>", 1)[0]
    hint = card.split('class="slot-hint"', 1)[1].split("</p>", 1)[0]
    assert " hidden" not in hint.split(">", 1)[0]
    assert re.search(rf">With 35 min: ready \d\d:\d\d, 1[56] min after the {slot} slot$",
                     hint), hint

    # The press with 40 minutes: promised 40 minutes from now, 20 after the slot.
    pressed = datetime.now(UTC)
    response = await accept(client, token, order.public_id, 40)
    assert response.status_code == 200, response.text
    stored = await PaidOrder.objects().get(PaidOrder.public_id == order.public_id)
    assert stored is not None and stored.promised_at is not None
    assert pressed + timedelta(minutes=40) <= stored.promised_at <= datetime.now(UTC) + timedelta(
        minutes=40)
    promised = local_clock(stored.promised_at, ZONE)
    late = int((stored.promised_at - order.scheduled_for).total_seconds() // 60)
    assert late in (19, 20)

    said = outcome(response)
    assert said == {"message": f"#{order.ticket_number} will be ready at {promised}, {late} "
                               f"min after its {slot} slot: the diner has been told {promised}.",
                    "ok": False}
    # the ticket it answers with (and every screen's frame) says it is after the slot
    assert f"{late} min after the {slot} slot" in response.text
    assert f">{promised}</time>" in response.text
    frame = await board_feed.tickets_frame(await demo(), [order.public_id])
    assert f"{late} min after the {slot} slot" in frame.data
    assert 'data-slot-hint' not in frame.data  # accepted: nothing to warn of any more

    # The diner is told that same time: the accept email and the status page.
    view = await load_order_view(redis, order.public_id)
    contact = await _restaurant(order.restaurant)
    assert view is not None and contact is not None
    email = render_email("order_accepted", view, contact, "https://x.example")
    assert f"{promised} (" in email.text and f"{promised} (" in email.html
    status = (await client.get(f"/orders/{order.public_id}")).text
    assert f">{promised}</time></strong>" in status


async def test_an_accept_in_time_for_the_slot_says_nothing_more(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "kitchen@demo.test")
    order = await booked(minutes_to_slot=30)
    response = await accept(client, token, order.public_id, 20)
    assert response.status_code == 200, response.text
    assert outcome(response) is None
    assert "after the" not in response.text and "after-slot" not in response.text
    stored = await PaidOrder.objects().get(PaidOrder.public_id == order.public_id)
    assert stored is not None and stored.promised_at == order.scheduled_for  # the slot holds

    asap = await make_paid_order()  # an order for now has no slot to miss
    response = await accept(client, token, asap.public_id, 90)
    assert response.status_code == 200 and outcome(response) is None


async def test_a_booked_order_reaches_the_board_early_enough_for_the_usual_accept_to_keep_its_slot(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    """Released at slot - prep exactly, the sweep's lag and the cook's look before Accept
    promised the diner a minute or two after the slot they booked. The board gets it a few
    minutes ahead: the usual one-tap accept (the default prep) a minute after it appears
    still promises the slot."""
    token = await login(client, "kitchen@demo.test")
    now = datetime.now(UTC)
    slot = now.replace(second=0, microsecond=0) + timedelta(minutes=15 + 2)  # prep 15, 2 to spare
    order = await make_paid_order(scheduled_for=slot, prep_minutes=15)
    assert order.public_id in await release_due(redis)  # already due: on the board now
    page = (await client.get("/kitchen/demo")).text
    card = page.split(f'id="card-{order.public_id}"', 1)[1].split("</article>", 1)[0]
    assert "after the" not in card.split('class="slot-hint"', 1)[1].split("</p>", 1)[0] \
        .split(">", 1)[1]  # Accept's default keeps the slot: nothing to warn of
    response = await accept(client, token, order.public_id, 15)
    assert response.status_code == 200, response.text
    assert outcome(response) is None
    stored = await PaidOrder.objects().get(PaidOrder.public_id == order.public_id)
    assert stored is not None and stored.promised_at == slot
