"""Money moved outside Orderpass reaches the order live: refunds made in Stripe's dashboard
(`charge.refunded`) and disputes opened and closed by the cardholder's bank
(`charge.dispute.created`/`closed`) change the order's status, its kitchen card and its
customer page, email the customer, and show the admin a discrepancy. The admin refunds
items (no more than remains). A session naming another restaurant's order is a discrepancy."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import stripe
from arq.connections import ArqRedis

from app.orders import lifecycle
from app.orders.tables import PaidOrder
from app.payments import money_events, settlement
from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.accounts import login
from tests.helpers.kitchen_listener import KitchenListener
from tests.helpers.logs import capture_info
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import (
    discrepancy_kinds,
    email_jobs,
    emails_of,
    events_about,
    post_event,
    reload,
)
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess, start_web
from tests.helpers.sse import status_stream, status_update
from tests.helpers.stripe_events import sandbox_events


@pytest.fixture(scope="module")
def web() -> Iterator[RunningProcess]:
    """The web app as a real server process: the customer's page holds its status stream
    there while Stripe's events arrive."""
    with start_web(env={"SSE_HEARTBEAT_SECONDS": "1"}) as server:
        yield server


async def _refunded_event(sandbox: RunningSandbox, order: PaidOrder) -> dict[str, object]:
    return events_about(sandbox, {"charge.refunded"}, str(order.stripe_payment_intent_id))[-1]


async def test_a_full_refund_in_the_dashboard_refunds_the_order_live(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis, web: RunningProcess
) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    sdk.v1.refunds.create(params={"payment_intent": str(order.stripe_payment_intent_id)})
    event = await _refunded_event(sandbox, order)
    async with KitchenListener(redis) as kitchen, \
            status_stream(web.url, order.public_id) as customer_page:
        assert await post_event(client, event) == "refunded"
        assert [e["order_ref"] for e in await kitchen.events()] == [order.public_id]
        assert (await status_update(customer_page, "refunded"))["id"] == order.public_id
    refunded = await reload(order.public_id)
    assert refunded.status == "refunded" and refunded.amount_refunded == order.amount_charged
    assert (await client.get(f"/api/orders/{order.public_id}")).json()["status"] == "refunded"
    page = await client.get(f"/orders/{order.public_id}")
    assert "Your payment has been refunded" in page.text
    assert f"email:order_refunded:{order.public_id}" in await email_jobs(redis,
                                                                         order.public_id)
    assert await discrepancy_kinds(order.public_id) == ["refund_outside"]
    assert await post_event(client, event) == "refund_known"  # a duplicate changes nothing
    assert (await reload(order.public_id)).version == refunded.version


async def test_a_partial_refund_in_the_dashboard_is_shown_and_emailed(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis
) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    sdk.v1.refunds.create(params={"payment_intent": str(order.stripe_payment_intent_id),
                                  "amount": 300})
    assert await post_event(client, await _refunded_event(sandbox, order)) \
        == "partially_refunded"
    after = await reload(order.public_id)
    assert after.status == "paid" and after.amount_refunded == 300
    page = await client.get(f"/orders/{order.public_id}")
    assert "Refunded: €3.00 of" in page.text
    assert f"order_refunded/{order.public_id}" in await emails_of(order.public_id)


async def test_a_dispute_moves_the_order_and_its_outcome_decides(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis, web: RunningProcess
) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    charge = str(sdk.v1.payment_intents.retrieve(str(order.stripe_payment_intent_id))
                 .latest_charge)
    dispute = sandbox.open_dispute(charge)
    [created] = events_about(sandbox, {"charge.dispute.created"})
    async with KitchenListener(redis) as kitchen, \
            status_stream(web.url, order.public_id) as customer_page:
        assert await post_event(client, created) == "dispute_needs_response"
        assert [e["order_ref"] for e in await kitchen.events()] == [order.public_id]
        assert (await status_update(customer_page, "disputed"))["id"] == order.public_id
    disputed = await reload(order.public_id)
    assert disputed.status == "disputed" and disputed.dispute_status == "needs_response"
    assert "Your bank is disputing this payment" in (
        await client.get(f"/orders/{order.public_id}")).text
    assert await discrepancy_kinds(order.public_id) == ["dispute"]
    sandbox.close_dispute(dispute["id"], "won")
    [closed] = events_about(sandbox, {"charge.dispute.closed"})
    assert await post_event(client, closed) == "dispute_won"
    won = await reload(order.public_id)
    # the chargeback took the ticket off the board: won weeks later, it is over, not back
    # to cook (tests/integration/payments/test_disputes_on_the_board.py)
    assert won.status == "completed" and won.dispute_status == "won"


async def test_dispute_events_in_any_order_end_in_the_disputes_real_state(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient
) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    charge = str(sdk.v1.payment_intents.retrieve(str(order.stripe_payment_intent_id))
                 .latest_charge)
    dispute = sandbox.open_dispute(charge)
    sandbox.close_dispute(dispute["id"], "lost")
    [created] = events_about(sandbox, {"charge.dispute.created"})
    [closed] = events_about(sandbox, {"charge.dispute.closed"})
    assert await post_event(client, closed) == "dispute_lost"  # the close arrives first
    assert await post_event(client, created) == "dispute_lost"
    lost = await reload(order.public_id)
    assert lost.status == "charged_back" and lost.dispute_status == "lost"
    assert "Your bank reversed this payment" in (
        await client.get(f"/orders/{order.public_id}")).text


async def test_a_lost_dispute_after_a_partial_refund_charges_back_the_rest(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient
) -> None:
    """The bank can take back only what is still charged: the dispute is for the rest, and
    once lost the owner's page shows it charged back (nothing "left"), the diner's page says
    the bank returned the rest, and the sales figures keep nothing of the order."""
    order = await paid_order_via_sandbox(client, sandbox)
    intent = str(order.stripe_payment_intent_id)
    sdk.v1.refunds.create(params={"payment_intent": intent, "amount": 320})
    assert await post_event(client, await _refunded_event(sandbox, order)) \
        == "partially_refunded"
    charge = str(sdk.v1.payment_intents.retrieve(intent).latest_charge)
    rest = order.amount_charged - 320
    dispute = sandbox.open_dispute(charge)
    assert dispute["amount"] == rest, dispute
    sandbox.close_dispute(dispute["id"], "lost")
    for kind in ("charge.dispute.created", "charge.dispute.closed"):
        [event] = events_about(sandbox, {kind})
        await post_event(client, event)
    assert (await reload(order.public_id)).status == "charged_back"
    money = lambda amount: f"€{amount // 100}.{amount % 100:02d}"  # noqa: E731
    await login(client, "owner@demo.test")
    page = (await client.get(f"/manage/demo/orders/{order.public_id}")).text
    assert f'<dt>Charged back</dt><dd data-charged-back="{rest}">{money(rest)}</dd>' in page
    assert '<dd data-remaining="0">€0.00</dd>' in page
    assert "Nothing to refund" not in page
    assert '<span class="badge order-charged_back">charged back</span>' in page  # not the code
    diner = (await client.get(f"/orders/{order.public_id}")).text
    assert "Your bank reversed this payment" in diner
    assert (f"The restaurant refunded €3.20 of {money(order.total_amount)}; your bank "
            f"returned the other {money(rest)}.") in diner
    assert "Refunded: €3.20 of" not in diner


async def test_the_admin_refunds_items_up_to_what_remains(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis
) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    token = await login(client, "admin@orderpass.test")
    page = await client.get(f"/admin/orders/{order.public_id}")
    assert page.status_code == 200
    from app.orders.tables import OrderItem

    items = await OrderItem.objects().where(OrderItem.paid_order == order.id).order_by(
        OrderItem.id)
    nonce = page.text.split('name="nonce" value="')[1].split('"')[0]
    too_many = await client.post(f"/admin/orders/{order.public_id}/refund", data={
        "_csrf_token": token, "nonce": nonce, f"qty_{items[0].id}": str(items[0].quantity + 1)})
    assert too_many.status_code == 400 and "at most" in too_many.text
    form = {"_csrf_token": token, "nonce": nonce, f"qty_{items[0].id}": "1",
            "reason": "one pizza was cold"}
    done = await client.post(f"/admin/orders/{order.public_id}/refund", data=form,
                             follow_redirects=False)
    assert done.status_code == 303, done.text
    again = await client.post(f"/admin/orders/{order.public_id}/refund", data=form,
                              follow_redirects=False)  # a double submit: the same key
    assert again.status_code == 409  # said as it is: the first one made the refund
    assert "Nothing more was refunded: this form was sent already" in again.text
    [refund] = sdk.v1.refunds.list(
        params={"payment_intent": str(order.stripe_payment_intent_id)}).data
    assert refund.amount == items[0].unit_amount
    after = await reload(order.public_id)
    assert after.status == "paid" and after.amount_refunded == items[0].unit_amount
    assert "Refunded:" in (await client.get(f"/orders/{order.public_id}")).text
    assert f"order_refunded/{order.public_id}" in await emails_of(order.public_id)
    # The rest of the payment, and no more: refunding everything left refunds the order.
    page = await client.get(f"/admin/orders/{order.public_id}")
    nonce = page.text.split('name="nonce" value="')[1].split('"')[0]
    rest = {"_csrf_token": token, "nonce": nonce,
            **{f"qty_{item.id}": str(item.quantity) for item in items}}
    over = await client.post(f"/admin/orders/{order.public_id}/refund", data=rest)
    # A unit refunded once cannot be refunded again (so neither can more than remains).
    assert over.status_code == 400 and "at most 1 left to refund" in over.text
    # far more than ordered: told what is left, not what was ordered
    many = await client.post(f"/admin/orders/{order.public_id}/refund",
                             data={**rest, f"qty_{items[0].id}": "5"})
    assert many.status_code == 400 and "at most 1 left to refund" in many.text, many.text
    assert f"at most {items[0].quantity}<" not in many.text
    # a reason past the form's 300 characters (a tampered post) is refused, not cut
    long = await client.post(f"/admin/orders/{order.public_id}/refund",
                             data={**rest, f"qty_{items[0].id}": "1", "reason": "x" * 301})
    assert long.status_code == 422 and "at most 300 characters (301 given)" in long.text
    assert (await reload(order.public_id)).amount_refunded == after.amount_refunded
    rest[f"qty_{items[0].id}"] = str(items[0].quantity - 1)
    full = await client.post(f"/admin/orders/{order.public_id}/refund", data=rest,
                             follow_redirects=False)
    assert full.status_code == 303, full.text
    final = await reload(order.public_id)
    assert final.status == "refunded" and final.amount_refunded == order.amount_charged


async def test_a_session_naming_another_restaurants_order_is_a_discrepancy(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient
) -> None:
    order = await paid_order_via_sandbox(client, sandbox)  # an order of demo, paid
    other = sdk.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "http://x/ok", "client_reference_id": order.public_id,
        "metadata": {"temp_order_id": order.public_id, "restaurant": "demo-2"},
        "line_items": [{"quantity": 1, "price_data": {
            "currency": "eur", "unit_amount": 900, "product_data": {"name": "Soup"}}}],
    })
    sandbox.pay(other.id)
    [event] = sandbox_events(sandbox.url, session_id=other.id,
                             types={"checkout.session.completed"})
    assert await post_event(client, event) == "restaurant_mismatch"
    assert await PaidOrder.count() == 1
    assert "restaurant_mismatch" in await discrepancy_kinds(order.public_id)


async def test_the_menu_editor_refuses_negative_prices(client: httpx.AsyncClient) -> None:
    token = await login(client, "admin@orderpass.test")
    for price in ("-1", "-0.01", "\u22122"):  # the last is a Unicode minus sign
        response = await client.post("/admin/restaurants/demo/menu", data={
            "_csrf_token": token, "name": "Free money", "category": "Mains",
            "price": price, "position": "1", "available": "on"})
        assert response.status_code == 422, price
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    assert await MenuItem.count().where(MenuItem.name == "Free money") == 0
    import asyncpg
    import pytest

    with pytest.raises(asyncpg.CheckViolationError):  # and the database refuses them too
        await MenuItem.update({MenuItem.price_amount: -100}).where(
            MenuItem.restaurant == restaurant.id)


async def test_stripes_refund_event_after_a_rejections_own_refund_raises_no_alarm(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The kitchen rejects an order and its refund moves it to `refunded`; Stripe's
    `charge.refunded` for that refund, handled from a read taken before the rejection (the
    webhook and the rejection side by side), leaves it refunded once and logs no warning
    for the on-call engineer (a warning "full refund not applied" was seen in an outside
    try of the auto-reject)."""
    order = await paid_order_via_sandbox(client, sandbox)
    before_rejection = await reload(order.public_id)  # what the racing webhook had read
    rejected = await lifecycle.apply_action(order.public_id, "reject", actor="kitchen:test",
                                            redis=redis)
    assert rejected.status == "refunded"
    # both modules' lines, whatever structlog cached (capture_logs can see nothing then)
    logs = [capture_info(monkeypatch, module).entries for module in (money_events, settlement)]
    outcome = await money_events.refunds_changed(redis, before_rejection)
    assert outcome.result == "refund_known"
    assert not [line for lines in logs for line in lines if line["log_level"] == "warning"], logs
    after = await reload(order.public_id)
    assert (after.status, after.amount_refunded) == ("refunded", order.amount_charged)
