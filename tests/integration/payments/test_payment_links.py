"""Every valid order gets one payable link, whatever Stripe does: faults before and after
execution (500, 429, timeout) end in exactly one open session whose link the customer gets;
a permanent refusal is a clear outcome (page and email); the largest order intake accepts
fits Stripe's metadata limits, pays, and is rebuilt whole if Redis lost it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe
from arq.connections import ArqRedis

from app.orders.tables import OrderItem, PaidOrder
from app.orders.views import temp_store
from app.payments.stripe_gateway import get_gateway
from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.orders import LONGEST_PHONE, valid_order
from tests.helpers.payments import (
    email_jobs,
    emails_of,
    post_event,
    sessions_of,
)
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.stripe_events import sandbox_events
from workers.order_jobs import create_payment_link


async def _end_state(client: httpx.AsyncClient, sdk: stripe.StripeClient, redis: ArqRedis,
                     ref: str) -> None:
    """Exactly one open session for the order, and the customer has its link (page, API,
    and the confirmation email queued)."""
    sessions = sessions_of(sdk, ref)
    open_sessions = [s for s in sessions if s.status == "open"]
    assert len(open_sessions) == 1, [(s.id, s.status) for s in sessions]
    status = (await client.get(f"/api/orders/{ref}")).json()
    assert status["status"] == "awaiting_payment"
    assert status["payment_url"] == open_sessions[0].url
    page = await client.get(f"/orders/{ref}")
    assert open_sessions[0].url in page.text
    assert f"order_confirmation/{ref}" in await emails_of(ref)
    assert f"email:order_confirmation:{ref}" in await email_jobs(redis, ref)


@pytest.mark.parametrize("after_execute", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("fault", [500, 429, "timeout"])
async def test_one_open_session_and_the_link_whatever_stripe_answers(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis, impatient_stripe: None, fault: int | str, after_execute: bool
) -> None:
    """Every attempt the gateway makes fails (the SDK's and ours); after execution Stripe
    has made the session and repeats the saved 500/429 for its key."""
    sandbox.api_faults(service="stripe", status=fault, count=get_gateway().attempts,
                       after_execute=after_execute)
    response = await client.post("/api/orders", json=await valid_order(client))
    assert response.status_code in (201, 202), response.text
    ref = response.json()["id"]
    sandbox.api_faults(service="stripe", status=500, count=0)  # Stripe is well again
    if response.status_code == 202:  # the worker's job finishes what intake could not
        assert await create_payment_link({"redis": redis, "job_try": 1}, ref) == "linked"
        assert await create_payment_link({"redis": redis, "job_try": 2}, ref) \
            == "already-linked"
    await _end_state(client, sdk, redis, ref)


async def test_a_link_retried_after_its_key_went_stale_adopts_the_session(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis
) -> None:
    """Stripe made the session, but every answer was lost; by the time the worker retries,
    the request's expires_at is too close to resend as it was: the session is found and
    used, no second one is made."""
    sandbox.api_faults(service="stripe", status=500, count=get_gateway().attempts * 2,
                       after_execute=True)
    response = await client.post("/api/orders", json=await valid_order(client))
    ref = response.json()["id"]
    if response.status_code == 202:
        order = await temp_store(redis).get(ref)
        assert order is not None and order.link_key == ref
        order.link_expires_at -= 45 * 60  # as if the job ran 45 minutes later
        await temp_store(redis).put(order)
        sandbox.api_faults(service="stripe", status=500, count=0)
        assert await create_payment_link({"redis": redis, "job_try": 1}, ref) == "linked"
    await _end_state(client, sdk, redis, ref)


async def test_a_permanent_refusal_tells_the_customer(
    client: httpx.AsyncClient, sdk: stripe.StripeClient, redis: ArqRedis,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """An order Stripe refuses for good: no retry loop; the page and an email say nothing was
    charged. Intake now refuses a total over Stripe's eight-digit maximum itself
    (tests/integration/orders/test_charge_maximum.py); here it is made to let one through, as
    a limit of Stripe's intake does not know would."""
    from app.orders import intake

    monkeypatch.setattr(intake, "largest_order", lambda currency: 2**31 - 1)
    body = await valid_order(client)
    item_id = body["items"][0]["menu_item_id"]
    await MenuItem.update({MenuItem.price_amount: 10_000_000}).where(MenuItem.id == item_id)
    body["items"] = [{"menu_item_id": item_id, "quantity": 99}]
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 202, response.text
    ref = response.json()["id"]
    assert response.json()["status"] == "link_failed"
    assert sessions_of(sdk, ref) == []
    assert (await client.get(f"/api/orders/{ref}")).json()["status"] == "link_failed"
    page = await client.get(f"/orders/{ref}")
    assert "could not set up payment" in page.text and "Nothing was charged" in page.text
    assert await emails_of(ref) == [f"link_failed/{ref}"]
    assert not [job for job in await redis.queued_jobs()
                if job.function == "create_payment_link"]  # no silent retry loop


async def test_the_worker_gives_up_loudly(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    sandbox.api_faults(service="stripe", status=500, count=1000)
    response = await client.post("/api/orders", json=await valid_order(client))
    assert response.status_code == 202
    ref = response.json()["id"]
    from workers.order_jobs import MAX_LINK_TRIES

    assert await create_payment_link({"redis": redis, "job_try": MAX_LINK_TRIES}, ref) \
        == "failed"
    sandbox.api_faults(service="stripe", status=500, count=0)
    assert (await client.get(f"/api/orders/{ref}")).json()["status"] == "link_failed"
    assert f"link_failed/{ref}" in await emails_of(ref)


async def test_a_new_link_after_a_failed_delayed_payment(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient
) -> None:
    created = (await client.post("/api/orders", json=await valid_order(client))).json()
    ref, first = created["id"], created["payment_url"].rsplit("/", 1)[1]
    sandbox.pay(first, "async_failed")
    sandbox.advance_clock(60)
    [failed] = sandbox_events(sandbox.url, session_id=first,
                              types={"checkout.session.async_payment_failed"})
    assert await post_event(client, failed) == "payment_failed"
    assert (await client.get(f"/api/orders/{ref}")).json()["status"] == "payment_failed"
    page = await client.get(f"/orders/{ref}")
    assert "Get a new payment link" in page.text
    renewed = await client.post(f"/orders/{ref}/payment-link",
                                headers={"hx-request": "true",
                                         "x-csrftoken": client.cookies["csrftoken"]})
    assert renewed.status_code == 200, renewed.text
    assert "this order is payment failed" not in renewed.text
    status = (await client.get(f"/api/orders/{ref}")).json()
    assert status["status"] == "awaiting_payment" and first not in status["payment_url"]
    assert [s.status for s in sessions_of(sdk, ref)].count("open") == 1


async def test_intake_refuses_a_total_below_the_currency_minimum(
    client: httpx.AsyncClient, sdk: stripe.StripeClient, redis: ArqRedis
) -> None:
    body = await valid_order(client)
    item_id = body["items"][0]["menu_item_id"]
    await MenuItem.update({MenuItem.price_amount: 49}).where(MenuItem.id == item_id)
    body["items"] = [{"menu_item_id": item_id, "quantity": 1}]
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["extra"] == [{"key": "total", "message": problem["extra"][0]["message"]}]
    assert "€0.49" in problem["detail"] and "€0.50" in problem["detail"]
    assert sdk.v1.checkout.sessions.list().data == []
    assert await redis.keys("orderpass:temp:TEMP-*") == []
    body["items"] = [{"menu_item_id": item_id, "quantity": 2}]  # 0.98: fine
    assert (await client.post("/api/orders", json=body)).status_code == 201


# -- the largest order ------------------------------------------------------------------

# Escapes badly in JSON (quotes, a backslash, a tab, a line break: the control characters
# free text may hold).
NASTY = 'a "quoted" \\ back\tslash\n nut-free ñ 🥜 '


# A name is one line without control characters (intake refuses them): the rest of NASTY.
NASTY_NAME = 'a "quoted" \\ back slash nut-free ñ 🥜 '


def _text(length: int, seed: str, nasty: str = NASTY) -> str:
    return (seed + nasty * 40)[:length - 1] + "!"  # intake strips outer whitespace


async def _largest_order(client: httpx.AsyncClient, fulfillment: str) -> dict[str, Any]:
    """Every limit of the intake at once: 50 lines, 200-character notes and allergies on
    each, a 120-character name, 40-character phone, a 40-character table (dine-in) or a
    300-character delivery address, a 200-character order allergy, 500-character order
    notes, and the largest tip."""
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    ids = []
    for index in range(50):
        item = MenuItem(restaurant=restaurant.id, name=_text(120, f"Dish {index:02d} "),
                        category="Long", description="", price_amount=1234 + index,
                        position=100 + index, available=True)
        await item.save()
        ids.append(item.id)
    body: dict[str, Any] = {
        "restaurant": "demo",
        "items": [{"menu_item_id": item_id, "quantity": 99,
                   "notes": _text(200, f"line {index} note: "),
                   "allergy": _text(200, f"line {index} allergy: ")}
                  for index, item_id in enumerate(ids)],
        "customer": {"name": _text(120, "Ada ", NASTY_NAME), "phone": LONGEST_PHONE,
                     "email": "a" * 60 + "@" + "b" * 60 + ".example.com"},
        "fulfillment": fulfillment,
        "notes": _text(500, "Order note: "),
        "allergy": _text(200, "Order allergy: "),
        "tip": {"amount": 25_000},  # the largest tip: 250.00
    }
    if fulfillment == "dine_in":
        body["table"] = _text(40, "T")
    else:
        body["delivery_address"] = _text(300, "1 Long Street, ")
    return body


@pytest.mark.parametrize("fulfillment", ["dine_in", "delivery"])
@pytest.mark.parametrize("lose_temp_order", [False, True], ids=["kept", "rebuilt"])
async def test_the_largest_order_intake_accepts_is_paid_whole(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis, lose_temp_order: bool, fulfillment: str
) -> None:
    body = await _largest_order(client, fulfillment)
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 201, response.text  # a link, not a deferral
    created = response.json()
    assert created["totals"]["tip"]["amount"] == 25_000
    session_id = created["payment_url"].rsplit("/", 1)[1]
    metadata = sdk.v1.checkout.sessions.retrieve(session_id).metadata.to_dict()
    assert len(metadata) <= 50 and all(len(k) <= 40 and len(v) <= 500
                                       for k, v in metadata.items())
    if lose_temp_order:
        await temp_store(redis).delete(created["id"])
        assert await temp_store(redis).get(created["id"]) is None
    sandbox.pay(session_id)
    [event] = sandbox_events(sandbox.url, session_id=session_id,
                             types={"checkout.session.completed"})
    assert await post_event(client, event) == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None
    assert order.rebuilt_from_stripe is lose_temp_order
    assert not order.needs_review, order.review_reason
    assert order.amount_charged == order.total_amount == created["total"]["amount"]
    assert order.tip_amount == 25_000
    assert (order.customer_name, order.customer_phone, order.customer_email) == (
        body["customer"]["name"], body["customer"]["phone"], body["customer"]["email"])
    assert (order.fulfillment, order.table_label, order.delivery_address) == (
        fulfillment, body.get("table", ""), body.get("delivery_address", ""))
    assert (order.notes, order.allergy) == (body["notes"], body["allergy"])
    items = await OrderItem.objects().where(OrderItem.paid_order == order.id).order_by(
        OrderItem.id)
    assert [(i.menu_item, i.quantity, i.notes, i.allergy) for i in items] == [
        (line["menu_item_id"], 99, line["notes"], line["allergy"]) for line in body["items"]]
    assert len({i.name for i in items}) == 50


async def test_a_rebuild_missing_its_snapshot_says_so_on_the_ticket(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis
) -> None:
    """A session without our snapshot (made by hand in the dashboard, say) whose temp order
    is gone still becomes the order, flagged with what is missing, on the kitchen ticket."""
    from tests.helpers.accounts import login

    created = (await client.post("/api/orders", json=await valid_order(client))).json()
    await temp_store(redis).delete(created["id"])
    by_hand = sdk.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "http://x/ok", "client_reference_id": created["id"],
        "metadata": {"temp_order_id": created["id"], "restaurant": "demo"},
        "line_items": [{"quantity": 2, "price_data": {
            "currency": "eur", "unit_amount": 1250, "product_data": {"name": "Margherita"}}}],
    })
    sandbox.pay(by_hand.id)
    [event] = sandbox_events(sandbox.url, session_id=by_hand.id,
                             types={"checkout.session.completed"})
    assert await post_event(client, event) == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None and order.needs_review and order.rebuilt_from_stripe
    assert order.review_reason.startswith("Rebuilt from Stripe; missing: customer details")
    await login(client, "kitchen@demo.test")
    board = await client.get("/kitchen/demo/board")
    assert "Needs review: Rebuilt from Stripe; missing" in board.text
