"""A closure the owner adds reaches the diner at once: its days are not offered at checkout,
a slot inside is refused by the API and by the checkout form (with the closure's reason),
an unpaid order for a slot inside cannot get a new payment link, and on a closed day there
is no ordering for now."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import httpx

from tests.helpers.accounts import login
from tests.helpers.hours import BERLIN
from tests.helpers.orders import menu, order_for
from tests.helpers.payments import post_event, sessions_of
from tests.helpers.sandbox import RunningSandbox, stripe_client
from tests.helpers.stripe_events import sandbox_events

DAY_OPTION = re.compile(r'<option value="(\d{4}-\d\d-\d\d)"')


async def _close(client: httpx.AsyncClient, first: str, last: str = "") -> None:
    token = await login(client, "owner@demo.test")
    added = await client.post("/manage/demo/hours/closures", data={
        "_csrf_token": token, "starts_on": first, "ends_on": last, "reason": "Private party"})
    assert added.status_code == 303, added.text[-2000:]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_a_closed_day_is_not_offered_and_a_slot_inside_is_refused(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    day = datetime.now(BERLIN).date() + timedelta(days=2)
    slot = datetime.combine(day, time(12), BERLIN)
    # unpaid, its link expired: made before the closure, for a slot inside it
    pending = (await client.post("/api/orders", json=await order_for(client, slot))).json()
    session = pending["payment_url"].rsplit("/", 1)[1]
    sdk = stripe_client(sandbox.url)
    sdk.v1.checkout.sessions.expire(session)
    [expired] = sandbox_events(sandbox.url, session_id=session,
                               types={"checkout.session.expired"})
    assert await post_event(client, expired) == "expired"

    await _close(client, day.isoformat())
    days = DAY_OPTION.findall((await client.get("/r/demo")).text)
    assert (day - timedelta(days=1)).isoformat() in days
    assert (day + timedelta(days=1)).isoformat() in days
    assert day.isoformat() not in days

    refused = await client.post("/api/orders", json=await order_for(client, slot))
    assert refused.status_code == 422, refused.text
    assert "closed at that time (Private party)" in refused.text

    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    form = {"_csrf_token": client.cookies["csrftoken"], f"qty-{items['Tiramisu']}": "1",
            "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup",
            "schedule_day": day.isoformat(), "scheduled_for": slot.isoformat()}
    checkout = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert checkout.status_code == 422, checkout.status_code
    assert "closed at that time (Private party)" in _text(checkout.text)

    renewal = await client.post(f"/orders/{pending['id']}/payment-link",
                                headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert renewal.status_code == 409, renewal.text[-2000:]
    assert "closed at that time" in _text(renewal.text)
    assert [s.status for s in sessions_of(sdk, pending["id"])] == ["expired"]


async def test_no_order_for_now_on_a_day_closed_from_today(client: httpx.AsyncClient) -> None:
    today = datetime.now(BERLIN).date()
    await _close(client, today.isoformat())
    restaurant = (await client.get("/api/restaurants/demo/menu")).json()["restaurant"]
    assert restaurant["open_now"] is False and "Private party" in restaurant["notice"]
    refused = await client.post("/api/orders", json=await order_for(client, None))
    assert refused.status_code == 409, refused.text
    assert "is closed now" in refused.text
    page = (await client.get("/r/demo")).text
    assert today.isoformat() not in DAY_OPTION.findall(page)
