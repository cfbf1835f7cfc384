"""Two refunds of one order at the same moment (an owner with the order open in two tabs, or
an owner and a manager): the money goes back once, exactly what was paid, the second is told
plainly that the order is refunded in full already (not "Refunded in full." as if it had
made a refund too), and nothing calls it a refund made outside Orderpass (no discrepancy, no
alert)."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from app.orders.tables import OrderItem
from app.payments.tables import Discrepancy
from tests.helpers.accounts import login
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import reload
from tests.helpers.sandbox import RunningSandbox, stripe_client


def nonce_of(html: str) -> str:
    match = re.search(r'name="nonce" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


@pytest.fixture
def slow_stripe(sandbox: RunningSandbox) -> object:
    """Each Stripe call takes 300 ms: both refunds are surely under way together."""
    sandbox.api_faults(service="stripe", latency_ms=300)
    yield
    sandbox.api_faults(service="stripe", latency_ms=0)


@pytest.mark.parametrize("second", ["everything", "items", "everything twice"])
async def test_two_refunds_at_once_give_the_money_back_once(
        client: httpx.AsyncClient, sandbox: RunningSandbox, slow_stripe: object,
        second: str) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    items = await OrderItem.objects().where(OrderItem.paid_order == order.id).order_by(
        OrderItem.id)
    token = await login(client, "owner@demo.test")
    url = f"/manage/demo/orders/{order.public_id}"
    tab_one, tab_two = (await client.get(url)).text, (await client.get(url)).text
    all_items = {"_csrf_token": token, "nonce": nonce_of(tab_one),
                 **{f"qty_{item.id}": str(item.quantity) for item in items}}
    whole = {"_csrf_token": token, "reason": "sorry", "confirm": "yes"}
    if second == "everything twice":
        all_items = whole
    other = whole if second.startswith("everything") else {**all_items,
                                                             "nonce": nonce_of(tab_two)}
    first_answer, second_answer = await asyncio.gather(
        client.post(f"{url}/refund", data=all_items, follow_redirects=False),
        client.post(f"{url}/refund", data=other, follow_redirects=False))

    answers = sorted([first_answer, second_answer], key=lambda answer: answer.status_code)
    made, refused = answers
    assert made.status_code == 303, made.text
    # The other tab: told the truth in the owner's words, not a provider failure.
    assert refused.status_code == 409, refused.text
    assert "outside Orderpass" not in refused.text
    assert (f"Order #{order.ticket_number} is refunded in full already: nothing more was "
            "refunded." in refused.text), refused.text[-3000:]
    final = await reload(order.public_id)
    assert final.status == "refunded" and final.amount_refunded == final.amount_charged
    sdk = stripe_client(sandbox.url)
    refunds = sdk.v1.refunds.list(params={"payment_intent": str(order.stripe_payment_intent_id)})
    assert sum(refund.amount for refund in refunds.data) == final.amount_charged
    assert await Discrepancy.count().where(Discrepancy.order_ref == order.public_id) == 0


@pytest.mark.parametrize("again", ["the same items", "other items"])
async def test_a_refund_form_sent_again_says_nothing_more_was_refunded(
        client: httpx.AsyncClient, sandbox: RunningSandbox, again: str) -> None:
    """An outside try: an owner refunded one soup, pressed Back (the page still showed
    nothing refunded) and refunded one more. The old form's key made it the same refund,
    so nothing was refunded, yet the page said "Refund made; the customer has been
    emailed." Sent again, with the same items or others, a form says that nothing more was
    refunded, shows the order as it is now with a new form, and emails nobody twice."""
    order = await paid_order_via_sandbox(client, sandbox)
    first, second = await OrderItem.objects().where(OrderItem.paid_order == order.id).order_by(
        OrderItem.id)
    token = await login(client, "owner@demo.test")
    url = f"/manage/demo/orders/{order.public_id}"
    stale = nonce_of((await client.get(url)).text)
    made = await client.post(f"{url}/refund", follow_redirects=False, data={
        "_csrf_token": token, "nonce": stale, f"qty_{first.id}": "1"})
    assert made.status_code == 303 and made.headers["location"].endswith("?done=refund")
    refunded = (await reload(order.public_id)).amount_refunded
    assert refunded == first.unit_amount

    chosen = f"qty_{first.id}" if again == "the same items" else f"qty_{second.id}"
    answer = await client.post(f"{url}/refund", follow_redirects=False, data={
        "_csrf_token": token, "nonce": stale, chosen: "1", "reason": "another reason"})
    assert answer.status_code == 409, answer.text[-2000:]
    said = " ".join(answer.text.split())
    assert "Refund made" not in said
    assert ("Nothing more was refunded: this form was sent already, and its refund of "
            f"€{refunded / 100:.2f} was made then.") in said, said[-3000:]
    assert nonce_of(answer.text) != stale  # the page as it is now, with a form of its own
    assert (await reload(order.public_id)).amount_refunded == refunded
    sdk = stripe_client(sandbox.url)
    refunds = sdk.v1.refunds.list(params={"payment_intent": str(order.stripe_payment_intent_id)})
    assert [refund.amount for refund in refunds.data] == [refunded]
