"""A dispute reaches the kitchen only when it takes money. An inquiry (Stripe's
"warning_…" statuses, before any chargeback) takes none: the ticket stays on the board, the
charge can still be refunded, and an inquiry closed without a chargeback leaves the order
as it was, never "charged back". A chargeback takes the money at once: a ticket on the board
leaves it with a notice on every screen saying so, until a cook acknowledges it. Decided for
the restaurant weeks later, that order does not come back as a ticket to cook, nor as a
"paid" order the timer would reject (refunding the money just won back, and emailing the
diner a rejection)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest
import stripe
from arq.connections import ArqRedis
from litestar import Litestar

from app.orders import lifecycle
from app.orders.tables import PaidOrder
from tests.helpers.accounts import staff_session
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import discrepancy_kinds, emails_of, events_about, post_event, reload
from tests.helpers.sandbox import RunningSandbox
from workers.kitchen_jobs import auto_reject_unaccepted


@pytest.fixture
async def kitchen(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A kitchen screen's own session."""
    async with staff_session(app, "kitchen@demo.test") as screen:
        yield screen


async def _board(kitchen: httpx.AsyncClient) -> str:
    return " ".join((await kitchen.get("/kitchen/demo/board")).text.split())


def _charge_of(sdk: stripe.StripeClient, order: PaidOrder) -> str:
    return str(sdk.v1.payment_intents.retrieve(str(order.stripe_payment_intent_id))
               .latest_charge)


async def _page(session: httpx.AsyncClient, path: str) -> str:
    answer = await session.get(path)
    assert answer.status_code == 200, answer.text
    return html.unescape(" ".join(answer.text.split()))


async def _post_latest(client: httpx.AsyncClient, sandbox: RunningSandbox, kind: str) -> str:
    return await post_event(client, events_about(sandbox, {kind})[-1])


async def test_an_inquiry_leaves_the_ticket_and_closed_it_is_not_a_chargeback(
    app: Litestar, client: httpx.AsyncClient, kitchen: httpx.AsyncClient,
    sandbox: RunningSandbox, sdk: stripe.StripeClient
) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    inquiry = sandbox.open_dispute(_charge_of(sdk, order), inquiry=True)
    assert inquiry["status"] == "warning_needs_response" and inquiry["is_charge_refundable"]
    outcome = await _post_latest(client, sandbox, "charge.dispute.created")
    assert outcome == "dispute_warning_needs_response"
    asked = await reload(order.public_id)
    assert (asked.status, asked.dispute_status) == ("paid", "warning_needs_response")
    assert f"#{order.ticket_number}" in await _board(kitchen)  # still there to cook
    assert "disputed" not in await _board(kitchen)
    assert await discrepancy_kinds(order.public_id) == ["dispute"]  # the admin answers it
    page = (await client.get(f"/orders/{order.public_id}")).text
    assert "Your bank is disputing this payment" not in page
    # the owner is the one to answer the bank, before it turns into a chargeback
    async with staff_session(app, "owner@demo.test") as owner:
        told = await _page(owner, f"/manage/demo/orders/{order.public_id}")
        overview = await _page(owner, "/manage/demo")
    assert ("Inquiry: the customer's bank asks about this payment. No money has moved. "
            "Answer it in Stripe's dashboard") in told, told
    assert "Disputes to answer" in overview  # the owner's overview says so too
    assert f'/manage/demo/orders/{order.public_id}">#{order.ticket_number}</a>' in overview
    async with staff_session(app, "owner@demo-2.test") as other:
        assert "Disputes to answer" not in await _page(other, "/manage/demo-2")
    # an inquiry took no money: the charge can still be refunded in part
    sdk.v1.refunds.create(params={"payment_intent": str(order.stripe_payment_intent_id),
                                  "amount": 100})

    sandbox.close_dispute(inquiry["id"], "warning_closed")
    assert await _post_latest(client, sandbox, "charge.dispute.closed") \
        == "dispute_warning_closed"
    closed = await reload(order.public_id)
    assert (closed.status, closed.dispute_status) == ("paid", "warning_closed")
    async with staff_session(app, "owner@demo.test") as owner:
        assert "Disputes to answer" not in await _page(owner, "/manage/demo")
    page = (await client.get(f"/orders/{order.public_id}")).text
    assert "Your bank reversed this payment" not in page


async def test_a_chargeback_takes_the_ticket_off_with_a_notice_and_a_win_does_not_bring_it_back(
    app: Litestar, client: httpx.AsyncClient, kitchen: httpx.AsyncClient,
    sandbox: RunningSandbox, sdk: stripe.StripeClient, redis: ArqRedis
) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    await lifecycle.apply_action(order.public_id, "accept", actor="kitchen@demo.test",
                                 prep_minutes=20)
    # a euro of it refunded before: the bank takes back only what was left of the charge
    sdk.v1.refunds.create(params={"payment_intent": str(order.stripe_payment_intent_id),
                                  "amount": 100})
    await _post_latest(client, sandbox, "charge.refunded")
    dispute = sandbox.open_dispute(_charge_of(sdk, order))
    assert dispute["amount"] == order.total_amount - 100
    assert await _post_latest(client, sandbox, "charge.dispute.created") \
        == "dispute_needs_response"
    disputed = await reload(order.public_id)
    assert disputed.status == "disputed" and disputed.disputed_at is not None
    board = await _board(kitchen)
    assert f'id="card-{order.public_id}"' not in board
    left = order.total_amount - 100
    total = f"€{left // 100}.{left % 100:02d}"
    assert (f"#{order.ticket_number} payment disputed" in board
            and f"the customer's bank took back {total}" in board
            and "stop preparing it" in board), board
    # the owner is not offered a refund Stripe would refuse, and one posted is refused here
    async with staff_session(app, "owner@demo.test") as owner:
        overview = " ".join((await _page(owner, "/manage/demo")).split())
        assert f">#{order.ticket_number}</a> · {total} in question ·" in overview, overview
        page = await _page(owner, f"/manage/demo/orders/{order.public_id}")
        assert "A chargeback is open: Stripe refuses refunds until the bank decides" in page
        assert f'action="/manage/demo/orders/{order.public_id}/refund"' not in page
        posted = await owner.post(f"/manage/demo/orders/{order.public_id}/refund",
                                  data={"confirm": "yes",
                                        "_csrf_token": owner.cookies["csrftoken"]})
        assert posted.status_code == 409, posted.text
        assert "has a chargeback open" in html.unescape(posted.text)
    # the euro refunded in Stripe's dashboard and the dispute; no refused refund added
    assert sorted(await discrepancy_kinds(order.public_id)) == ["dispute", "refund_outside"]
    acknowledged = await kitchen.post(
        f"/kitchen/demo/notices/{order.public_id}/acknowledge",
        data={"_csrf_token": kitchen.cookies["csrftoken"]}, headers={"hx-request": "true"})
    assert acknowledged.status_code == 200, acknowledged.text
    assert f'data-notice="{order.public_id}"' not in await _board(kitchen)

    sandbox.close_dispute(dispute["id"], "won")  # weeks later, for the restaurant
    assert await _post_latest(client, sandbox, "charge.dispute.closed") == "dispute_won"
    won = await reload(order.public_id)
    assert (won.status, won.dispute_status) == ("completed", "won")
    assert f'id="card-{order.public_id}"' not in await _board(kitchen)
    assert not [e for e in await emails_of(order.public_id) if "rejected" in e]


async def test_a_chargeback_on_a_paid_ticket_won_back_is_not_rejected_by_the_timer(
    client: httpx.AsyncClient, kitchen: httpx.AsyncClient, sandbox: RunningSandbox,
    sdk: stripe.StripeClient, redis: ArqRedis
) -> None:
    """The ticket nobody had accepted yet: restored as "paid", the timer would reject it
    and refund the money the restaurant had just won."""
    order = await paid_order_via_sandbox(client, sandbox)
    dispute = sandbox.open_dispute(_charge_of(sdk, order))
    await _post_latest(client, sandbox, "charge.dispute.created")
    sandbox.close_dispute(dispute["id"], "won")
    assert await _post_latest(client, sandbox, "charge.dispute.closed") == "dispute_won"
    won = await reload(order.public_id)
    assert (won.status, won.amount_refunded) == ("completed", 0)
    board = await _board(kitchen)
    assert f'id="card-{order.public_id}"' not in board
    # its notice, not acknowledged yet, no longer tells the cooks the money is gone
    notice = re.search(rf'data-notice="{order.public_id}">(.*?)</div>', board, re.S)
    assert notice is not None, board
    told = " ".join(notice.group(1).split())
    assert (f"#{order.ticket_number} payment disputed" in told and "then won" in told
            and "the bank gave the money back to the restaurant" in told), told
    assert "stop preparing" not in told and "took back" not in told
    await auto_reject_unaccepted({"redis": redis})
    assert (await reload(order.public_id)).status == "completed"
    assert not [e for e in await emails_of(order.public_id) if "rejected" in e]
