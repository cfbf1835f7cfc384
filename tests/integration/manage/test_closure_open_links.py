"""A closure added while diners hold open payment links: the links of orders inside it are
expired at Stripe at once (the worker's job queued with the closure), so nobody is charged
for an order the closure would then reject and refund. The diner's page says the link
expired and nothing was charged; a new link is refused while the closure lasts. Orders
outside the closure keep their links."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import httpx
from arq.connections import ArqRedis

from app.orders.temp_store import TempOrderStore
from tests.helpers.accounts import login
from tests.helpers.hours import BERLIN
from tests.helpers.orders import order_for
from tests.helpers.sandbox import RunningSandbox, stripe_client
from workers.settings import WorkerSettings

JOB = "expire_links_in_closure"


def _queued_job() -> object:
    [job] = [getattr(function, "coroutine", function) for function in WorkerSettings.functions
             if getattr(function, "name", getattr(function, "__name__", "")) == JOB]
    return job


async def test_open_links_inside_a_new_closure_are_expired_at_once(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    today = datetime.now(BERLIN).date()
    day = today + timedelta(days=2)
    now = await client.post("/api/orders", json=await order_for(client, None))
    booked = await client.post("/api/orders", json=await order_for(
        client, datetime.combine(day, time(12), BERLIN)))
    after = await client.post("/api/orders", json=await order_for(
        client, datetime.combine(day + timedelta(days=1), time(12), BERLIN)))
    assert now.status_code == booked.status_code == after.status_code == 201

    token = await login(client, "owner@demo.test")
    added = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": today.isoformat(), "ends_on": day.isoformat(),
        "reason": "Power cut"})
    assert added.status_code == 303, added.text[-2000:]
    [queued] = [job for job in await redis.queued_jobs() if job.function == JOB]
    assert queued.score <= datetime.now().timestamp() * 1000 + 1000  # due now, not later

    job = _queued_job()
    closed = await job({"redis": redis}, *queued.args)  # type: ignore[operator]
    inside = [now.json()["id"], booked.json()["id"]]
    assert sorted(closed) == sorted(inside)
    store = TempOrderStore(redis, 3600)
    stripe = stripe_client(sandbox.url)
    for ref in inside:
        order = await store.get(ref)
        assert order is not None and order.status == "payment_expired"
        session = stripe.v1.checkout.sessions.retrieve(str(order.checkout_session_id))
        assert session.status == "expired"  # it cannot be paid any more
        page = await client.get(f"/orders/{ref}")
        assert "Your payment link expired" in page.text and "Nothing was charged" in page.text
    renew = await client.post(f"/orders/{now.json()['id']}/payment-link",
                              data={"_csrf_token": client.cookies.get("csrftoken", "")})
    assert renew.status_code == 409
    assert "is closed now" in renew.text and "(Power cut)" in renew.text
    assert "nothing was charged" in renew.text
    outside = await store.get(after.json()["id"])
    assert outside is not None and outside.status == "awaiting_payment"
    assert stripe.v1.checkout.sessions.retrieve(
        str(outside.checkout_session_id)).status == "open"
    assert await job({"redis": redis}, *queued.args) == []  # type: ignore[operator]
