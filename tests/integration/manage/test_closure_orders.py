"""A closure over days that already hold paid orders for later: the first post saves
nothing and lists the orders inside it (ticket, slot on the restaurant's clock, name,
total); the confirm saves the closure and rejects those orders the kitchen's way (money back
in the sandbox's Stripe, the diner emailed with the closure's reason); orders outside it are
left alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from arq.connections import ArqRedis

from app.orders.tables import PaidOrder
from app.restaurants.tables import RestaurantClosure
from app.templating import format_money
from tests.helpers.accounts import login
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import reload
from tests.helpers.sandbox import RunningSandbox, stripe_client

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
    assert "Add the closure and reject this order (full refund, the customer emailed with " \
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
