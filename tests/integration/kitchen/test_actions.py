"""Kitchen actions through HTTP and the lifecycle service: transitions, optimistic locking,
money (capture / refund / void of real orders paid on the sandbox's Stripe, through the app's
own StripeGateway), emails (real queued arq jobs), recall, auto-reject."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from arq.connections import ArqRedis
from litestar import Litestar

from app.orders import lifecycle
from app.orders.tables import OrderItem, PaidOrder
from app.payments import partial_refunds
from app.payments.stripe_gateway import get_gateway
from app.platform.tables import Outbox
from app.restaurants.tables import Restaurant
from app.settings import get_settings
from app.templating import format_money
from tests.helpers.accounts import login, staff_session
from tests.helpers.orders import make_paid_order, paid_order_via_sandbox
from tests.helpers.sandbox import RunningSandbox, stripe_client
from workers.email_jobs import send_email

HX = {"hx-request": "true"}


async def act(client: httpx.AsyncClient, token: str, ref: str, action: str,
              **form: str) -> httpx.Response:
    return await client.post(f"/kitchen/demo/orders/{ref}/{action}",
                             data={"_csrf_token": token, **form}, headers=HX)


async def reload(ref: str) -> PaidOrder:
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None
    return order


async def lifecycle_emails(redis: ArqRedis) -> list[str]:
    """Queued email jobs about kitchen actions (`email:<kind>:<ref>`), sorted."""
    return sorted(job.job_id for job in await redis.queued_jobs()
                  if job.job_id and job.job_id.startswith(("email:order_ready:",
                                                           "email:order_rejected:")))


def intent_of(order: PaidOrder) -> str:
    assert order.stripe_payment_intent_id
    return order.stripe_payment_intent_id


def intent_status(sandbox: RunningSandbox, order: PaidOrder) -> str:
    return str(stripe_client(sandbox.url).v1.payment_intents.retrieve(intent_of(order)).status)


def refunds(sandbox: RunningSandbox, order: PaidOrder) -> list[tuple[int, str]]:
    """(amount, status) of every refund Stripe holds for the order's payment (read from the
    PaymentIntent's charge, as the sandbox has no refund list endpoint)."""
    stripe = stripe_client(sandbox.url)
    charge_id = stripe.v1.payment_intents.retrieve(intent_of(order)).latest_charge
    if charge_id is None:
        return []
    listed = stripe.v1.charges.retrieve(str(charge_id)).refunds
    return [(refund.amount, str(refund.status)) for refund in (listed.data if listed else [])]


async def test_happy_path_sets_each_timestamp_and_returns_the_card(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    token = await login(client, "kitchen@demo.test")
    ref = order.public_id
    response = await act(client, token, ref, "accept", prep_minutes="20")
    assert response.status_code == 200
    assert f'id="card-{ref}"' in response.text and "status-accepted" in response.text
    accepted = await reload(ref)
    assert accepted.status == "accepted" and accepted.prep_minutes == 20
    assert accepted.accepted_at is not None and accepted.promised_at is not None
    assert accepted.promised_at - accepted.accepted_at == timedelta(minutes=20)
    assert accepted.version == order.version + 1
    assert (await act(client, token, ref, "start")).status_code == 200
    assert (await reload(ref)).preparing_at is not None
    assert await lifecycle_emails(redis) == []
    assert (await act(client, token, ref, "ready")).status_code == 200
    assert (await reload(ref)).ready_at is not None
    assert await lifecycle_emails(redis) == [f"email:order_ready:{ref}"]
    done = await act(client, token, ref, "complete")
    assert done.status_code == 200 and done.text == ""  # the card leaves the board
    completed = await reload(ref)
    assert completed.status == "completed" and completed.completed_at is not None
    assert completed.version == order.version + 4
    # Every change promised the kitchen an event in its own transaction; all delivered.
    kitchen = await Outbox.select(Outbox.dedupe_key, Outbox.status).where(
        Outbox.dedupe_key.like(f"kitchen:{ref}:v%"))
    assert sorted((row["dedupe_key"], row["status"]) for row in kitchen) == [
        (f"kitchen:{ref}:v{order.version + step}", "done") for step in range(1, 5)]
    assert intent_status(sandbox, order) == "succeeded" and refunds(sandbox, order) == []


async def test_accept_without_prep_uses_the_restaurant_default(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "kitchen@demo.test")
    order = await make_paid_order()
    assert (await act(client, token, order.public_id, "accept")).status_code == 200
    assert (await reload(order.public_id)).prep_minutes == 15
    other = await make_paid_order()
    bad = await act(client, token, other.public_id, "accept", prep_minutes="999")
    assert bad.status_code == 400
    assert (await reload(other.public_id)).status == "paid"


async def test_illegal_transitions_are_refused_with_409(client: httpx.AsyncClient) -> None:
    token = await login(client, "kitchen@demo.test")
    order = await make_paid_order()
    for action in ("start", "ready", "complete", "recall"):
        response = await act(client, token, order.public_id, action)
        assert response.status_code == 409, action
        assert "cannot" in response.json()["detail"] or "recalled" in response.json()["detail"]
    assert (await act(client, token, order.public_id, "explode")).status_code == 404
    assert (await reload(order.public_id)).status == "paid"


async def test_two_screens_accepting_at_once_resolve_to_one_result(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    results = await asyncio.gather(
        *(lifecycle.apply_action(order.public_id, "accept", actor=f"screen{i}",
                                 prep_minutes=10 + i) for i in range(2)),
        return_exceptions=True)
    wins = [r for r in results if isinstance(r, PaidOrder)]
    losses = [r for r in results if isinstance(r, lifecycle.IllegalTransition)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "accepted" in str(losses[0])
    final = await reload(order.public_id)
    assert final.status == "accepted" and final.version == order.version + 1
    assert final.prep_minutes == wins[0].prep_minutes


async def test_a_twin_reject_says_the_order_is_rejected_now(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """A second press (or another screen's) without the status it saw: the cook reads what the
    order is now, by its ticket, not "cannot reject an order that is rejected"."""
    order = await paid_order_via_sandbox(client, sandbox)
    token = await login(client, "kitchen@demo.test")
    assert (await act(client, token, order.public_id, "reject", reason="x")).status_code == 200
    status = (await reload(order.public_id)).status
    again = await act(client, token, order.public_id, "reject", reason="x")
    assert again.status_code == 409
    assert again.json()["detail"] == (f"cannot reject order #{order.ticket_number}: it is "
                                      f"{status} now; nothing was done")
    assert refunds(sandbox, order) == [(order.amount_charged, "succeeded")]


async def test_two_screens_accept_and_reject_at_once(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    results = await asyncio.gather(  # both screens showed the order as paid
        lifecycle.apply_action(order.public_id, "accept", actor="a", expected_status="paid"),
        lifecycle.apply_action(order.public_id, "reject", actor="b", reason="closed",
                               expected_status="paid"),
        return_exceptions=True)
    assert sum(isinstance(r, PaidOrder) for r in results) == 1, results
    final = await reload(order.public_id)
    assert final.status in ("accepted", "refunded")
    # Money moved back exactly when the reject won.
    expected = [(order.amount_charged, "succeeded")] if final.status == "refunded" else []
    assert refunds(sandbox, order) == expected


async def test_reject_refunds_and_ends_refunded(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    token = await login(client, "kitchen@demo.test")
    response = await act(client, token, order.public_id, "reject", reason="Out of dough")
    assert response.status_code == 200 and response.text == ""
    final = await reload(order.public_id)
    assert final.status == "refunded"
    assert final.reject_reason == "Out of dough"
    assert final.rejected_at is not None and final.refunded_at is not None
    assert refunds(sandbox, order) == [(order.amount_charged, "succeeded")]
    assert await lifecycle_emails(redis) == [f"email:order_rejected:{order.public_id}"]


async def test_failed_refund_leaves_rejected_flagged_then_retry_settles(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    # Stripe answers 500 to every attempt the gateway makes (its own retries included).
    sandbox.api_faults(service="stripe", status=500, count=get_gateway().attempts)
    result = await lifecycle.apply_action(order.public_id, "reject", actor="t", reason="x")
    assert result.status == "rejected"
    assert result.needs_review and result.review_reason.startswith("refund failed")
    assert refunds(sandbox, order) == []
    # The customer is told once the money is back, so the email can say what happened.
    assert await lifecycle_emails(redis) == []
    settled = await lifecycle.retry_failed_refunds(older_than=timedelta(0))
    assert settled == [order.public_id]
    final = await reload(order.public_id)
    assert final.status == "refunded" and not final.needs_review
    assert await lifecycle_emails(redis) == [f"email:order_rejected:{order.public_id}"]
    # Exactly one refund: the retry reused the idempotency key `refund/<ref>`.
    assert refunds(sandbox, order) == [(order.amount_charged, "succeeded")]
    assert await lifecycle.retry_failed_refunds(older_than=timedelta(0)) == []
    assert refunds(sandbox, order) == [(order.amount_charged, "succeeded")]


async def test_manual_capture_accept_captures_first(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    assert order.capture_mode == "manual"
    assert intent_status(sandbox, order) == "requires_capture"
    token = await login(client, "kitchen@demo.test")
    # The ticket says the card is only held (nothing charged yet), not "paid".
    assert _status_label(await client.get("/kitchen/demo"), order) == "card held"
    printout = (await client.get(f"/kitchen/demo/orders/{order.public_id}/ticket")).text
    assert "Card held " in printout and "Paid " not in printout
    assert (await act(client, token, order.public_id, "accept")).status_code == 200
    assert intent_status(sandbox, order) == "succeeded"
    assert (await reload(order.public_id)).status == "accepted"
    assert _status_label(await client.get("/kitchen/demo"), order) == "accepted"


def _status_label(board: httpx.Response, order: PaidOrder) -> str:
    card = board.text.split(f'id="card-{order.public_id}"', 1)[1]
    return card.split('<span class="status-label">', 1)[1].split("</span>", 1)[0]


async def test_manual_capture_failure_fails_the_accept_clearly(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    token = await login(client, "kitchen@demo.test")
    sandbox.api_faults(service="stripe", status=500, count=get_gateway().attempts)
    response = await act(client, token, order.public_id, "accept")
    assert response.status_code == 502
    assert "capturing the payment failed" in response.json()["detail"]
    unchanged = await reload(order.public_id)
    assert unchanged.status == "paid" and unchanged.version == order.version
    assert intent_status(sandbox, order) == "requires_capture"  # the hold is untouched


async def test_a_capture_whose_answer_is_lost_does_not_say_the_card_was_not_charged(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """Stripe captured, its answer was lost and so was the read-back (an outside try:
    "the order is unchanged" while the diner had been charged). The cook is told the card
    may be charged and what to do; pressing Accept again settles it without a second
    charge."""
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    token = await login(client, "kitchen@demo.test")
    sandbox.api_faults(service="stripe", status=500, count=50, after_execute=True)
    response = await act(client, token, order.public_id, "accept")
    assert response.status_code == 502
    detail = response.json()["detail"]
    assert "Stripe did not say whether the card was charged" in detail, detail
    assert "accept it again in a minute" in detail and "unchanged" not in detail, detail
    assert (await reload(order.public_id)).status == "paid"
    sandbox.api_faults(service="stripe", count=0)  # Stripe answers again
    assert intent_status(sandbox, order) == "succeeded"  # it had been charged
    again = await act(client, token, order.public_id, "accept")
    assert again.status_code == 200, again.text
    assert (await reload(order.public_id)).status == "accepted"
    intent = stripe_client(sandbox.url).v1.payment_intents.retrieve(intent_of(order))
    assert intent.amount_received == order.amount_charged  # charged once


async def test_a_no_js_screen_reads_why_the_accept_failed(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """A plain form post (no htmx) gets a page naming the failure and the way back, not a
    bare "Something went wrong"."""
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    token = await login(client, "kitchen@demo.test")
    sandbox.api_faults(service="stripe", status=500, count=get_gateway().attempts)
    response = await client.post(
        f"/kitchen/demo/orders/{order.public_id}/accept", data={"_csrf_token": token},
        headers={"accept": "text/html", "referer": f"{client.base_url}/kitchen/demo"})
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "capturing the payment failed" in page and "the order is unchanged" in page
    assert 'href="/kitchen/demo"' in page
    assert (await reload(order.public_id)).status == "paid"


async def test_manual_capture_reject_voids_the_authorisation(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    result = await lifecycle.apply_action(order.public_id, "reject", actor="t", reason="x")
    assert result.status == "voided" and result.voided_at is not None  # a hold released
    assert intent_status(sandbox, order) == "canceled"
    assert refunds(sandbox, order) == []  # voided, not refunded


async def test_a_hold_not_released_yet_is_never_called_a_refund(
        app: Litestar, client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    """Rejected while Stripe is refusing calls (429s): the hold's release is retried later.
    The cook read "the refund of €14.88 has not gone through yet" and the diner "Your payment
    is being returned", for a card that was never charged (an outside try)."""
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    token = await login(client, "kitchen@demo.test")
    sandbox.api_faults(service="stripe", status=429, count=50)
    response = await act(client, token, order.public_id, "reject", reason="Out of dough",
                         **{"from": "paid"})
    sandbox.api_faults(service="stripe", count=0)
    assert response.status_code == 200, response.text
    told = json.loads(response.headers["hx-trigger"])["orderpass:rejected"]["message"]
    money = format_money(order.amount_charged, order.currency)
    assert told == (f"#{order.ticket_number} rejected: the card hold of {money} is not "
                    "released yet; it is retried automatically. Nothing was charged."), told
    page = " ".join((await client.get(f"/orders/{order.public_id}")).text.split())
    assert "Your card will not be charged: the hold on it is being released." in page
    assert "being returned" not in page and "refund" not in told
    async with staff_session(app, "owner@demo.test") as owner_client:
        owner = " ".join((await owner_client.get(
            f"/manage/demo/orders/{order.public_id}")).text.split())
    assert "the hold's release is being retried: nothing will be charged" in owner
    assert "the receipt follows when the restaurant accepts" not in owner


async def test_recall_undoes_a_completion_within_ten_minutes(
        client: httpx.AsyncClient) -> None:
    token = await login(client, "kitchen@demo.test")
    recent = await make_paid_order(status="completed")
    board = await client.get("/kitchen/demo/board")
    assert f"Recall #{recent.ticket_number}" in board.text
    assert (await act(client, token, recent.public_id, "recall")).status_code == 200
    back = await reload(recent.public_id)
    assert back.status == "ready" and back.completed_at is None
    old = await make_paid_order(status="completed",
                                completed_at=datetime.now(UTC) - timedelta(minutes=11))
    assert (await act(client, token, old.public_id, "recall")).status_code == 409


async def overdue(order: PaidOrder, minutes: int) -> PaidOrder:
    """Pretend `order` was paid `minutes` ago."""
    await PaidOrder.update({PaidOrder.paid_at: datetime.now(UTC) - timedelta(minutes=minutes)}
                           ).where(PaidOrder.public_id == order.public_id)
    return await reload(order.public_id)


async def test_auto_reject_refunds_orders_nobody_accepted(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    stale = await overdue(await paid_order_via_sandbox(client, sandbox), 11)
    fresh = await paid_order_via_sandbox(client, sandbox)
    accepted = await make_paid_order(status="accepted",
                                     paid_at=datetime.now(UTC) - timedelta(minutes=30))
    await Restaurant.update({Restaurant.auto_reject_minutes: 0}).where(
        Restaurant.slug == "demo-2")
    off = await make_paid_order("demo-2", paid_at=datetime.now(UTC) - timedelta(hours=1))
    assert await lifecycle.auto_reject_overdue() == [stale.public_id]
    assert (await reload(stale.public_id)).status == "refunded"
    assert "Not accepted within 10 minutes" in (await reload(stale.public_id)).reject_reason
    assert refunds(sandbox, stale) == [(stale.amount_charged, "succeeded")]
    for order in (fresh, accepted, off):
        assert (await reload(order.public_id)).status == order.status
    assert refunds(sandbox, fresh) == []
    assert await lifecycle_emails(redis) == [f"email:order_rejected:{stale.public_id}"]


async def test_the_diner_reads_the_timers_reason_in_their_words(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """The timer's reason names its minutes, so it is no fixed message: it reached a diner
    who ordered in German in English ("Not accepted within 10 minutes"), and then in the
    kitchen's words ("Reason: Not accepted within 10 minutes", outside try). The diner is
    told what happened, in their language; page and email."""
    settings = get_settings().model_copy(update={"resend_api_url": sandbox.url})
    for language, said in (
            ("en", "The kitchen could not confirm your order in time, so it was cancelled."),
            ("de", "Die Küche konnte Ihre Bestellung nicht rechtzeitig bestätigen, deshalb "
                   "wurde sie storniert.")):
        stale = await overdue(await paid_order_via_sandbox(client, sandbox), 11)
        await PaidOrder.update({PaidOrder.language: language}).where(
            PaidOrder.public_id == stale.public_id)
        assert await lifecycle.auto_reject_overdue() == [stale.public_id]
        page = " ".join((await client.get(f"/orders/{stale.public_id}")).text.split())
        assert f'<html lang="{language}">' in page and said in page, page
        await send_email({"redis": redis, "settings": settings, "job_try": 1},
                         "order_rejected", stale.public_id)
        [email] = sandbox.wait_for(lambda ref=stale.public_id: [
            message for message in sandbox.messages(to="ada@example.com")
            if ref in message["text"]], timeout=10)
        assert said in email["text"] and said in " ".join(email["html"].split()), email["text"]
        told = email["text"] + email["html"] + page
        assert "Not accepted" not in told and "Nicht innerhalb" not in told
        assert "Reason:" not in told and "Grund:" not in told
    # The stored reason stays English: the kitchen and the owner read it as it was given.
    assert (await reload(stale.public_id)).reject_reason == "Not accepted within 10 minutes"


async def test_a_reject_after_a_partial_refund_says_it_refunds_the_rest(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    """The reject dialog and the result after it said "The customer gets €24.50 back" (the
    order's total) after €6.50 was refunded already: true in total, but the cook's press
    refunded €18.00. Both now say the rest, and the total back."""
    order = await paid_order_via_sandbox(client, sandbox)
    [item, *_] = await OrderItem.objects().where(
        OrderItem.paid_order == order.id).order_by(OrderItem.id)
    await partial_refunds.refund_items(
        redis, order.public_id, {"nonce": "partial-then-reject", f"qty_{item.id}": "1",
                                 "reason": "Burnt"}, by="admin@orderpass.test")
    earlier = (await reload(order.public_id)).amount_refunded
    assert 0 < earlier < order.total_amount
    rest = order.total_amount - earlier
    token = await login(client, "kitchen@demo.test")
    board = await client.get("/kitchen/demo/board")
    card = re.search(rf'<article[^>]*id="card-{order.public_id}".*?</article>', board.text,
                     re.S)
    assert card is not None
    assert f'data-amount="{format_money(rest, "eur")}"' in card.group()
    assert f'data-refunded="{format_money(earlier, "eur")}"' in card.group()

    answer = await act(client, token, order.public_id, "reject", **{"from": "paid"},
                       reason="Out of dough")
    assert answer.status_code == 200, answer.text
    told = json.loads(answer.headers["HX-Trigger"])["orderpass:rejected"]
    assert told["ok"] is True
    assert told["message"] == (
        f"#{order.ticket_number} rejected: the remaining {format_money(rest, 'eur')} refunded "
        f"to the customer ({format_money(order.total_amount, 'eur')} back in total).")
    assert sorted(refunds(sandbox, order)) == sorted([(earlier, "succeeded"),
                                                      (rest, "succeeded")])


async def test_board_shows_priority_all_day_and_ticket(client: httpx.AsyncClient) -> None:
    await login(client, "kitchen@demo.test")
    later = await make_paid_order(items=[("Tiramisu", 700, 3, "")])
    overdue = await make_paid_order(status="accepted",
                                    promised_at=datetime.now(UTC) - timedelta(minutes=1),
                                    fulfillment="delivery")
    board = (await client.get("/kitchen/demo/board")).text
    assert board.index(overdue.public_id) < board.index(later.public_id)
    assert "timing-late" in board
    assert '<span class="count">3</span> Tiramisu' in board
    assert '<span class="count">2</span> Margherita pizza' in board
    ticket = await client.get(f"/kitchen/demo/orders/{later.public_id}/ticket")
    assert ticket.status_code == 200 and "Tiramisu" in ticket.text
    assert "<script>" not in ticket.text.replace('<script src=', '')


@pytest.mark.parametrize("status", ["rejected", "refunded", "completed"])
async def test_closed_orders_are_not_on_the_board(client: httpx.AsyncClient,
                                                  status: str) -> None:
    await login(client, "kitchen@demo.test")
    order = await make_paid_order(status=status)
    page = await client.get("/kitchen/demo")
    assert f'id="card-{order.public_id}"' not in page.text


async def test_worker_cron_job_auto_rejects(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    from workers.settings import WorkerSettings

    job = next(c for c in WorkerSettings.cron_jobs if c.name == "cron:auto_reject_unaccepted")
    assert job.unique and job.second == {11, 41}
    stale = await overdue(await paid_order_via_sandbox(client, sandbox), 20)
    result = await job.coroutine({"redis": redis})  # as the worker runs it
    assert result["auto_rejected"] == [stale.public_id]
    assert refunds(sandbox, stale) == [(stale.amount_charged, "succeeded")]


async def test_a_stale_screen_cannot_act_on_a_state_it_never_saw(
        client: httpx.AsyncClient, sandbox: RunningSandbox) -> None:
    order = await paid_order_via_sandbox(client, sandbox)
    token = await login(client, "kitchen@demo.test")
    assert (await act(client, token, order.public_id, "accept", **{"from": "paid"})
            ).status_code == 200
    stale = await act(client, token, order.public_id, "reject", reason="x", **{"from": "paid"})
    assert stale.status_code == 409
    assert "already accepted" in stale.json()["detail"]
    assert (await reload(order.public_id)).status == "accepted"
    assert refunds(sandbox, order) == [] and intent_status(sandbox, order) == "succeeded"


async def test_a_live_card_acts_with_the_page_token_in_a_header(
        client: httpx.AsyncClient) -> None:
    """Cards that arrive over SSE carry no CSRF field; htmx sends the page's token as the
    `x-csrftoken` header (kitchen.html `hx-headers`). That works, and a wrong one does not."""
    order = await make_paid_order()
    token = await login(client, "kitchen@demo.test")
    page = await client.get("/kitchen/demo")
    assert f'"x-csrftoken": "{token}"' in page.text
    url = f"/kitchen/demo/orders/{order.public_id}/accept"
    refused = await client.post(url, data={"prep_minutes": "10"},
                                headers={**HX, "x-csrftoken": "not-the-token"})
    assert refused.status_code == 403
    assert (await reload(order.public_id)).status == "paid"
    accepted = await client.post(url, data={"prep_minutes": "10"},
                                 headers={**HX, "x-csrftoken": token})
    assert accepted.status_code == 200, accepted.text
    assert (await reload(order.public_id)).status == "accepted"


async def test_a_prep_time_out_of_range_is_refused_saying_the_range(
        client: httpx.AsyncClient) -> None:
    """-5 and 0 are whole numbers: the cook is told what is allowed, not that they typed
    something else (an outside try), and the order stays as it was."""
    order = await make_paid_order()
    token = await login(client, "kitchen@demo.test")
    url = f"/kitchen/demo/orders/{order.public_id}/accept"
    for prep in ("-5", "0", "100000", "ten"):
        refused = await client.post(url, data={"prep_minutes": prep, "from": "paid"},
                                    headers={**HX, "x-csrftoken": token})
        assert refused.status_code in (400, 422), (prep, refused.status_code)
        detail = refused.json()["detail"]
        assert "1" in detail and "240" in detail, (prep, detail)
    assert (await reload(order.public_id)).status == "paid"


async def test_a_reject_reason_refuses_text_direction_overrides_as_it_refuses_nul(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    """The "Other" reason is free text the diner's email and status page quote: what the cook
    typed must read as typed ("\\u202ehguod" shows as "dough")."""
    order = await make_paid_order()
    token = await login(client, "kitchen@demo.test")
    for reason, says in (("Out of \u202ehguod", "text-direction overrides are not allowed in "
                                               "the reason"),
                         ("\u2066closing\u2069", "text-direction overrides are not allowed in "
                                                 "the reason"),
                         ("closing\x00", "NUL characters are not allowed")):
        response = await act(client, token, order.public_id, "reject", reason=reason)
        assert response.status_code == 400, response.text
        assert response.json()["detail"] == says
    unchanged = await reload(order.public_id)
    assert (unchanged.status, unchanged.reject_reason) == ("paid", "")
    assert await lifecycle_emails(redis) == []


async def test_a_reject_reason_longer_than_the_limit_is_refused_not_cut(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    """The diner reads the reason: one the kitchen screen's dialog would refuse (it checks the
    same limit first, tests/e2e/test_kitchen_reject_reason.py) is refused here too, where it
    used to be cut at the limit without a word."""
    order = await make_paid_order()
    token = await login(client, "kitchen@demo.test")
    page = (await client.get("/kitchen/demo")).text
    assert f'data-max-chars="{lifecycle.REJECT_REASON_MAX}"' in page  # the dialog's limit
    response = await act(client, token, order.public_id, "reject",
                         reason="x" * (lifecycle.REJECT_REASON_MAX + 1))
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == (
        f"the reason is too long: {lifecycle.REJECT_REASON_MAX} characters at most")
    unchanged = await reload(order.public_id)
    assert (unchanged.status, unchanged.reject_reason) == ("paid", "")
    assert await lifecycle_emails(redis) == []


async def test_all_day_counts_what_is_left_to_make_after_a_refund_of_items(
        client: httpx.AsyncClient) -> None:
    """An owner refunded one of three tiramisu and the only lemonade: the ticket says not to
    make them, and the "all day" counts must not ask for them either."""
    from app.orders.tables import OrderItem
    from app.payments.settlement import record_refund

    await login(client, "kitchen@demo.test")
    order = await make_paid_order(status="accepted",
                                  items=[("Tiramisu", 700, 3, ""), ("Lemonade", 450, 1, "")])
    items = {row["name"]: row["id"] for row in await OrderItem.select(
        OrderItem.id, OrderItem.name).where(OrderItem.paid_order == order.id)}
    await record_refund(order, f"re_{order.public_id}", 1150, source="admin", lines=[
        {"item": items["Tiramisu"], "quantity": 1}, {"item": items["Lemonade"], "quantity": 1}])
    board = (await client.get("/kitchen/demo/board")).text
    assert '<span class="count">2</span> Tiramisu' in board
    assert "</span> Lemonade" not in board  # nothing left to make of it
