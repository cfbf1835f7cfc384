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
from app.restaurants.tables import RestaurantClosure
from tests.helpers.accounts import login
from tests.helpers.hours import BERLIN
from tests.helpers.orders import order_for
from tests.helpers.payments import send_as_worker
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
    booked_ref = booked.json()["id"]
    inside = [now.json()["id"], booked_ref]
    assert sorted(closed) == sorted(inside)
    store = TempOrderStore(redis, 3600)
    stripe = stripe_client(sandbox.url)
    for ref in inside:
        order = await store.get(ref)
        assert order is not None and order.status == "payment_expired"
        session = stripe.v1.checkout.sessions.retrieve(str(order.checkout_session_id))
        assert session.status == "expired"  # it cannot be paid any more
        # The page says why (not "expired"), and offers no link the closure would refuse,
        # only the way back to the menu; the API's expires_at says when it stopped.
        page = await client.get(f"/orders/{ref}")
        assert "Your payment link was closed" in page.text, page.text[-3000:]
        booked = ref == booked_ref  # the restaurant has not closed yet: it will be, then
        assert ("Demo Bistro is closed at the time you chose" if booked
                else "Demo Bistro closed before you paid") in page.text
        assert "Nothing was charged" in page.text and "Reason: Power cut" in page.text
        assert "Get a new payment link" not in page.text and 'href="/r/demo"' in page.text
        assert ("is closed now" in page.text) == (ref == now.json()["id"])
        api = (await client.get(f"/api/orders/{ref}")).json()
        assert api["status"] == "payment_expired"
        assert datetime.fromisoformat(api["expires_at"]) <= datetime.now().astimezone()
        assert await send_as_worker(redis, sandbox, "link_expired", ref) == "sent via resend"
        [email] = sandbox.wait_for(lambda ref=ref: [
            message for message in sandbox.messages() if ref in message["text"]
            and message["subject"].startswith("Demo Bistro")], timeout=10)
        assert email["subject"] == (
            "Demo Bistro is closed at the time you chose: nothing was charged" if booked
            else "Demo Bistro closed before you paid: nothing was charged")
        assert "Reason: Power cut" in email["text"] and "not paid in time" not in email["html"]
    renew = await client.post(f"/orders/{now.json()['id']}/payment-link",
                              data={"_csrf_token": client.cookies.get("csrftoken", "")})
    # A stale button pressed anyway: refused for what it is, not as "the menu changed"
    assert renew.status_code == 409, renew.text[-2000:]
    assert "Demo Bistro is closed now:" in renew.text and "(Power cut)" in renew.text
    assert "cannot be paid as it is" not in renew.text
    assert "Please check the dishes" not in renew.text
    german = await client.get(f"/orders/{now.json()['id']}",
                              headers={"accept-language": "de"})
    assert "Demo Bistro hat gerade geschlossen:" in german.text, german.text[-3000:]
    assert "(Power cut)" in german.text and "Ihr Zahlungslink wurde geschlossen" in german.text
    outside = await store.get(after.json()["id"])
    assert outside is not None and outside.status == "awaiting_payment"
    assert stripe.v1.checkout.sessions.retrieve(
        str(outside.checkout_session_id)).status == "open"
    assert await job({"redis": redis}, *queued.args) == []  # type: ignore[operator]

    # The owner removes the closure (a mistake, the power is back): the page offers the new
    # link again, and it is made.
    [closure_id] = await RestaurantClosure.select(RestaurantClosure.id).where(
        RestaurantClosure.reason == "Power cut").output(as_list=True)
    removed = await client.post(f"/manage/demo/hours/closures/{closure_id}/remove",
                                data={"_csrf_token": token})
    assert removed.status_code in (200, 303), removed.text[-2000:]
    page = await client.get(f"/orders/{now.json()['id']}")
    assert "Get a new payment link" in page.text and "is closed now" not in page.text
    renewed = await client.post(f"/orders/{now.json()['id']}/payment-link",
                                data={"_csrf_token": client.cookies.get("csrftoken", "")})
    assert renewed.status_code in (200, 303), renewed.text[-2000:]
    renewed_order = await store.get(now.json()["id"])
    assert renewed_order is not None and renewed_order.status == "awaiting_payment"
    assert renewed_order.closure_note is None  # the closure's reason went with its link
    page = await client.get(f"/orders/{now.json()['id']}")
    assert str(renewed_order.payment_url) in page.text
    # only the first link is emailed: the page says so no more for a renewed one
    assert "We also emailed this link" not in page.text


async def test_a_link_deferred_past_a_new_closure_is_never_made(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """Stripe was down at intake, so the worker makes the link later; the owner closes today
    meanwhile. No link is made for an order the closure would reject and refund: the diner
    is told the restaurant closed and nothing was charged."""
    from workers.order_jobs import create_payment_link

    sandbox.api_faults(service="stripe", status=500, count=10)
    deferred = await client.post("/api/orders", json=await order_for(client, None))
    assert deferred.status_code == 202, deferred.text
    sandbox.api_faults(service="stripe", status=500, count=0)
    ref = deferred.json()["id"]
    token = await login(client, "owner@demo.test")
    added = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": datetime.now(BERLIN).date().isoformat(),
        "reason": "Burst pipe"})
    assert added.status_code == 303, added.text[-2000:]

    assert await create_payment_link({"redis": redis, "job_try": 2}, ref) == "closed"
    assert stripe_client(sandbox.url).v1.checkout.sessions.list().data == []
    api = (await client.get(f"/api/orders/{ref}")).json()
    assert api["status"] == "payment_expired" and api["payment_url"] is None
    page = await client.get(f"/orders/{ref}")
    assert "Demo Bistro closed before you paid" in page.text and "Burst pipe" in page.text
    assert "Get a new payment link" not in page.text
    assert await send_as_worker(redis, sandbox, "link_expired", ref) == "sent via resend"
