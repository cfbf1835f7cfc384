"""A closure over days that already hold paid orders for later (or, from today, today's live
orders for as soon as possible): the first post saves nothing and lists the orders inside it
(ticket, slot on the restaurant's clock, name, total); the confirm saves the closure and
rejects those orders the kitchen's way (money back in the sandbox's Stripe, the diner
emailed with the closure's reason); orders outside it are left alone. One paid while the
closure is being saved makes the page ask again."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from arq.connections import ArqRedis
from litestar import Litestar

from app.manage import hours as hours_service
from app.orders import lifecycle
from app.orders.tables import PaidOrder
from app.restaurants.tables import RestaurantClosure
from app.settings import get_settings
from app.templating import format_money
from tests.helpers.accounts import login
from tests.helpers.hours import pay_after_first_reading
from tests.helpers.orders import (
    order_for,
    paid_order_via_sandbox,
    pay_and_post_webhook,
    valid_order,
)
from tests.helpers.payments import reload
from tests.helpers.sandbox import RunningSandbox, stripe_client
from workers.email_jobs import send_email

BERLIN = ZoneInfo("Europe/Berlin")  # the demo restaurant's clock


async def _book(client: httpx.AsyncClient, sandbox: RunningSandbox, slot: datetime,
                name: str) -> PaidOrder:
    order = await paid_order_via_sandbox(client, sandbox)
    await PaidOrder.update({PaidOrder.scheduled_for: slot.astimezone(UTC),
                            PaidOrder.customer_name: name}).where(PaidOrder.id == order.id)
    return await reload(order.public_id)


async def test_a_closure_over_paid_orders_asks_then_rejects_them(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    inside = await _book(client, sandbox, datetime.combine(day, time(23, 30), BERLIN),
                         "Inside Person")
    outside = await _book(client, sandbox,
                          datetime.combine(day + timedelta(days=1), time(0, 15), BERLIN),
                          "Outside Person")
    token = await login(client, "owner@demo.test")
    form = {"_csrf_token": token, "starts_on": day.isoformat(), "ends_on": "",
            "reason": "Burst pipe"}

    asked = await client.post("/manage/demo/hours/closures", data=form)
    assert asked.status_code == 200, asked.text[-2000:]
    assert await RestaurantClosure.count().where(
        RestaurantClosure.reason == "Burst pipe") == 0  # nothing saved yet
    listed = set(re.findall(r'id="closure-order-(TEMP-[A-Za-z0-9_-]+)"', asked.text))
    assert listed == {inside.public_id}
    row = asked.text.split(f'id="closure-order-{inside.public_id}"')[1].split("</tr>")[0]
    assert f"#{inside.ticket_number}" in row
    assert f"{day.isoformat()} 23:30" in row  # Berlin's clock, not UTC's
    assert "Inside Person" in row and format_money(inside.total_amount, "eur") in row
    assert "Add the closure and reject this order (full refund; the customer emailed with " \
           "the reason)" in asked.text
    assert "Outside Person" not in asked.text
    assert (await reload(inside.public_id)).status == "paid"
    refs = re.search(r'name="reject_orders" value="([^"]*)"', asked.text)
    assert refs and refs.group(1) == inside.public_id

    confirmed = await client.post("/manage/demo/hours/closures",
                                  data={**form, "reject_orders": refs.group(1)})
    assert confirmed.status_code == 303, confirmed.text[-2000:]
    closure = await RestaurantClosure.objects().get(RestaurantClosure.reason == "Burst pipe")
    assert closure is not None and closure.starts_on == closure.ends_on == day
    rejected = await reload(inside.public_id)
    assert rejected.status == "refunded" and rejected.rejected_at is not None
    assert rejected.reject_reason == "Burst pipe"
    assert rejected.amount_refunded == rejected.amount_charged
    sdk = stripe_client(sandbox.url)
    refunds = sdk.v1.refunds.list(params={
        "payment_intent": str(rejected.stripe_payment_intent_id)})
    assert sum(refund.amount for refund in refunds.data) == rejected.amount_charged
    jobs = {job.job_id for job in await redis.queued_jobs()}
    assert f"email:order_rejected:{inside.public_id}" in jobs
    untouched = await reload(outside.public_id)
    assert untouched.status == "paid" and untouched.amount_refunded == 0
    assert untouched.rejected_at is None
    page = (await client.get(confirmed.headers["location"])).text
    assert "orders inside it were rejected" in page


async def test_a_closure_over_card_holds_says_they_are_released_not_refunded(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """Manual capture: a booked order's card is only held until the kitchen accepts. The
    closure releases the hold; the owner read "full refund" for money never taken."""
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    held = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    await PaidOrder.update({PaidOrder.scheduled_for: datetime.combine(
        day, time(12), BERLIN).astimezone(UTC)}).where(PaidOrder.id == held.id)
    token = await login(client, "owner@demo.test")
    form = {"_csrf_token": token, "starts_on": day.isoformat(), "reason": "Burst pipe"}
    asked = await client.post("/manage/demo/hours/closures", data=form)
    assert asked.status_code == 200, asked.text[-2000:]
    row = asked.text.split(f'id="closure-order-{held.public_id}"')[1].split("</tr>")[0]
    assert "card held, not charged" in row
    assert "Add the closure and reject this order (card hold released, nothing charged; the " \
           "customer emailed with the reason)" in asked.text
    assert "refund" not in asked.text.split('id="closure-orders"')[1].split("</section>")[0]

    refs = re.search(r'name="reject_orders" value="([^"]*)"', asked.text)
    assert refs is not None
    confirmed = await client.post("/manage/demo/hours/closures",
                                  data={**form, "reject_orders": refs.group(1)})
    assert confirmed.status_code == 303, confirmed.text[-2000:]
    released = await reload(held.public_id)
    assert released.status == "voided" and released.amount_refunded == 0


async def test_a_closure_without_paid_orders_inside_is_added_at_once(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    await _book(client, sandbox, datetime.combine(day + timedelta(days=1), time(12), BERLIN),
                "Outside Person")
    token = await login(client, "owner@demo.test")
    added = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": day.isoformat(), "reason": "Inventory"})
    assert added.status_code == 303
    assert await RestaurantClosure.count().where(RestaurantClosure.reason == "Inventory") == 1


async def _asap(client: httpx.AsyncClient, sandbox: RunningSandbox, name: str,
                *actions: str) -> PaidOrder:
    """A paid order for as soon as possible, moved on by the kitchen through `actions`."""
    order = await paid_order_via_sandbox(client, sandbox)
    await PaidOrder.update({PaidOrder.customer_name: name}).where(PaidOrder.id == order.id)
    for action in actions:
        await lifecycle.apply_action(order.public_id, action, actor="kitchen@demo.test",
                                     prep_minutes=20 if action == "accept" else None)
    return await reload(order.public_id)


async def test_a_closure_from_today_lists_and_rejects_todays_live_orders_for_now(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """Closing today means today's orders for as soon as possible will not be made either:
    the live ones (paid, accepted, ready) are listed with the booked ones and rejected on
    confirmation, the ready one refunded in full; one completed, or paid on another day, is
    left alone."""
    waiting = await _asap(client, sandbox, "Waiting Person")
    cooking = await _asap(client, sandbox, "Cooking Person", "accept")
    ready = await _asap(client, sandbox, "Ready Person", "accept", "ready")
    done = await _asap(client, sandbox, "Done Person", "accept", "ready", "complete")
    earlier = await _asap(client, sandbox, "Earlier Person", "accept")
    today = waiting.paid_at.astimezone(BERLIN).date()
    await PaidOrder.update({PaidOrder.paid_at: datetime.combine(
        today - timedelta(days=1), time(23, 40), BERLIN).astimezone(UTC)}).where(
        PaidOrder.id == earlier.id)
    token = await login(client, "owner@demo.test")
    form = {"_csrf_token": token, "starts_on": today.isoformat(), "ends_on": "",
            "reason": "Power cut"}

    asked = await client.post("/manage/demo/hours/closures", data=form)
    assert asked.status_code == 200, asked.text[-2000:]
    assert await RestaurantClosure.count().where(RestaurantClosure.reason == "Power cut") == 0
    listed = set(re.findall(r'id="closure-order-(TEMP-[A-Za-z0-9_-]+)"', asked.text))
    assert listed == {waiting.public_id, cooking.public_id, ready.public_id}
    row = asked.text.split(f'id="closure-order-{cooking.public_id}"')[1].split("</tr>")[0]
    paid_clock = f"{cooking.paid_at.astimezone(BERLIN):%H:%M}"
    assert f"#{cooking.ticket_number}" in row and "Cooking Person" in row
    assert "As soon as possible" in row and paid_clock in row and "accepted" in row
    # the rule, said on the page: today's orders for now, accepted and ready ones too
    rule = asked.text.split('id="closure-orders"')[1].split("</p>")[0]
    assert "for as soon as possible today" in rule and "accepted and ready ones too" in rule
    refs = re.search(r'name="reject_orders" value="([^"]*)"', asked.text)
    assert refs and set(refs.group(1).split(",")) == listed

    confirmed = await client.post("/manage/demo/hours/closures",
                                  data={**form, "reject_orders": refs.group(1)})
    assert confirmed.status_code == 303, confirmed.text[-2000:]
    sdk = stripe_client(sandbox.url)
    for order in (waiting, cooking, ready):
        gone = await reload(order.public_id)
        assert gone.status == "refunded", (order.customer_name, gone.status)
        assert gone.amount_refunded == gone.amount_charged
        refunds = sdk.v1.refunds.list(params={
            "payment_intent": str(gone.stripe_payment_intent_id)})
        assert sum(refund.amount for refund in refunds.data) == gone.amount_charged
    for order in (waiting, cooking):
        assert (await reload(order.public_id)).reject_reason == "Power cut"
    jobs = {job.job_id for job in await redis.queued_jobs()}
    assert f"email:order_rejected:{cooking.public_id}" in jobs
    assert (await reload(done.public_id)).status == "completed"
    kept = await reload(earlier.public_id)
    assert kept.status == "accepted" and kept.amount_refunded == 0


async def test_an_order_paid_between_the_check_and_the_save_makes_the_page_ask(
        client: httpx.AsyncClient, sandbox: RunningSandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The orders are read again under the restaurant's lock with the insert: one paid just
    after the first reading is listed for the owner, and nothing is saved."""
    day = datetime.now(BERLIN).date() + timedelta(days=3)
    created = await client.post("/api/orders", json=await order_for(
        client, datetime.combine(day, time(12), BERLIN)))
    assert created.status_code == 201, created.text
    pay_after_first_reading(monkeypatch, client, sandbox, created.json())
    token = await login(client, "owner@demo.test")
    asked = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": day.isoformat(), "reason": "Inventory"})
    assert asked.status_code == 200, asked.text[-2000:]
    assert await RestaurantClosure.count().where(RestaurantClosure.reason == "Inventory") == 0
    listed = set(re.findall(r'id="closure-order-(TEMP-[A-Za-z0-9_-]+)"', asked.text))
    assert listed == {created.json()["id"]}
    newcomer = await reload(created.json()["id"])
    assert newcomer.status == "paid"
    # the owner saw no list: the page says the order came in while it was being saved
    said = " ".join(re.sub(r"<[^>]+>", "", asked.text.split(
        'id="closure-orders-new"')[1].split("</p>")[0]).split())
    assert (f"An order came in while the closure was being saved: #{newcomer.ticket_number} ("
            in said and "Nothing was saved. Confirm to reject it, or cancel." in said), said


async def test_a_closure_without_a_reason_tells_german_diners_in_german(
        app: Litestar, client: httpx.AsyncClient, sandbox: RunningSandbox,
        redis: ArqRedis) -> None:
    """No reason given: the closure's default reason is the system's, so a diner who ordered
    in German reads it in German (rejection email and status page); a cook's own words are
    shown as typed, never looked up in the catalog (here "Paid", which German has)."""
    body = await valid_order(client)
    body["language"] = "de"
    body["customer"]["email"] = "closed.de@example.com"
    german, typed = [(await client.post("/api/orders", json=body)).json() for _ in range(2)]
    for created in (german, typed):
        assert await pay_and_post_webhook(client, sandbox, created) == "created"
    await lifecycle.apply_action(typed["id"], "reject", actor="kitchen@demo.test",
                                 reason="Paid", redis=redis)
    order = await reload(german["id"])
    assert order.language == "de"
    today = order.paid_at.astimezone(BERLIN).date()
    token = await login(client, "owner@demo.test")
    form = {"_csrf_token": token, "starts_on": today.isoformat(), "ends_on": "", "reason": ""}
    asked = await client.post("/manage/demo/hours/closures", data=form)
    assert asked.status_code == 200, asked.text[-2000:]
    refs = re.search(r'name="reject_orders" value="([^"]*)"', asked.text)
    assert refs and german["id"] in refs.group(1).split(",")
    confirmed = await client.post("/manage/demo/hours/closures",
                                  data={**form, "reject_orders": refs.group(1)})
    assert confirmed.status_code == 303, confirmed.text[-2000:]
    assert (await reload(german["id"])).reject_reason == hours_service.CLOSED_REASON

    settings = get_settings().model_copy(update={"resend_api_url": sandbox.url})
    ctx = {"redis": redis, "settings": settings, "job_try": 1}
    for created in (german, typed):
        await send_email(ctx, "order_rejected", created["id"])
    said = "Grund: Das Restaurant hat an diesem Tag geschlossen"
    [email] = sandbox.wait_for(lambda: [
        message for message in sandbox.messages(to="closed.de@example.com")
        if german["id"] in message["text"]], timeout=10)
    assert said in email["text"] and said in email["html"], email["text"]
    assert "closed that day" not in email["text"] + email["html"]
    [cooks] = sandbox.wait_for(lambda: [
        message for message in sandbox.messages(to="closed.de@example.com")
        if typed["id"] in message["text"]], timeout=10)
    assert "Grund: Paid" in cooks["text"] and "Bezahlt" not in cooks["text"], cooks["text"]

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as diners_phone:
        page = " ".join((await diners_phone.get(f"/orders/{german['id']}")).text.split())
        assert '<html lang="de">' in page and said in page, page
        assert "closed that day" not in page
        cooks_page = " ".join((await diners_phone.get(f"/orders/{typed['id']}")).text.split())
        assert "Grund: Paid" in cooks_page
