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
from arq.connections import ArqRedis

from app.orders.tables import PaidOrder
from app.restaurants.tables import RestaurantClosure
from tests.helpers.accounts import login
from tests.helpers.hours import BERLIN
from tests.helpers.orders import order_for, paid_order_via_sandbox, pay_and_post_webhook
from tests.helpers.payments import emails_of, reload
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
