"""After a refund of some items, everyone who acts on the order learns of it: the diner is
emailed again when the rest follows (once, whatever is repeated), each email telling its own
refund even when a later one was made before it went out, when several made in Stripe arrive
in one event (one email each, none again on redelivery) and when the admin resends it from
the email log; the kitchen's ticket shows what was
refunded (live, and on the printed ticket) and a whole refund of a ticket being cooked leaves
a notice until acknowledged; `GET /api/orders/{id}` says how much was refunded. "Refund
everything" refunds nothing until its confirmation is ticked."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import stripe
from arq.connections import ArqRedis
from litestar import Litestar

from app.notifications.tables import EmailMessage
from app.orders import lifecycle
from app.orders.tables import OrderRefund, PaidOrder
from app.templating import format_money
from tests.helpers.accounts import login, staff_session
from tests.helpers.kitchen_listener import KitchenListener
from tests.helpers.payments import (
    accepted_order,
    email_received,
    emails_of,
    events_about,
    post_event,
    refund_in_full,
    refund_items,
    reload,
)
from tests.helpers.sandbox import RunningSandbox

ADMIN = "admin@orderpass.test"
TIMES = "\N{MULTIPLICATION SIGN}"


@pytest.fixture
async def kitchen(app: Litestar, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A kitchen screen's own session, next to the admin's (`client` runs the app)."""
    async with staff_session(app, "kitchen@demo.test") as screen:
        yield screen


async def _send(redis: ArqRedis, sandbox: RunningSandbox, ref: str, key: str) -> dict[str, Any]:
    """Send the email row `key` through the sandbox's Resend; returns the message sent."""
    extra = [] if key == f"order_refunded/{ref}" else [key]
    return await email_received(redis, sandbox, "order_refunded", ref, *extra)


def _money(amount: int) -> str:
    return format_money(amount, "EUR")


async def test_the_rest_refunded_after_a_partial_refund_is_emailed_once(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order, items = await accepted_order(client, sandbox, redis)
    ref, total = order.public_id, order.amount_charged
    token = await login(client, ADMIN)
    part = await refund_items(client, token, ref, {items[0].id: 1})
    refund_keys = [key for key in await emails_of(ref) if key.startswith("order_refunded/")]
    assert refund_keys == [f"order_refunded/{ref}"]
    first = await _send(redis, sandbox, ref, refund_keys[0])
    assert _money(part) in first["text"]
    assert f"({_money(total - part)} stays charged)" in first["text"]
    assert "(Pizza burnt)" in first["text"]  # the reason the form says the diner is shown
    assert "(Pizza burnt)" in (await client.get(f"/orders/{ref}")).text

    whole = await client.post(f"/admin/orders/{ref}/refund",
                              data={"_csrf_token": token, "reason": "kitchen closed",
                                    "confirm": "yes"}, follow_redirects=False)
    assert whole.status_code == 303, whole.text
    assert (await reload(ref)).status == "refunded"
    # A double submit and Stripe's events (and their replays) tell nobody twice.
    again = await client.post(f"/admin/orders/{ref}/refund",
                              data={"_csrf_token": token, "reason": "kitchen closed",
                                    "confirm": "yes"})
    assert again.status_code == 409
    for event in events_about(sandbox, {"charge.refunded"}, str(order.stripe_payment_intent_id)):
        for _ in range(2):
            await post_event(client, event)
    refund_keys = [key for key in await emails_of(ref) if key.startswith("order_refunded/")]
    assert refund_keys == [f"order_refunded/{ref}", f"order_refunded/{ref}/rest"]
    second = await _send(redis, sandbox, ref, refund_keys[1])
    assert second["id"] != first["id"]
    text = " ".join(second["text"].split())
    assert f"the remaining {_money(total - part)}" in text, text
    assert "nothing stays charged" in text and f"{_money(total)} in all" in text, text


async def test_the_kitchen_ticket_shows_what_was_refunded_live(
    client: httpx.AsyncClient, kitchen: httpx.AsyncClient, sandbox: RunningSandbox,
    redis: ArqRedis
) -> None:
    order, items = await accepted_order(client, sandbox, redis)
    ref = order.public_id
    token = await login(client, ADMIN)
    async with KitchenListener(redis) as screens:
        part = await refund_items(client, token, ref, {items[0].id: 1, items[1].id: 1})
        assert ref in [event["order_ref"] for event in await screens.events()]
    board = (await kitchen.get("/kitchen/demo/board")).text
    card = board.split(f'id="card-{ref}"')[1].split("</article>")[0]
    assert (f"Refunded {_money(part)}: 1{TIMES} {items[0].name}, 1{TIMES} {items[1].name}"
            in card), card
    # What is left to cook: one of the two, none of the other, each line marked.
    assert re.search(rf'data-left="1">\s*<span class="qty">1{TIMES}</span>', card), card
    assert re.search(rf'data-left="0">\s*<s><span class="qty">0{TIMES}</span>', card), card
    assert card.count("1 refunded") == 2, card


async def test_a_whole_refund_of_a_ticket_being_cooked_leaves_a_notice(
    client: httpx.AsyncClient, kitchen: httpx.AsyncClient, sandbox: RunningSandbox,
    redis: ArqRedis
) -> None:
    order, _items = await accepted_order(client, sandbox, redis)
    ref, number = order.public_id, order.ticket_number
    await lifecycle.apply_action(ref, "start", actor="kitchen@demo.test", redis=redis)
    await refund_in_full(client, ref)
    board = (await kitchen.get("/kitchen/demo/board")).text
    assert f'id="card-{ref}"' not in board
    assert f"#{number} refunded by the restaurant" in board, board
    assert f"{_money(order.amount_charged)} back to the customer: stop preparing it" in board
    csrf = kitchen.cookies["csrftoken"]
    done = await kitchen.post(f"/kitchen/demo/notices/{ref}/acknowledge",
                              data={"_csrf_token": csrf}, headers={"hx-request": "true"})
    assert done.status_code == 200, done.text
    assert f"#{number} refunded by the restaurant" not in (
        await kitchen.get("/kitchen/demo/board")).text


async def test_a_whole_refund_of_a_ready_ticket_says_not_to_hand_it_over(
    client: httpx.AsyncClient, kitchen: httpx.AsyncClient, sandbox: RunningSandbox,
    redis: ArqRedis
) -> None:
    """Cooked and waiting at the pass: "stop preparing it" was too late to be the order; the
    notice says not to hand it over."""
    order, _items = await accepted_order(client, sandbox, redis)
    ref, number = order.public_id, order.ticket_number
    for action in ("start", "ready"):
        await lifecycle.apply_action(ref, action, actor="kitchen@demo.test", redis=redis)
    await refund_in_full(client, ref)
    board = (await kitchen.get("/kitchen/demo/board")).text
    assert f"#{number} refunded by the restaurant" in board, board
    assert (f"{_money(order.amount_charged)} back to the customer: it is ready, "
            "do not hand it over" in board), board
    assert "stop preparing" not in board


async def test_the_api_says_how_much_was_refunded(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order, items = await accepted_order(client, sandbox, redis)
    ref = order.public_id
    assert (await client.get(f"/api/orders/{ref}")).json()["refunded_amount"] == 0
    token = await login(client, ADMIN)
    part = await refund_items(client, token, ref, {items[0].id: 1})
    body = (await client.get(f"/api/orders/{ref}")).json()
    assert (body["status"], body["refunded_amount"]) == ("accepted", part)


async def test_each_refund_email_tells_its_own_refund(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    """Two refunds made before the worker sends the first one's email: each email still
    tells its own refund, and what stayed charged right after it."""
    order, items = await accepted_order(client, sandbox, redis)
    ref, total = order.public_id, order.amount_charged
    token = await login(client, ADMIN)
    first_part = await refund_items(client, token, ref, {items[0].id: 1})
    second_part = await refund_items(client, token, ref, {items[1].id: 1})
    keys = [key for key in await emails_of(ref) if key.startswith("order_refunded/")]
    assert keys == [f"order_refunded/{ref}", f"order_refunded/{ref}/resend-1"], keys

    first = " ".join((await _send(redis, sandbox, ref, keys[0]))["text"].split())
    assert (f"has refunded {_money(first_part)} of your {_money(total)} payment "
            f"({_money(total - first_part)} stays charged)") in first, first
    assert f"- {_money(first_part)}: 1 x {items[0].name} (Pizza burnt)" in first, first
    assert f": 1 x {items[1].name} (Pizza burnt)" not in first, first
    assert f"refunded {_money(first_part + second_part)}" not in first, first

    second = " ".join((await _send(redis, sandbox, ref, keys[1]))["text"].split())
    assert (f"has refunded a further {_money(second_part)} of your {_money(total)} payment: "
            f"{_money(first_part + second_part)} in all "
            f"({_money(total - first_part - second_part)} stays charged)") in second, second
    assert f"- {_money(second_part)}: 1 x {items[1].name} (Pizza burnt)" in second, second
    assert f": 1 x {items[0].name} (Pizza burnt)" not in second, second


async def test_the_printed_ticket_shows_what_was_refunded(
    client: httpx.AsyncClient, kitchen: httpx.AsyncClient, sandbox: RunningSandbox,
    redis: ArqRedis
) -> None:
    order, items = await accepted_order(client, sandbox, redis)
    ref, total = order.public_id, order.amount_charged
    token = await login(client, ADMIN)
    part = await refund_items(client, token, ref, {items[0].id: 1, items[1].id: 1})
    ticket = await kitchen.get(f"/kitchen/demo/orders/{ref}/ticket")
    assert ticket.status_code == 200, ticket.text
    text = " ".join(ticket.text.split())
    assert (f"Refunded {_money(part)}: 1{TIMES} {items[0].name}, 1{TIMES} {items[1].name}"
            in text), text
    # One of the two is left to make; the other line is struck through, not to be made.
    assert re.search(rf'<li class="line-refunded" data-left="1"><strong>1{TIMES}</strong> '
                     rf"{re.escape(items[0].name)}"
                     r" \(2 ordered, 1 refunded\)", text), text
    assert re.search(rf'<li class="line-refunded" data-left="0"><s><strong>0{TIMES}</strong> '
                     rf"{re.escape(items[1].name)}</s> \(1 ordered, 1 refunded: do not make\)",
                     text), text
    # The money: what stays charged, not the whole total as if nothing was refunded.
    assert (f"{_money(total - part)} charged ({_money(part)} of {_money(total)} refunded)"
            in text), text


async def test_refund_everything_needs_its_confirmation(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order, _items = await accepted_order(client, sandbox, redis)
    ref, total = order.public_id, order.amount_charged
    token = await login(client, "owner@demo.test")
    url = f"/manage/demo/orders/{ref}"
    page = (await client.get(url)).text
    form = page.split('class="admin-form refund-form"')[1].split("</form>")[0]
    assert re.search(r'<input type="checkbox" id="refund-confirm" name="confirm" value="yes" '
                     r"required>", form), form
    assert f"give the customer {_money(total)} back" in form and "This cannot be undone" in form

    # Sent without its confirmation (no browser to enforce `required`): nothing is refunded.
    unconfirmed = await client.post(f"{url}/refund", data={"_csrf_token": token,
                                                             "reason": "sorry"})
    assert unconfirmed.status_code == 422, unconfirmed.text
    assert "Nothing was refunded" in unconfirmed.text
    for wrong in ("", "no", "on "):
        refused = await client.post(f"{url}/refund", data={"_csrf_token": token,
                                                            "confirm": wrong})
        assert refused.status_code == 422, refused.text
    after = await reload(ref)
    assert (after.status, after.amount_refunded) == ("accepted", 0)
    assert not await OrderRefund.select().where(OrderRefund.paid_order == order.id)
    assert not [event for event in events_about(sandbox, {"charge.refunded"},
                                                str(order.stripe_payment_intent_id))]

    confirmed = await client.post(f"{url}/refund", data={
        "_csrf_token": token, "reason": "sorry", "confirm": "yes"}, follow_redirects=False)
    assert confirmed.status_code == 303, confirmed.text
    final = await reload(ref)
    assert (final.status, final.amount_refunded) == ("refunded", total)


def _said(message: dict[str, Any]) -> str:
    return " ".join(message["text"].split())


async def _refund_keys(ref: str) -> list[str]:
    return [key for key in await emails_of(ref) if key.startswith("order_refunded/")]


async def _two_refund_emails(redis: ArqRedis, sandbox: RunningSandbox, ref: str) -> list[str]:
    """The order's two refund emails, in the order they were queued, as the diner reads them."""
    keys = await _refund_keys(ref)
    assert len(keys) == 2, keys
    return [_said(await _send(redis, sandbox, ref, key)) for key in keys]


def _assert_part_then_rest(told: list[str], total: int, part: int) -> None:
    """The first email tells a part refund of `part`, the second the rest of `total`."""
    assert (f"has refunded {_money(part)} of your {_money(total)} payment "
            f"({_money(total - part)} stays charged)") in told[0], told[0]
    assert (f"has refunded the remaining {_money(total - part)} of your {_money(total)} "
            f"payment: {_money(total)} in all, nothing stays charged") in told[1], told[1]


async def _deliver_refund_events(client: httpx.AsyncClient, sandbox: RunningSandbox,
                                 order: PaidOrder) -> None:
    """Stripe's `charge.refunded` events for the order, the newest first (the older one's
    delivery came late: the first handled already sees every refund), then each again."""
    events = events_about(sandbox, {"charge.refunded"}, str(order.stripe_payment_intent_id))
    assert len(events) >= 2, events
    for event in [*reversed(events), *events]:
        await post_event(client, event)


async def test_partial_refunds_made_together_in_stripe_are_each_emailed_once(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis
) -> None:
    """Two refunds made in Stripe's dashboard before its first event is handled: one email
    for each, each telling its own refund, and Stripe's redeliveries send none again."""
    order, _items = await accepted_order(client, sandbox, redis)
    ref, total, intent = order.public_id, order.amount_charged, order.stripe_payment_intent_id
    sdk.v1.refunds.create(params={"payment_intent": str(intent), "amount": 300})
    sdk.v1.refunds.create(params={"payment_intent": str(intent), "amount": 200})
    await _deliver_refund_events(client, sandbox, order)
    assert (await reload(ref)).amount_refunded == 500
    first, second = await _two_refund_emails(redis, sandbox, ref)
    assert (f"has refunded {_money(300)} of your {_money(total)} payment "
            f"({_money(total - 300)} stays charged)") in first, first
    assert (f"has refunded a further {_money(200)} of your {_money(total)} payment: "
            f"{_money(500)} in all ({_money(total - 500)} stays charged)") in second, second


async def test_a_partial_and_the_rest_refunded_together_in_stripe_are_each_emailed_once(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis
) -> None:
    """A part, then the rest, refunded in Stripe's dashboard before its first event is
    handled: the part's email tells the part; the full refund's tells the rest, not the
    part (nor whichever refund was recorded last)."""
    order, _items = await accepted_order(client, sandbox, redis)
    ref, total, intent = order.public_id, order.amount_charged, order.stripe_payment_intent_id
    sdk.v1.refunds.create(params={"payment_intent": str(intent), "amount": 300})
    sdk.v1.refunds.create(params={"payment_intent": str(intent)})
    await _deliver_refund_events(client, sandbox, order)
    assert (await reload(ref)).status == "refunded"
    _assert_part_then_rest(await _two_refund_emails(redis, sandbox, ref), total, 300)


async def _resend_from_the_log(client: httpx.AsyncClient, ref: str, key: str) -> str:
    """The admin presses "Resend" on the email log's row of `key`; returns the new key."""
    row = await EmailMessage.select(EmailMessage.id).where(
        EmailMessage.idempotency_key == key).first()
    assert row is not None
    page = (await client.get("/admin/emails", params={"q": ref})).text
    form = page.split(f'id="email-{row["id"]}"')[1].split("</form>")[0]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    before = set(await emails_of(ref))
    done = await client.post("/admin/emails/resend", data=fields, follow_redirects=False)
    assert done.status_code == 303, done.text
    [new] = [k for k in await emails_of(ref) if k not in before]
    return new


async def test_a_resent_refund_email_tells_the_same_refund(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    """After a part and then the rest were refunded, the admin resends each refund's email
    from the email log: each resend tells the refund its email told, not the latest."""
    order, items = await accepted_order(client, sandbox, redis)
    ref, total = order.public_id, order.amount_charged
    token = await login(client, ADMIN)
    part = await refund_items(client, token, ref, {items[0].id: 1})
    whole = await client.post(f"/admin/orders/{ref}/refund", data={
        "_csrf_token": token, "confirm": "yes"}, follow_redirects=False)
    assert whole.status_code == 303, whole.text
    first_key, rest_key = await _refund_keys(ref)

    again = _said(await _send(redis, sandbox, ref, await _resend_from_the_log(
        client, ref, first_key)))
    assert (f"has refunded {_money(part)} of your {_money(total)} payment "
            f"({_money(total - part)} stays charged)") in again, again
    assert "nothing stays charged" not in again, again
    rest_again = _said(await _send(redis, sandbox, ref, await _resend_from_the_log(
        client, ref, rest_key)))
    assert f"has refunded the remaining {_money(total - part)}" in rest_again, rest_again


async def test_a_resend_naming_a_wrong_email_is_refused(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    order, items = await accepted_order(client, sandbox, redis)
    other, _ = await accepted_order(client, sandbox, redis)
    ref = order.public_id
    token = await login(client, ADMIN)
    await refund_items(client, token, ref, {items[0].id: 1})
    [key] = await _refund_keys(ref)
    row = await EmailMessage.select(EmailMessage.id).where(
        EmailMessage.idempotency_key == key).first()
    assert row is not None
    before = await EmailMessage.count()
    for email, about, kind, status in (
            ("abc", ref, "order_refunded", 400), ("-1", ref, "order_refunded", 400),
            ("99999999999999999999", ref, "order_refunded", 400),
            (str(row["id"]), other.public_id, "order_refunded", 404),
            (str(row["id"]), ref, "payment_received", 404),
            ("2147483000", ref, "order_refunded", 404)):
        refused = await client.post("/admin/emails/resend", headers={"hx-request": "true"},
                                    data={"_csrf_token": token, "order_ref": about,
                                          "kind": kind, "email": email})
        assert refused.status_code == status, (email, about, kind, refused.text)
    assert await EmailMessage.count() == before  # nothing queued


async def test_a_dashboard_refund_before_refund_everything_is_emailed_on_its_own(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis
) -> None:
    """A part refunded in Stripe's dashboard, its `charge.refunded` not handled yet, then the
    admin's "Refund everything" gives back the rest: the diner is told each refund once (the
    dashboard's, then the admin's), the amounts adding up to the payment, whatever Stripe's
    events (late, repeated) or the admin's double submit do afterwards."""
    order, _items = await accepted_order(client, sandbox, redis)
    ref, total, intent = order.public_id, order.amount_charged, order.stripe_payment_intent_id
    sdk.v1.refunds.create(params={"payment_intent": str(intent), "amount": 300})
    token = await login(client, ADMIN)
    whole = await client.post(f"/admin/orders/{ref}/refund", data={
        "_csrf_token": token, "reason": "kitchen closed", "confirm": "yes"},
        follow_redirects=False)
    assert whole.status_code == 303, whole.text
    again = await client.post(f"/admin/orders/{ref}/refund", data={
        "_csrf_token": token, "reason": "kitchen closed", "confirm": "yes"})
    assert again.status_code == 409
    await _deliver_refund_events(client, sandbox, order)
    final = await reload(ref)
    assert (final.status, final.amount_refunded) == ("refunded", total)
    refunds = sdk.v1.refunds.list(params={"payment_intent": str(intent)}).data
    assert sorted(refund.amount for refund in refunds) == sorted([300, total - 300])
    _assert_part_then_rest(await _two_refund_emails(redis, sandbox, ref), total, 300)
    assert len(sandbox.messages(to="ada@example.com")) == len(
        {message["id"] for message in sandbox.messages(to="ada@example.com")})


async def test_a_dashboard_refund_recorded_after_refund_everything_gets_its_own_email(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis
) -> None:
    """As above, but Stripe cannot be read when the admin refunds everything (the refund
    itself goes through): the dashboard's refund is recorded by its event, after the order
    is refunded, and is emailed then, once; the admin's refund is not emailed again."""
    order, _items = await accepted_order(client, sandbox, redis)
    ref, total, intent = order.public_id, order.amount_charged, order.stripe_payment_intent_id
    sdk.v1.refunds.create(params={"payment_intent": str(intent), "amount": 300})
    token = await login(client, ADMIN)
    sandbox.api_faults(service="stripe", status=500, count=3)  # the look at its refunds
    whole = await client.post(f"/admin/orders/{ref}/refund", data={
        "_csrf_token": token, "confirm": "yes"}, follow_redirects=False)
    assert whole.status_code == 303, whole.text
    assert ((await reload(ref)).status, (await reload(ref)).amount_refunded) == (
        "refunded", total - 300)
    [admins] = await _refund_keys(ref)
    await _deliver_refund_events(client, sandbox, order)
    assert (await reload(ref)).amount_refunded == total
    assert (await _refund_keys(ref))[0] == admins
    told = await _two_refund_emails(redis, sandbox, ref)
    assert f"has refunded {_money(total - 300)} of your {_money(total)} payment" in told[0]
    assert (f"has refunded the remaining {_money(300)} of your {_money(total)} payment: "
            f"{_money(total)} in all, nothing stays charged") in told[1], told[1]
