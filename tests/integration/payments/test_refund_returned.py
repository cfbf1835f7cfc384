"""A refund the customer's bank returns. Stripe accepts a card refund, and days later the
bank sends it back (the card expired, was cancelled, lost): Stripe marks the refund `failed`,
puts the money back in the restaurant's balance and sends `refund.failed` (with
`refund.updated` and `charge.refund.updated`). The order's figures stop counting it, the owner
reads on the order's page that the customer did not get the money and what to do, and the
admin gets one `refund_failed` discrepancy however many of those events arrive."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest
import stripe
from arq.connections import ArqRedis
from litestar import Litestar

from app.orders.tables import OrderRefund
from app.settings import get_settings
from app.templating import format_money
from tests.helpers.accounts import login, staff_session
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import (
    accepted_order,
    discrepancy_kinds,
    emails_of,
    events_about,
    post_event,
    refund_in_full,
    refund_items,
    refunds_in_stripe,
    reload,
)
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email

REFUND_EVENTS = {"charge.refund.updated", "refund.updated", "refund.failed"}
TIMES = "\N{MULTIPLICATION SIGN}"


@pytest.fixture
async def kitchen_screen(app: Litestar, client: httpx.AsyncClient
                         ) -> AsyncIterator[httpx.AsyncClient]:
    """The kitchen's own session, next to the admin's (`client` runs the app)."""
    async with staff_session(app, "kitchen@demo.test") as screen:
        yield screen


async def test_a_refund_the_bank_returns_is_no_refund_and_the_owner_is_told(
        app: Litestar, client: httpx.AsyncClient, sandbox: RunningSandbox,
        sdk: stripe.StripeClient, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    await refund_in_full(client, order.public_id)
    refunded = await reload(order.public_id)
    assert (refunded.status, refunded.amount_refunded) == ("refunded", order.amount_charged)
    [refund] = refunds_in_stripe(sdk, order)

    failed = sandbox.fail_refund(str(refund.id))  # weeks later: the card was cancelled
    assert (failed["status"], failed["failure_reason"]) == ("failed",
                                                            "expired_or_canceled_card")
    events = events_about(sandbox, REFUND_EVENTS, str(refund.id))
    assert sorted(event["type"] for event in events) == sorted(REFUND_EVENTS)
    outcomes = [await post_event(client, event) for event in events]
    assert outcomes[0] == "refund_failed" and set(outcomes[1:]) == {"refund_failure_known"}
    assert await post_event(client, events[-1]) == "refund_failure_known"  # redelivered

    after = await reload(order.public_id)
    assert after.amount_refunded == 0  # the money is with the restaurant again
    assert await OrderRefund.count().where(OrderRefund.paid_order == order.id) == 0
    assert (await discrepancy_kinds(order.public_id)).count("refund_failed") == 1
    queue = html.unescape((await client.get("/admin/discrepancies")).text)
    assert "refund failed" in queue and "did not reach the customer" in queue

    async with staff_session(app, "owner@demo.test") as owner:
        page = html.unescape(" ".join((await owner.get(
            f"/manage/demo/orders/{order.public_id}")).text.split()))
    money = format_money(order.amount_charged, order.currency)
    assert (f"A refund of {money} did not reach the customer: the card has expired or was "
            "cancelled") in page, page
    assert "The money is back in your Stripe balance" in page
    assert "ada@example.com" in page and "pay them back another way" in page
    assert 'data-refunded="0"' in page  # the figures say what went back: nothing

    # The diner, told "refunded" before, is told it did not arrive: on the status page and
    # by email, once for this refund however many events said so.
    status = html.unescape(" ".join((await client.get(
        f"/orders/{order.public_id}")).text.split()))
    assert "Your refund did not reach your card" in status, status
    assert (f"Your bank sent back the refund of {money} to your card. Demo Bistro will "
            "contact you to pay you back another way.") in status
    assert "has been refunded in full" not in status
    keys = [key for key in await emails_of(order.public_id) if "refund_returned" in key]
    assert len(keys) == 1, keys
    sent = await send_email({"redis": redis, "job_try": 1, "settings": get_settings(
        ).model_copy(update={"resend_api_url": sandbox.url})}, "refund_returned",
        order.public_id, keys[0])
    assert sent.startswith("sent"), sent
    [mail] = [m for m in sandbox.messages(to="ada@example.com")
              if "did not reach your card" in m["subject"]]
    assert mail["subject"] == (f"Your refund for order #{order.ticket_number} at Demo Bistro "
                               "did not reach your card")
    assert f"your bank sent back the refund of {money}" in mail["text"]
    assert "will contact you to pay you back another way" in mail["text"]
    # The refund's own email, had it not gone out yet, would now say "refunded": not sent.
    refunded = [key for key in await emails_of(order.public_id) if "order_refunded" in key]
    assert refunded, await emails_of(order.public_id)
    late = await send_email({"redis": redis, "job_try": 1, "settings": get_settings(
        ).model_copy(update={"resend_api_url": sandbox.url})}, "order_refunded",
        order.public_id, refunded[0])
    assert late == "skipped: its refund was returned by the customer's bank", late


async def test_a_refund_the_bank_still_honours_changes_nothing(
        client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient) -> None:
    """`refund.updated` for a refund that went through (Stripe sends it for other changes
    too) forgets nothing and tells no one."""
    order = await paid_order_via_sandbox(client, sandbox)
    await refund_in_full(client, order.public_id)
    [refund] = refunds_in_stripe(sdk, order)
    event = events_about(sandbox, {"refund.created"}, str(refund.id))[-1]
    event = {**event, "type": "refund.updated"}  # as Stripe would send it for a metadata edit
    assert await post_event(client, event) == "refunds_unchanged"
    assert (await reload(order.public_id)).amount_refunded == order.amount_charged
    assert "refund_failed" not in await discrepancy_kinds(order.public_id)


def _all_day(board: str) -> dict[str, int]:
    section = board.split('class="all-day"')[1].split("</section>")[0]
    return {name.strip(): int(count) for count, name in re.findall(
        r'<span class="count">(\d+)</span>([^<]+)</li>', section)}


async def test_items_refunded_on_the_board_stay_off_it_when_the_bank_returns_the_refund(
        client: httpx.AsyncClient, kitchen_screen: httpx.AsyncClient,
        sandbox: RunningSandbox, sdk: stripe.StripeClient, redis: ArqRedis) -> None:
    """The owner refunded one dish of a ticket being cooked: the cook was told not to make
    it. The bank sending that refund back is the customer's money, not the kitchen's work:
    the dish stays struck off the card and out of the "all day" count."""
    order, items = await accepted_order(client, sandbox, redis)
    token = await login(client, "admin@orderpass.test")
    await refund_items(client, token, order.public_id, {items[1].id: 1})
    dish = items[1].name

    def card_of(board: str) -> str:
        return board.split(f'id="card-{order.public_id}"')[1].split("</article>")[0]

    before = (await kitchen_screen.get("/kitchen/demo/board")).text
    assert f"1{TIMES} {dish}" in card_of(before) and "do not make these" in card_of(before)
    [refund] = refunds_in_stripe(sdk, order)
    sandbox.fail_refund(str(refund.id))
    outcomes = [await post_event(client, event)
                for event in events_about(sandbox, REFUND_EVENTS, str(refund.id))]
    assert "refund_failed" in outcomes, outcomes
    assert (await reload(order.public_id)).amount_refunded == 0

    after = (await kitchen_screen.get("/kitchen/demo/board")).text
    card = " ".join(card_of(after).split())
    assert f"Taken off the order: 1{TIMES} {dish}" in card, card
    assert "do not make these" in card and "Refunded" not in card, card
    assert re.search(rf'data-left="0">\s*<s><span class="qty">0{TIMES}</span>', card), card
    assert _all_day(after).get(dish, 0) == _all_day(before).get(dish, 0), (
        _all_day(before), _all_day(after))
    printed = " ".join((await kitchen_screen.get(
        f"/kitchen/demo/orders/{order.public_id}/ticket")).text.split())
    assert f"{dish}</s> (1 ordered, 1 refunded: do not make)" in printed, printed
