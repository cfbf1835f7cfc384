"""Payments that land inside a closure after it was saved (a Checkout Session made before
the closure, paid after it; a payment in flight while it was saved) are not refused by the
webhook, which records every payment: the worker rejects them the closure's way (money back,
the diner emailed with its reason, off the board), once, whichever of its runs gets there
first: the job queued when the closure is added, or the cron each minute. Orders the owner
confirmed when adding it are the owner's rejections, not rejected twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from app.notifications import delivery
from app.notifications.tables import EmailMessage
from app.orders import lifecycle
from app.orders.tables import OrderItem, PaidOrder
from app.payments import partial_refunds
from app.restaurants.tables import Restaurant, RestaurantClosure
from tests.helpers.accounts import login
from tests.helpers.hours import BERLIN
from tests.helpers.orders import order_for, paid_order_via_sandbox, pay_and_post_webhook
from tests.helpers.payments import emails_of, reload, send_as_worker
from tests.helpers.sandbox import RunningSandbox, stripe_client
from workers.settings import WorkerSettings

JOB = "reject_orders_in_closures"


def _as_the_worker_runs_it() -> tuple[Any, Any]:
    """The cron and the queued job of the closure sweep, as WorkerSettings declares them."""
    cron = next(job for job in WorkerSettings.cron_jobs if job.name == f"cron:{JOB}")
    assert cron.unique and cron.second is not None and cron.minute is None  # each minute
    [queued] = [getattr(function, "coroutine", function) for function in
                WorkerSettings.functions
                if getattr(function, "name", getattr(function, "__name__", "")) == JOB]
    return cron.coroutine, queued


def _refunded(sandbox: RunningSandbox, order: PaidOrder) -> list[int]:
    refunds = stripe_client(sandbox.url).v1.refunds.list(
        params={"payment_intent": str(order.stripe_payment_intent_id)})
    return [refund.amount for refund in refunds.data]


async def test_orders_paid_after_their_closure_was_saved_are_rejected_once(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    today = datetime.now(BERLIN).date()
    day = today + timedelta(days=3)
    # Confirmed by the owner when adding the closure: a booking on its last day.
    confirmed = await paid_order_via_sandbox(client, sandbox)
    await PaidOrder.update({PaidOrder.scheduled_for: datetime.combine(
        day, time(13), BERLIN).astimezone(UTC)}).where(PaidOrder.id == confirmed.id)
    # Submitted before the closure, paid after it: one booked inside, one for now (today).
    booked = await client.post("/api/orders", json=await order_for(
        client, datetime.combine(day, time(12), BERLIN)))
    now = await client.post("/api/orders", json=await order_for(client, None))
    assert booked.status_code == now.status_code == 201, (booked.text, now.text)
    # and one booked after the closure's last day, left alone
    after = await client.post("/api/orders", json=await order_for(
        client, datetime.combine(day + timedelta(days=1), time(12), BERLIN)))
    assert after.status_code == 201, after.text

    token = await login(client, "owner@demo.test")
    form = {"_csrf_token": token, "starts_on": today.isoformat(), "ends_on": day.isoformat(),
            "reason": "Flooded kitchen", "reject_orders": confirmed.public_id}
    added = await client.post("/manage/demo/hours/closures", data=form)
    assert added.status_code == 303, added.text[-2000:]
    assert await RestaurantClosure.count().where(
        RestaurantClosure.reason == "Flooded kitchen") == 1
    assert (await reload(confirmed.public_id)).status == "refunded"
    # a run of the sweep is queued for right after the closure, besides the cron
    assert [job for job in await redis.queued_jobs() if job.function == JOB]

    for late in (booked, now, after):  # paid: the webhook records every payment
        assert await pay_and_post_webhook(client, sandbox, late.json()) == "created"
    inside = [booked.json()["id"], now.json()["id"]]
    assert [(await reload(ref)).status for ref in inside] == ["paid", "paid"]

    cron, queued = _as_the_worker_runs_it()
    first, second = await asyncio.gather(cron({"redis": redis}), queued({"redis": redis}))
    assert sorted(first + second) == sorted(inside)  # each order once, by one of them
    for ref in inside:
        order = await reload(ref)
        assert order.status == "refunded" and order.reject_reason == "Flooded kitchen"
        assert _refunded(sandbox, order) == [order.amount_charged]
        assert [key for key in await emails_of(ref) if "order_rejected" in key] == [
            f"order_rejected/{ref}"]
    assert await cron({"redis": redis}) == [] and await queued({"redis": redis}) == []

    untouched = await reload(confirmed.public_id)  # the owner's rejection, not redone
    assert _refunded(sandbox, untouched) == [untouched.amount_charged]
    assert [key for key in await emails_of(confirmed.public_id)
            if "order_rejected" in key] == [f"order_rejected/{confirmed.public_id}"]
    kept = await reload(after.json()["id"])
    assert kept.status == "paid" and _refunded(sandbox, kept) == []


async def test_a_payment_inside_a_closure_is_swept_at_once_not_at_the_next_minute(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """The webhook that records a payment near a closure's days queues the sweep for now: a
    cook sees the ticket for the moment the worker takes to reject it, not up to a minute.
    A payment with no closure near its day queues nothing."""
    today = datetime.now(BERLIN).date()
    far = await client.post("/api/orders", json=await order_for(client, None))
    late = await client.post("/api/orders", json=await order_for(client, None))
    assert far.status_code == late.status_code == 201, (far.text, late.text)
    assert await pay_and_post_webhook(client, sandbox, far.json()) == "created"
    assert not [job for job in await redis.queued_jobs() if job.function == JOB]

    token = await login(client, "owner@demo.test")
    added = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": today.isoformat(), "reason": "Gas leak",
        "reject_orders": far.json()["id"]})
    assert added.status_code == 303, added.text[-2000:]
    await redis.delete(*[f"arq:job:{job.job_id}" for job in await redis.queued_jobs()])
    await redis.delete("arq:queue")  # the closure's own run (15 s later): not this test's

    assert await pay_and_post_webhook(client, sandbox, late.json()) == "created"
    ref = late.json()["id"]
    [job] = [job for job in await redis.queued_jobs() if job.function == JOB]
    assert job.job_id == f"paid:{ref}:closures"
    assert job.score <= datetime.now(UTC).timestamp() * 1000  # due now
    _cron, queued = _as_the_worker_runs_it()
    assert await queued({"redis": redis}) == [ref]
    order = await reload(ref)
    assert order.status == "refunded" and order.reject_reason == "Gas leak"


DINER = "ada@example.com"  # every order of `order_for` and `paid_order_via_sandbox`


def _subjects(sandbox: RunningSandbox, ref: str) -> list[str]:
    """The subjects of the emails the diner received about `ref`."""
    return [message["subject"] for message in sandbox.messages(to=DINER)
            if ref in message["text"]]


async def _close_today(client: httpx.AsyncClient, reason: str) -> None:
    """The owner closes today (no paid order inside yet: saved at once)."""
    token = await login(client, "owner@demo.test")
    added = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": datetime.now(BERLIN).date().isoformat(),
        "reason": reason})
    assert added.status_code == 303, added.text[-2000:]


async def _email_row(kind: str, ref: str) -> dict[str, Any]:
    row = await EmailMessage.select().where(
        EmailMessage.idempotency_key == f"{kind}/{ref}").first()
    assert row is not None, (kind, ref)
    return row


@pytest.mark.parametrize("first", ["receipt", "receipt_in_a_batch", "sweep"])
async def test_a_diner_paying_inside_a_closure_gets_only_its_rejection(
        first: str, client: httpx.AsyncClient, sandbox: RunningSandbox,
        redis: ArqRedis) -> None:
    """The receipt says the order is with the kitchen: for an order the closure rejects, it
    would be a lie, told before the rejection. Whichever of the worker's jobs runs first (the
    receipt's, alone or in a batch of the backlog, or the sweep's; or the sweep not queued,
    left to the cron), the diner gets the rejection and refund, never the receipt."""
    created = await client.post("/api/orders", json=await order_for(client, None))
    assert created.status_code == 201, created.text
    ref = created.json()["id"]
    if first == "receipt_in_a_batch":  # a backlog: the receipt's job sends them as a batch
        for index in range(delivery.BATCH_BACKLOG):
            body = await order_for(client, None)
            body["customer"]["email"] = f"guest{index}@example.com"
            other = await client.post("/api/orders", json=body)
            assert other.status_code == 201, other.text
    await _close_today(client, "Burst pipe")
    assert await pay_and_post_webhook(client, sandbox, created.json()) == "created"

    _cron, sweep = _as_the_worker_runs_it()
    if first == "sweep":
        assert await sweep({"redis": redis}) == [ref]
        assert (await send_as_worker(redis, sandbox, "payment_received", ref)).startswith("skipped")
    else:
        outcome = await send_as_worker(redis, sandbox, "payment_received", ref)
        assert outcome.startswith("skipped"), outcome
        if first == "receipt_in_a_batch":  # the others went out together
            assert len(sandbox.wait_for(lambda: [
                message for message in sandbox.messages()
                if DINER not in message["to"]],
                timeout=10)) == delivery.BATCH_BACKLOG
        assert await sweep({"redis": redis}) == [ref]
    receipt = await _email_row("payment_received", ref)
    assert receipt["status"] == "skipped", receipt
    said = "order is refunded" if first == "sweep" else "the order falls in a closure"
    assert said in receipt["last_error"] and "tells the diner" in receipt["last_error"], receipt
    order = await reload(ref)
    assert order.status == "refunded" and order.reject_reason == "Burst pipe"

    assert (await send_as_worker(redis, sandbox, "order_rejected", ref)).startswith("sent")
    assert await send_as_worker(redis, sandbox, "payment_received", ref) == "already skipped"
    [subject] = sandbox.wait_for(lambda: _subjects(sandbox, ref), timeout=10)
    assert subject.startswith("Sorry, "), subject
    assert _subjects(sandbox, ref) == [subject]
    assert not [message for message in sandbox.messages(to=DINER)
                if message["subject"].startswith("Payment received")]


async def test_orders_near_a_closure_but_outside_it_get_their_receipts(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """A closure tomorrow: an order paid today for now, and one booked for the day after the
    closure, are near it but not inside: each gets its receipt. So does an order of a
    restaurant with no closure. The booked one is always near in the check made at payment
    (a day either side of its UTC date), so its sweep is queued at once; the one for now is
    two UTC days away from "tomorrow" between midnight in Berlin and midnight UTC, and then
    only the cron's sweep looks at it."""
    plain = await paid_order_via_sandbox(client, sandbox)  # no closure yet
    local = datetime.now(BERLIN)
    # In the last hour of the Berlin day a closure from midnight leaves no time to order for
    # now (last orders 15 minutes before it, as a diner is told): the closure then starts a
    # day later (this failed in a CI run at 23:50 Berlin time)
    tomorrow = local.date() + timedelta(days=2 if local.hour == 23 else 1)
    token = await login(client, "owner@demo.test")
    added = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": tomorrow.isoformat(), "reason": "Staff party"})
    assert added.status_code == 303, added.text[-2000:]
    now = await client.post("/api/orders", json=await order_for(client, None))
    after = await client.post("/api/orders", json=await order_for(
        client, datetime.combine(tomorrow + timedelta(days=1), time(12), BERLIN)))
    assert now.status_code == after.status_code == 201, (now.text, after.text)
    for created in (now, after):
        assert await pay_and_post_webhook(client, sandbox, created.json()) == "created"
    refs = [plain.public_id, now.json()["id"], after.json()["id"]]
    assert [job for job in await redis.queued_jobs() if job.job_id == f"paid:{refs[2]}:closures"]

    for ref in refs:  # the receipt before the sweep, and after it
        assert await send_as_worker(redis, sandbox, "payment_received", ref) == "sent via resend"
    _cron, sweep = _as_the_worker_runs_it()
    assert await sweep({"redis": redis}) == []
    for ref in refs:
        [subject] = sandbox.wait_for(lambda ref=ref: _subjects(sandbox, ref), timeout=10)
        assert subject.startswith("Payment received: "), subject
        assert (await reload(ref)).status == "paid"


async def test_a_receipt_not_sent_yet_when_the_kitchen_rejects_is_not_sent(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """A rejected (refunded) order's receipt, prepared after the rejection, stays unsent:
    the rejection email tells the diner the money is back. A receipt for an order merely
    refunded in part still goes: the order is still being made."""
    rejected = await paid_order_via_sandbox(client, sandbox)
    await lifecycle.apply_action(rejected.public_id, "reject", actor="kitchen@demo.test",
                                 reason="Out of dough", redis=redis)
    assert (await reload(rejected.public_id)).status == "refunded"
    partly = await paid_order_via_sandbox(client, sandbox)
    [item, *_] = await OrderItem.objects().where(
        OrderItem.paid_order == partly.id).order_by(OrderItem.id)
    assert item.quantity == 2
    await partial_refunds.refund_items(
        redis, partly.public_id, {"nonce": "receipt-test-nonce", f"qty_{item.id}": "1",
                                  "reason": "Pizza burnt"}, by="admin@orderpass.test")
    refunded_in_part = await reload(partly.public_id)
    assert refunded_in_part.status == "paid" and refunded_in_part.amount_refunded > 0

    sent = await send_as_worker(redis, sandbox, "payment_received", rejected.public_id)
    assert sent.startswith("skipped"), sent
    sent = await send_as_worker(redis, sandbox, "order_rejected", rejected.public_id)
    assert sent.startswith("sent"), sent
    assert await send_as_worker(redis, sandbox, "payment_received", partly.public_id) == (
        "sent via resend")
    [subject] = sandbox.wait_for(lambda: _subjects(sandbox, rejected.public_id), timeout=10)
    assert subject.startswith("Sorry, "), subject
    assert (await _email_row("payment_received", rejected.public_id))["status"] == "skipped"
    [subject] = sandbox.wait_for(lambda: [
        subject for subject in _subjects(sandbox, partly.public_id)
        if subject.startswith("Payment received")], timeout=10)


async def test_a_card_held_inside_a_closure_gets_only_its_release(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """A restaurant that captures on accept: the first email says the card is authorised and
    the order waits for the kitchen. Inside a closure the kitchen never sees it: the diner
    gets only the closure's "Sorry" with the hold released."""
    await Restaurant.update({Restaurant.capture_mode: "manual"}).where(
        Restaurant.slug == "demo")
    created = await client.post("/api/orders", json=await order_for(client, None))
    assert created.status_code == 201, created.text
    ref = created.json()["id"]
    await _close_today(client, "Burst pipe")
    assert await pay_and_post_webhook(client, sandbox, created.json()) == "created"
    outcome = await send_as_worker(redis, sandbox, "payment_authorised", ref)
    assert outcome.startswith("skipped"), outcome
    _cron, sweep = _as_the_worker_runs_it()
    assert await sweep({"redis": redis}) == [ref]
    order = await reload(ref)
    assert order.status == "voided" and order.reject_reason == "Burst pipe"
    assert (await send_as_worker(redis, sandbox, "order_rejected", ref)).startswith("sent")
    [subject] = sandbox.wait_for(lambda: _subjects(sandbox, ref), timeout=10)
    assert subject.startswith("Sorry, "), subject
