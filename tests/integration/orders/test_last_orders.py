"""Orders for as soon as possible near closing (an outside try: an order placed a minute
before closing was paid after it, and its ticket reached the kitchen after hours). Such an
order is taken until the kitchen's prep time before closing ("last orders"), and its payment
link closes when the restaurant does: the diner is told the restaurant closed and nothing
was charged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from arq.connections import ArqRedis

from app.orders.temp_store import TempOrderStore
from app.restaurants.tables import Restaurant
from tests.helpers.hours import BERLIN, close_now, set_hours
from tests.helpers.orders import PREP, menu, order_for, temp_keys
from tests.helpers.payments import send_as_worker
from tests.helpers.sandbox import RunningSandbox, stripe_client
from workers.order_jobs import expire_payment_link


async def close_in(minutes: int) -> datetime:
    """Open from two hours ago (every day) until `minutes` from now (rounded up to the
    minute: hours are written in minutes). Returns the closing (UTC); it opens again at the
    same time of day as this one opened (`opened_before`)."""
    closing = (datetime.now(UTC) + timedelta(minutes=minutes, seconds=59)).replace(
        second=0, microsecond=0)
    opened = closing - opened_before(minutes)
    await set_hours("demo", f"{opened.astimezone(BERLIN):%H:%M}-{closing.astimezone(BERLIN):%H:%M}")
    return closing


def opened_before(minutes: int) -> timedelta:
    return timedelta(hours=2, minutes=minutes)


def opening_day(opens: datetime) -> str:
    """"today" or "tomorrow" on Berlin's clock: past midnight, an opening that began
    yesterday evening opens again today."""
    today = datetime.now(BERLIN).date()
    return "today" if opens.astimezone(BERLIN).date() == today else "tomorrow"


def clock(moment: datetime) -> str:
    return f"{moment.astimezone(BERLIN):%H:%M}"


async def test_orders_for_now_stop_the_prep_time_before_closing(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    closing = await close_in(PREP - 5)  # the kitchen could not make it before closing
    last = closing - timedelta(minutes=PREP)
    opens = closing - opened_before(PREP - 5) + timedelta(days=1)  # the same hours, next
    day = opening_day(opens)
    restaurant = (await client.get("/api/restaurants/demo/menu")).json()["restaurant"]
    assert restaurant["open_now"] is False
    assert restaurant["notice"] == (f"Last orders were at {clock(last)}. "
                                    f"Opens {day} at {clock(opens)}.")
    response = await client.post("/api/orders", json=await order_for(client, None))
    assert response.status_code == 409, response.text
    [problem] = response.json()["extra"]
    assert problem["key"] == "scheduled_for"
    assert problem["message"].startswith(
        f"Demo Bistro takes no more orders now (last orders were at {clock(last)}): "
        f"Opens {day} at {clock(opens)}.")
    assert await temp_keys(redis) == []  # nothing stored, no payment link made
    page = await client.get("/r/demo", headers={"accept-language": "de"})
    assert f"Bestellschluss war um {clock(last)}" in page.text, page.text[-3000:]

    await close_in(PREP + 2)  # one more minute, and it would be too late
    response = await client.post("/api/orders", json=await order_for(client, None))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("language", ["en", "de"])
async def test_a_link_for_now_closes_when_the_restaurant_does(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
        language: str) -> None:
    closing = await close_in(PREP + 3)
    body = await order_for(client, None) | {"language": language}
    created = await client.post("/api/orders", json=body)
    assert created.status_code == 201, created.text
    ref = created.json()["id"]
    # The link stops at closing, not 30 minutes later as Stripe's own expiry would…
    assert datetime.fromisoformat(created.json()["expires_at"]) == closing
    store = TempOrderStore(redis, 3600)
    order = await store.get(ref)
    assert order is not None and order.checkout_session_id is not None
    session_id = order.checkout_session_id
    stripe = stripe_client(sandbox.url)
    assert datetime.fromtimestamp(
        stripe.v1.checkout.sessions.retrieve(session_id).expires_at, UTC) > closing
    # …where the worker's expiry job is due, and closes it at Stripe.
    [due] = [job for job in await redis.queued_jobs()
             if job.function == "expire_payment_link" and job.args == (ref, session_id)]
    assert due.score == int(closing.timestamp() * 1000)
    assert await expire_payment_link({"redis": redis}, ref, session_id) == "expired"
    assert stripe.v1.checkout.sessions.retrieve(session_id).status == "expired"
    paid = httpx.post(f"{sandbox.url}/_control/checkout/sessions/{session_id}/pay")
    assert paid.status_code >= 400, paid.text  # a diner can no longer pay it

    # The diner reads that the restaurant closed, not "too late", and (the closing come)
    # no new link is offered while it is closed.
    await close_now("demo")
    page = await client.get(f"/orders/{ref}")
    words = {"en": ("Demo Bistro closed before you paid", "Nothing was charged"),
             "de": ("Demo Bistro hat geschlossen, bevor Sie bezahlt haben",
                    "Es wurde nichts abgebucht")}[language]
    assert all(said in page.text for said in words), page.text[-3000:]
    assert "Get a new payment link" not in page.text
    assert await send_as_worker(redis, sandbox, "link_expired", ref) == "sent via resend"
    [email] = sandbox.wait_for(lambda: [message for message in sandbox.messages()
                                        if ref in message["text"]
                                        and "Demo Bistro" in message["subject"]], timeout=10)
    assert "not paid in time" not in email["text"]
    assert "nicht rechtzeitig" not in email["text"]


async def test_a_link_renewed_in_the_next_opening_lasts_until_that_one_ends(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    closing = await close_in(PREP + 3)
    created = (await client.post("/api/orders", json=await order_for(client, None))).json()
    ref = created["id"]
    session_id = created["payment_url"].rsplit("/", 1)[1]
    assert await expire_payment_link({"redis": redis}, ref, session_id) == "expired"
    # The next day's opening (here: the hours moved so that it is open for three hours)
    later_closing = await close_in(180)
    assert later_closing > closing
    renewed = await client.post(f"/orders/{ref}/payment-link",
                                data={"_csrf_token": client.cookies.get("csrftoken", "")})
    assert renewed.status_code in (200, 303), renewed.text[-2000:]
    order = await TempOrderStore(redis, 3600).get(ref)
    assert order is not None and order.status == "awaiting_payment"
    assert order.open_until == later_closing
    api = (await client.get(f"/api/orders/{ref}")).json()
    # the usual 30-minute link: this opening ends well after it
    assert datetime.fromisoformat(api["expires_at"]) < later_closing


async def test_the_checkout_says_last_orders_and_a_days_pause_in_german(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    """Intake's refusal is English around the opening; the German checkout says it again in
    German (app/orders/form_messages.py), not "Bitte prüfen Sie dieses Feld"."""
    closing = await close_in(PREP - 5)
    last = clock(closing - timedelta(minutes=PREP))
    german = {"accept-language": "de"}
    await client.get("/r/demo", headers=german)
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    form = {"_csrf_token": client.cookies["csrftoken"], f"qty-{items['Tiramisu']}": "1",
            "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup"}
    refused = await client.post("/r/demo/checkout", data=form, headers=german,
                                follow_redirects=False)
    assert refused.status_code == 422
    said = " ".join(re.sub(r"<[^>]+>", " ", refused.text).split())
    assert (f"Demo Bistro nimmt jetzt keine Bestellungen mehr an (Bestellschluss war um "
            f"{last} Uhr): Öffnet") in said, said[-2000:]

    await Restaurant.update({Restaurant.paused_until: datetime.now(UTC) + timedelta(hours=30)}
                            ).where(Restaurant.slug == "demo")
    refused = await client.post("/r/demo/checkout", data=form, headers=german,
                                follow_redirects=False)
    said = " ".join(re.sub(r"<[^>]+>", " ", refused.text).split())
    assert "Demo Bistro nimmt gerade keine neuen Bestellungen an: " in said, said[-2000:]
    assert "Bitte prüfen Sie dieses Feld" not in said
    assert await temp_keys(redis) == []
