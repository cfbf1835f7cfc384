"""A closure tells everyone the truth about the orders it rejects. The diner of a ready order
(refunded in full, past rejecting) reads the closure's reason in the email and on the status
page, as the diners of its other orders do, and the order records it. Every kitchen screen
shows one notice per order on the board that the closure cancelled (paid, accepted or
ready), saying the restaurant is closed and why, until a cook acknowledges it; a cook's own
rejection leaves none. Payments that land inside it later (the worker's sweep) do the same.
When the owner's confirmation misses an order paid since the list was shown, the page names
it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from arq.connections import ArqRedis
from litestar import Litestar

from app.manage import hours as hours_service
from app.orders import lifecycle
from app.orders.tables import PaidOrder
from app.restaurants.tables import RestaurantClosure
from app.templating import format_money
from tests.helpers.accounts import login, staff_session
from tests.helpers.hours import pay_after_first_reading
from tests.helpers.orders import (
    make_paid_order,
    order_for,
    paid_order_via_sandbox,
    pay_and_post_webhook,
)
from tests.helpers.payments import emails_of, reload, send_as_worker
from tests.helpers.sandbox import RunningSandbox

BERLIN = ZoneInfo("Europe/Berlin")  # the demo restaurant's clock


@pytest.fixture
async def kitchen(app: Litestar, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A kitchen screen's own session, next to the owner's (`client` runs the app)."""
    async with staff_session(app, "kitchen@demo.test") as screen:
        yield screen


@pytest.fixture
async def diners_phone(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as phone:
        yield phone


async def _asap(client: httpx.AsyncClient, sandbox: RunningSandbox, name: str,
                *actions: str) -> PaidOrder:
    """A paid order for as soon as possible, moved on by the kitchen through `actions`."""
    order = await paid_order_via_sandbox(client, sandbox)
    await PaidOrder.update({PaidOrder.customer_name: name}).where(PaidOrder.id == order.id)
    for action in actions:
        await lifecycle.apply_action(order.public_id, action, actor="kitchen@demo.test",
                                     prep_minutes=20 if action == "accept" else None)
    return await reload(order.public_id)


async def _close_today(client: httpx.AsyncClient, day: str, reason: str) -> None:
    """Add a closure of `day` as the owner does: asked, then confirmed."""
    token = await login(client, "owner@demo.test")
    form = {"_csrf_token": token, "starts_on": day, "ends_on": "", "reason": reason}
    asked = await client.post("/manage/demo/hours/closures", data=form)
    assert asked.status_code == 200, asked.text[-2000:]
    refs = re.search(r'name="reject_orders" value="([^"]*)"', asked.text)
    assert refs, asked.text[-2000:]
    confirmed = await client.post("/manage/demo/hours/closures",
                                  data={**form, "reject_orders": refs.group(1)})
    assert confirmed.status_code == 303, confirmed.text[-2000:]


async def _board(kitchen: httpx.AsyncClient) -> str:
    return " ".join((await kitchen.get("/kitchen/demo/board")).text.split())


def _notice(board: str, ref: str) -> str:
    """The text of the one notice about `ref` on the board."""
    parts = board.split(f'data-notice="{ref}"')
    assert len(parts) == 2, (ref, len(parts) - 1, board)
    return re.sub(r"<[^>]+>", "", parts[1].split("<form")[0]).strip(' ">')


async def _send(redis: ArqRedis, sandbox: RunningSandbox, kind: str, ref: str,
                to: str = "ada@example.com") -> dict[str, Any]:
    await send_as_worker(redis, sandbox, kind, ref)
    [message] = sandbox.wait_for(lambda: [
        message for message in sandbox.messages(to=to) if ref in message["text"]], timeout=10)
    return message


async def test_a_ready_order_in_a_closure_is_told_as_rejected_for_its_reason(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
        diners_phone: httpx.AsyncClient) -> None:
    """Past rejecting, a ready order's money goes back in full; its diner still reads why
    (the closure's reason), in the rejection email and on the status page, not a plain
    refund's words, and the order keeps the reason."""
    ready = await _asap(client, sandbox, "Ready Person", "accept", "ready")
    today = ready.paid_at.astimezone(BERLIN).date()
    await _close_today(client, today.isoformat(), "Power cut")

    order = await reload(ready.public_id)
    assert order.status == "refunded" and order.amount_refunded == order.amount_charged
    assert order.reject_reason == "Power cut" and order.rejected_at is not None
    keys = await emails_of(ready.public_id)
    assert f"order_rejected/{ready.public_id}" in keys, keys
    assert not [key for key in keys if key.startswith("order_refunded")], keys

    email = await _send(redis, sandbox, "order_rejected", ready.public_id)
    for part in (email["text"], email["html"]):
        assert "Reason: Power cut" in part and "refunded in full" in part, part
    page = " ".join((await diners_phone.get(f"/orders/{ready.public_id}")).text.split())
    assert "Sorry, the restaurant could not take your order" in page, page
    assert "Reason: Power cut" in page


async def test_a_german_diners_ready_order_in_a_closure_without_a_reason(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
        diners_phone: httpx.AsyncClient) -> None:
    """No reason given: the system's, in the diner's language (email and status page)."""
    ready = await _asap(client, sandbox, "Ready Person", "accept", "ready")
    await PaidOrder.update({PaidOrder.language: "de"}).where(PaidOrder.id == ready.id)
    await _close_today(client, ready.paid_at.astimezone(BERLIN).date().isoformat(), "")

    assert (await reload(ready.public_id)).reject_reason == hours_service.CLOSED_REASON
    said = "Grund: Das Restaurant hat an diesem Tag geschlossen"
    email = await _send(redis, sandbox, "order_rejected", ready.public_id)
    assert said in email["text"] and said in email["html"], email["text"]
    page = " ".join((await diners_phone.get(
        f"/orders/{ready.public_id}", headers={"accept-language": "de"})).text.split())
    assert said in page, page


async def test_every_screen_is_told_of_the_orders_a_closure_cancelled(
        client: httpx.AsyncClient, kitchen: httpx.AsyncClient, sandbox: RunningSandbox,
        redis: ArqRedis) -> None:
    """Paid, accepted (being cooked) and ready orders on the board: one notice each, with
    the closure's reason and the money, until a cook acknowledges it; never "refunded by
    the restaurant". The order a cook rejected on their own screen gets none."""
    waiting = await _asap(client, sandbox, "Waiting Person")
    cooking = await _asap(client, sandbox, "Cooking Person", "accept", "start")
    ready = await _asap(client, sandbox, "Ready Person", "accept", "ready")
    own = await _asap(client, sandbox, "Own Person", "accept")
    await lifecycle.apply_action(own.public_id, "reject", actor="kitchen@demo.test",
                                 reason="Out of dough", redis=redis)
    assert f'data-notice="{own.public_id}"' not in await _board(kitchen)
    await _close_today(client, waiting.paid_at.astimezone(BERLIN).date().isoformat(),
                       "Power cut")

    board = await _board(kitchen)
    for order in (waiting, cooking, ready):
        gone = await reload(order.public_id)
        assert gone.status == "refunded", (order.customer_name, gone.status)
        assert f'id="card-{order.public_id}"' not in board
        at = f"{gone.rejected_at.astimezone(BERLIN):%H:%M}" if gone.rejected_at else "?"
        text = _notice(board, order.public_id)
        assert text.startswith(f"#{order.ticket_number} cancelled {at}: the restaurant is "
                               "closed that day (Power cut)"), text
        money = format_money(order.amount_charged, "EUR")
        todo = {ready.public_id: "it is ready, do not hand it over",
                cooking.public_id: "stop preparing it"}.get(order.public_id, "do not cook it")
        assert f"{money} back to the customer: {todo}." in text, text
        assert "refunded by the restaurant" not in text and "auto-rejected" not in text
    assert f'data-notice="{own.public_id}"' not in board  # the cook did it

    csrf = kitchen.cookies["csrftoken"]
    done = await kitchen.post(f"/kitchen/demo/notices/{ready.public_id}/acknowledge",
                              data={"_csrf_token": csrf}, headers={"hx-request": "true"})
    assert done.status_code == 200, done.text
    board = await _board(kitchen)
    assert f'data-notice="{ready.public_id}"' not in board
    assert f'data-notice="{cooking.public_id}"' in board  # each waits for its own tap


async def test_a_closure_without_a_reason_tells_the_kitchen_it_is_closed(
        client: httpx.AsyncClient, kitchen: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    cooking = await _asap(client, sandbox, "Cooking Person", "accept")
    await _close_today(client, cooking.paid_at.astimezone(BERLIN).date().isoformat(), "")
    text = _notice(await _board(kitchen), cooking.public_id)
    assert f"#{cooking.ticket_number} cancelled" in text, text
    assert "the restaurant is closed that day;" in text, text
    assert "(" not in text.split("stop preparing")[0], text


async def test_a_payment_landing_in_a_closure_later_leaves_a_notice(
        client: httpx.AsyncClient, kitchen: httpx.AsyncClient, sandbox: RunningSandbox,
        redis: ArqRedis) -> None:
    """The worker's sweep rejects an order paid inside a closure after it was saved: the
    screens, which showed it for a moment, say why it went."""
    created = await client.post("/api/orders", json=await order_for(client, None))
    assert created.status_code == 201, created.text
    today = datetime.now(BERLIN).date()
    token = await login(client, "owner@demo.test")
    added = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": today.isoformat(), "reason": "Flooded kitchen"})
    assert added.status_code == 303, added.text[-2000:]
    assert await pay_and_post_webhook(client, sandbox, created.json()) == "created"
    ref = created.json()["id"]

    assert await hours_service.reject_late_orders(redis) == [ref]
    order = await reload(ref)
    assert order.status == "refunded" and order.reject_reason == "Flooded kitchen"
    text = _notice(await _board(kitchen), ref)
    assert text.startswith(f"#{order.ticket_number} cancelled"), text
    assert "the restaurant is closed that day (Flooded kitchen)" in text, text


async def test_the_page_names_an_order_paid_since_the_list_was_shown(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """The owner confirms the list they saw; an order paid inside meanwhile is not theirs to
    have agreed to: nothing is saved and the page says which order came in."""
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    seen = await paid_order_via_sandbox(client, sandbox)
    await PaidOrder.update({PaidOrder.scheduled_for: datetime.combine(
        day, time(12), BERLIN).astimezone(UTC)}).where(PaidOrder.id == seen.id)
    token = await login(client, "owner@demo.test")
    form = {"_csrf_token": token, "starts_on": day.isoformat(), "ends_on": "",
            "reason": "Inventory"}
    asked = await client.post("/manage/demo/hours/closures", data=form)
    assert asked.status_code == 200, asked.text[-2000:]
    assert "came in" not in asked.text  # the first list is just the list
    refs = re.search(r'name="reject_orders" value="([^"]*)"', asked.text)
    assert refs and refs.group(1) == seen.public_id

    late = await client.post("/api/orders", json=await order_for(
        client, datetime.combine(day, time(13), BERLIN)))
    assert await pay_and_post_webhook(client, sandbox, late.json()) == "created"
    newcomer = await reload(late.json()["id"])
    listed = re.search(r'name="listed_at" value="([^"]*)"', asked.text)
    assert listed
    again = await client.post("/manage/demo/hours/closures", data={
        **form, "reject_orders": refs.group(1), "listed_at": listed.group(1)})
    assert again.status_code == 200, again.text[-2000:]
    assert await RestaurantClosure.count().where(RestaurantClosure.reason == "Inventory") == 0
    said = " ".join(re.sub(r"<[^>]+>", "", again.text.split(
        'id="closure-orders-new"')[1].split("</p>")[0]).split())
    assert f"An order came in since you looked: #{newcomer.ticket_number} (" in said, said
    assert f"#{seen.ticket_number}" not in said
    assert "Confirm again to reject it too" in said
    refs = re.search(r'name="reject_orders" value="([^"]*)"', again.text)
    assert refs and set(refs.group(1).split(",")) == {seen.public_id, newcomer.public_id}
    assert (await reload(newcomer.public_id)).status == "paid"


async def test_an_order_left_out_of_the_confirmed_list_is_not_said_to_be_new(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """The form sent back with a shorter list than it showed (edited, or a page of an
    earlier list): the orders left out were there when the owner looked, so the page says
    they were not in the list confirmed, not that they came in since."""
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    first = await paid_order_via_sandbox(client, sandbox)
    second = await paid_order_via_sandbox(client, sandbox)
    await PaidOrder.update({PaidOrder.scheduled_for: datetime.combine(
        day, time(12), BERLIN).astimezone(UTC)}).where(
        PaidOrder.id.is_in([first.id, second.id]))
    token = await login(client, "owner@demo.test")
    form = {"_csrf_token": token, "starts_on": day.isoformat(), "reason": "Inventory"}
    asked = await client.post("/manage/demo/hours/closures", data=form)
    listed = re.search(r'name="listed_at" value="([^"]*)"', asked.text)
    assert listed
    again = await client.post("/manage/demo/hours/closures", data={
        **form, "reject_orders": first.public_id, "listed_at": listed.group(1)})
    assert again.status_code == 200, again.text[-2000:]
    said = " ".join(re.sub(r"<[^>]+>", "", again.text.split(
        'id="closure-orders-new"')[1].split("</p>")[0]).split())
    assert f"An order was not in the list you confirmed: #{second.ticket_number} (" in said, said
    assert "came in" not in said and f"#{first.ticket_number}" not in said
    assert "Confirm again to reject it too" in said
    assert await RestaurantClosure.count().where(RestaurantClosure.reason == "Inventory") == 0
    assert {(await reload(ref)).status for ref in (first.public_id, second.public_id)} == {
        "paid"}


async def test_the_page_names_an_order_paid_while_the_closure_was_saved(
        client: httpx.AsyncClient, sandbox: RunningSandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The second reading (under the lock, with the insert) finds an order the confirmed list
    lacks: the page names it rather than only listing everything again."""
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    seen = await paid_order_via_sandbox(client, sandbox)
    await PaidOrder.update({PaidOrder.scheduled_for: datetime.combine(
        day, time(12), BERLIN).astimezone(UTC)}).where(PaidOrder.id == seen.id)
    created = await client.post("/api/orders", json=await order_for(
        client, datetime.combine(day, time(14), BERLIN)))
    assert created.status_code == 201, created.text
    pay_after_first_reading(monkeypatch, client, sandbox, created.json())
    token = await login(client, "owner@demo.test")
    again = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": day.isoformat(), "reason": "Inventory",
        "reject_orders": seen.public_id})
    assert again.status_code == 200, again.text[-2000:]
    assert await RestaurantClosure.count().where(RestaurantClosure.reason == "Inventory") == 0
    newcomer = await reload(created.json()["id"])
    said = " ".join(re.sub(r"<[^>]+>", "", again.text.split(
        'id="closure-orders-new"')[1].split("</p>")[0]).split())
    assert f"came in since you looked: #{newcomer.ticket_number}" in said, said
    assert f"#{seen.ticket_number}" not in said
    assert (await reload(seen.public_id)).status == "paid"  # nothing rejected yet


async def test_past_three_notices_the_tickets_being_cooked_come_first(
        client: httpx.AsyncClient, kitchen: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """Five orders cancelled at once: the three notices shown in full are the ones a cook
    had accepted, whatever their order; the rest are counted, and told not to be made."""
    waiting = [await _asap(client, sandbox, f"Waiting {index}") for index in range(3)]
    cooking = [await _asap(client, sandbox, f"Cooking {index}", "accept", "start")
               for index in range(2)]
    await _close_today(client, waiting[0].paid_at.astimezone(BERLIN).date().isoformat(),
                       "Power cut")
    board = await _board(kitchen)
    for order in cooking:
        assert "stop preparing it" in _notice(board, order.public_id)
    more = board.split('data-notice="more"')[1].split("</div>")[0]
    # nobody had accepted those two: nothing to stop, they are not to be started
    assert "2 more rejected or refunded" in more and "do not cook them" in more, more

    # a fresh one after them (the timer's reject) is shown in full, not buried in the count
    # (an outside try found "#30 auto-rejected" last in "25 more …: #28, #7 … #30")
    fresh = await make_paid_order(status="refunded", auto_rejected=True,
                                  rejected_at=datetime.now(UTC), refunded_at=datetime.now(UTC))
    board = await _board(kitchen)
    assert f'data-notice="{fresh.public_id}"' in board, board
    for order in cooking:
        assert "stop preparing it" in _notice(board, order.public_id)
