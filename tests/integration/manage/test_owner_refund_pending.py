"""The owner's order page while Stripe cannot be reached tells the truth about the money: a
rejected order whose refund is pending (the kitchen cron retries it) says "Refund of €X
pending", never "Refunded €0.00", and offers no second refund of the same money; once the
worker has refunded it, the page says "Refunded €X". A refund the owner asks for while Stripe
is unreachable says Stripe could not be reached (and what happens next), not that Stripe
refused it; a real refusal still says "Stripe refused"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from app.orders import lifecycle
from app.orders.tables import OrderItem
from app.templating import format_money
from tests.helpers.accounts import login
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import refunds_in_stripe, reload
from tests.helpers.sandbox import RunningSandbox, stripe_client

REFUND_EVERYTHING_FORM = 'class="admin-form refund-form"'


@pytest.fixture
def outage(sandbox: RunningSandbox) -> Iterator[RunningSandbox]:
    """The sandbox, with Stripe well again when the test ends (`stripe_is_down` for an
    outage, `stripe_is_back` to end it)."""
    yield sandbox
    stripe_is_back(sandbox)


def stripe_is_down(sandbox: RunningSandbox) -> None:
    """Every Stripe call fails (500, so every retry of every call) until `stripe_is_back`."""
    sandbox.api_faults(service="stripe", status=500, count=1000)


def stripe_is_back(sandbox: RunningSandbox) -> None:
    sandbox.api_faults(service="stripe", status=500, count=0)


def nonce_of(html: str) -> str:
    match = re.search(r'name="nonce" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def test_a_pending_refund_is_shown_pending_until_the_worker_makes_it(
        client: httpx.AsyncClient, outage: RunningSandbox) -> None:
    sandbox = outage
    order = await paid_order_via_sandbox(client, sandbox)
    amount = format_money(order.amount_charged, order.currency)
    stripe_is_down(sandbox)
    rejected = await lifecycle.apply_action(order.public_id, "reject",
                                            actor="kitchen@demo.test", reason="Oven broke")
    assert rejected.status == "rejected" and rejected.needs_review
    await login(client, "owner@demo.test")
    url = f"/manage/demo/orders/{order.public_id}"
    page = await client.get(url)
    assert page.status_code == 200, page.text
    text = page.text
    assert f"Refund of {amount} pending" in text, text
    assert "Stripe could not be reached" in text and "retried automatically" in text
    assert f'data-refund-pending="{order.amount_charged}"' in text
    assert f"Refunded {format_money(0, order.currency)}" not in text
    assert not re.search(r"<dt>Refunded</dt>", text)
    # No button asks for the money that is on its way already.
    assert REFUND_EVERYTHING_FORM not in text and "Refund everything" not in text
    stripe_is_back(sandbox)

    # The kitchen cron (the worker) refunds it, once.
    assert await lifecycle.retry_failed_refunds(older_than=timedelta(0)) == [order.public_id]
    page = await client.get(url)
    assert page.status_code == 200
    assert f"Refund of {amount} pending" not in page.text
    assert "data-refund-pending" not in page.text
    assert re.search(rf"<dt>Refunded</dt><dd[^>]*>{re.escape(amount)}</dd>", page.text), \
        page.text
    assert len(refunds_in_stripe(stripe_client(sandbox.url), order)) == 1


async def test_refund_everything_on_a_pending_rejection_says_stripe_could_not_be_reached(
        client: httpx.AsyncClient, outage: RunningSandbox) -> None:
    """A form loaded before the rejection (or in another tab) posts anyway."""
    order = await paid_order_via_sandbox(client, outage)
    amount = format_money(order.amount_charged, order.currency)
    stripe_is_down(outage)
    await lifecycle.apply_action(order.public_id, "reject", actor="kitchen@demo.test",
                                 reason="Oven broke")
    token = await login(client, "owner@demo.test")
    url = f"/manage/demo/orders/{order.public_id}"
    answer = await client.post(f"{url}/refund", data={"_csrf_token": token, "confirm": "yes"},
                               follow_redirects=False)
    assert answer.status_code == 502, answer.text
    assert "refused" not in answer.text.lower(), answer.text
    assert "Stripe could not be reached" in answer.text
    assert f"refund of {amount} is still pending" in answer.text
    assert "retried automatically" in answer.text
    after = await reload(order.public_id)
    assert after.status == "rejected" and after.amount_refunded == 0


async def test_refund_everything_while_stripe_is_unreachable_says_so(
        client: httpx.AsyncClient, outage: RunningSandbox) -> None:
    order = await paid_order_via_sandbox(client, outage)
    token = await login(client, "owner@demo.test")
    url = f"/manage/demo/orders/{order.public_id}"
    stripe_is_down(outage)
    answer = await client.post(f"{url}/refund", data={"_csrf_token": token, "confirm": "yes"},
                               follow_redirects=False)
    assert answer.status_code == 502, answer.text
    assert "refused" not in answer.text.lower(), answer.text
    assert "Stripe could not be reached" in answer.text
    assert "not retried automatically" in answer.text and "try again" in answer.text
    assert (await reload(order.public_id)).amount_refunded == 0

    stripe_is_back(outage)
    again = await client.post(f"{url}/refund", data={"_csrf_token": token, "confirm": "yes"},
                              follow_redirects=False)
    assert again.status_code == 303, again.text
    final = await reload(order.public_id)
    assert final.status == "refunded" and final.amount_refunded == final.amount_charged
    assert len(refunds_in_stripe(stripe_client(outage.url), order)) == 1


async def test_a_refund_of_items_while_stripe_is_unreachable_says_so_and_keeps_its_key(
        client: httpx.AsyncClient, outage: RunningSandbox) -> None:
    order = await paid_order_via_sandbox(client, outage)
    first, _second = await OrderItem.objects().where(
        OrderItem.paid_order == order.id).order_by(OrderItem.id)
    token = await login(client, "owner@demo.test")
    url = f"/manage/demo/orders/{order.public_id}"
    nonce = nonce_of((await client.get(url)).text)
    stripe_is_down(outage)
    form = {"_csrf_token": token, "nonce": nonce, f"qty_{first.id}": "1"}
    answer = await client.post(f"{url}/refund", data=form, follow_redirects=False)
    assert answer.status_code == 502, answer.text
    assert "refused" not in answer.text.lower(), answer.text
    assert "Stripe could not be reached" in answer.text and "try again" in answer.text
    # Trying again from the page the error is shown on is the same refund (the same key).
    assert nonce_of(answer.text) == nonce

    stripe_is_back(outage)
    again = await client.post(f"{url}/refund", data=form, follow_redirects=False)
    assert again.status_code == 303, again.text
    assert (await reload(order.public_id)).amount_refunded == first.gross_amount // 2
    assert len(refunds_in_stripe(stripe_client(outage.url), order)) == 1


async def test_a_real_refusal_still_says_stripe_refused(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """A disputed charge: Stripe answers, and refuses every refund while the dispute is open.
    The page says the refund is stopped (not pending, not retried), and pressing the button
    says Stripe refused."""
    order = await paid_order_via_sandbox(client, sandbox)
    sdk = stripe_client(sandbox.url)
    intent = sdk.v1.payment_intents.retrieve(str(order.stripe_payment_intent_id))
    sandbox.open_dispute(str(intent.latest_charge))
    rejected = await lifecycle.apply_action(order.public_id, "reject", actor="t", reason="x")
    assert rejected.status == "rejected" and rejected.settlement_stopped_at is not None
    token = await login(client, "owner@demo.test")
    url = f"/manage/demo/orders/{order.public_id}"
    page = await client.get(url)
    assert page.status_code == 200
    assert "it is retried automatically" not in page.text
    assert "not retried" in page.text and "disputed" in page.text
    answer = await client.post(f"{url}/refund", data={"_csrf_token": token, "confirm": "yes"},
                               follow_redirects=False)
    assert answer.status_code == 409, answer.text
    assert "Stripe refused the refund" in answer.text and "disputed" in answer.text
    assert "could not be reached" not in answer.text
