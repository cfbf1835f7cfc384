"""Discrepancy queue: list and filter, and each one-click fix against the real sandbox."""

from __future__ import annotations

import re

import httpx
import stripe
from arq.connections import ArqRedis

from app.notifications.delivery import deliver
from app.notifications.service import get_row
from app.orders.tables import PaidOrder
from app.payments.fulfilment import record_paid_session
from app.payments.stripe_gateway import get_gateway
from app.payments.tables import Discrepancy
from app.restaurants.tables import Restaurant
from app.settings import get_settings
from tests.helpers.admin import ADMIN, HTML, HTMX, make_discrepancy
from tests.helpers.orders import pay_without_webhook, valid_order
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email


async def paid_order(client: httpx.AsyncClient, sandbox: RunningSandbox,
                     redis: ArqRedis) -> tuple[str, str]:
    ref, session_id = await pay_without_webhook(client, sandbox)
    session = await get_gateway().retrieve_checkout_session(session_id)
    result = await record_paid_session(redis, session, event_id=f"evt_test_{session_id}",
                                       event_type="checkout.session.completed")
    assert result.outcome == "created"
    return ref, session_id


async def refund_in(stored: dict[str, object]) -> stripe.Refund:
    """The refund named in a fix's resolution note, as Stripe has it."""
    match = re.search(r"\((re_[A-Za-z0-9]+)\)", str(stored["resolution_note"]))
    assert match, stored["resolution_note"]
    return await get_gateway().client.v1.refunds.retrieve_async(match.group(1))


async def row(discrepancy_id: int) -> dict[str, object]:
    found = await Discrepancy.select().where(Discrepancy.id == discrepancy_id).first()
    assert found is not None
    return found


async def test_queue_lists_newest_first_and_filters(admin: tuple[httpx.AsyncClient, str]
                                                    ) -> None:
    client, token = admin
    older = await make_discrepancy("missing_order", session_id="cs_test_older")
    newer = await make_discrepancy("duplicate_payment", session_id="cs_test_newer")
    page = (await client.get("/admin/discrepancies", headers=HTML)).text
    assert page.index(f'id="discrepancy-{newer}"') < page.index(f'id="discrepancy-{older}"')
    await client.post(f"/admin/discrepancies/{older}/resolve",
                      data={"_csrf_token": token, "note": "checked"})
    open_page = (await client.get("/admin/discrepancies?status=open", headers=HTML)).text
    assert f'id="discrepancy-{older}"' not in open_page
    resolved = (await client.get("/admin/discrepancies?status=resolved", headers=HTML)).text
    assert f'id="discrepancy-{older}"' in resolved
    assert f'id="discrepancy-{newer}"' not in resolved


async def test_resolve_records_who_when_and_the_note(admin: tuple[httpx.AsyncClient, str]
                                                     ) -> None:
    client, token = admin
    discrepancy = await make_discrepancy()
    response = await client.post(f"/admin/discrepancies/{discrepancy}/resolve",
                                 data={"_csrf_token": token, "note": "Called the customer"},
                                 headers=HTMX)
    assert response.status_code == 200, response.text
    assert "Resolved by admin@orderpass.test" in response.text
    stored = await row(discrepancy)
    assert stored["status"] == "resolved"
    assert stored["resolved_by"] == ADMIN
    assert stored["resolution_note"] == "Called the customer"
    assert stored["resolved_at"] is not None
    again = await client.post(f"/admin/discrepancies/{discrepancy}/resolve",
                              data={"_csrf_token": token, "note": "twice"}, headers=HTMX)
    assert again.status_code == 409
    assert (await row(discrepancy))["resolution_note"] == "Called the customer"


async def test_resolve_needs_a_note(admin: tuple[httpx.AsyncClient, str]) -> None:
    client, token = admin
    discrepancy = await make_discrepancy()
    response = await client.post(f"/admin/discrepancies/{discrepancy}/resolve",
                                 data={"_csrf_token": token, "note": "  "}, headers=HTMX)
    assert response.status_code == 400
    assert "a note is required" in response.text
    assert (await row(discrepancy))["status"] == "open"


async def test_create_order_from_a_paid_session(admin: tuple[httpx.AsyncClient, str],
                                                sandbox: RunningSandbox) -> None:
    client, token = admin
    ref, session_id = await pay_without_webhook(client, sandbox)
    assert await PaidOrder.objects().get(PaidOrder.public_id == ref) is None
    discrepancy = await make_discrepancy("missing_order", session_id=session_id,
                                         order_ref=ref)
    page = (await client.get("/admin/discrepancies", headers=HTML)).text
    assert f"/admin/discrepancies/{discrepancy}/create-order" in page
    response = await client.post(f"/admin/discrepancies/{discrepancy}/create-order",
                                 data={"_csrf_token": token}, headers=HTMX)
    assert response.status_code == 200, response.text
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None and order.status == "paid"
    assert order.stripe_checkout_session_id == session_id
    stored = await row(discrepancy)
    assert stored["status"] == "resolved"
    assert "created" in str(stored["resolution_note"])
    # A second click (or the real webhook arriving later) never makes a second order.
    again = await client.post(f"/admin/discrepancies/{discrepancy}/create-order",
                              data={"_csrf_token": token}, headers=HTMX)
    assert again.status_code == 409
    assert await PaidOrder.count().where(PaidOrder.public_id == ref) == 1


async def test_create_order_refuses_an_unpaid_session(admin: tuple[httpx.AsyncClient, str]
                                                      ) -> None:
    client, token = admin
    created = (await client.post("/api/orders", json=await valid_order(client))).json()
    session_id = created["payment_url"].rsplit("/", 1)[1]
    discrepancy = await make_discrepancy("missing_order", session_id=session_id)
    response = await client.post(f"/admin/discrepancies/{discrepancy}/create-order",
                                 data={"_csrf_token": token}, headers=HTMX)
    assert response.status_code == 409
    assert "not paid" in response.text
    assert await PaidOrder.count() == 0


async def test_refund_an_order_marks_it_refunded(admin: tuple[httpx.AsyncClient, str],
                                                 sandbox: RunningSandbox,
                                                 redis: ArqRedis) -> None:
    client, token = admin
    ref, session_id = await paid_order(client, sandbox, redis)
    discrepancy = await make_discrepancy("amount_mismatch", session_id=session_id,
                                         order_ref=ref)
    response = await client.post(f"/admin/discrepancies/{discrepancy}/refund",
                                 data={"_csrf_token": token}, headers=HTMX)
    assert response.status_code == 200, response.text
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None
    assert order.status == "refunded" and order.refunded_at is not None
    stored = await row(discrepancy)
    assert stored["status"] == "resolved" and "refunded" in str(stored["resolution_note"])
    refund = await refund_in(stored)
    assert refund.payment_intent == order.stripe_payment_intent_id
    assert refund.amount == order.amount_charged


async def test_refund_a_duplicate_payment_leaves_the_order_alone(
        admin: tuple[httpx.AsyncClient, str], sandbox: RunningSandbox, redis: ArqRedis) -> None:
    client, token = admin
    ref, _ = await paid_order(client, sandbox, redis)
    _, second_session = await pay_without_webhook(client, sandbox)  # a payment with no order row
    discrepancy = await make_discrepancy("duplicate_payment", session_id=second_session,
                                         order_ref=ref)
    response = await client.post(f"/admin/discrepancies/{discrepancy}/refund",
                                 data={"_csrf_token": token})
    assert response.status_code == 303
    session = await get_gateway().retrieve_checkout_session(second_session)
    refund = await refund_in(await row(discrepancy))
    assert refund.payment_intent == session.payment_intent
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None and order.status == "paid"


async def test_resend_email_sends_a_second_message(admin: tuple[httpx.AsyncClient, str],
                                                   sandbox: RunningSandbox,
                                                   redis: ArqRedis) -> None:
    client, token = admin
    ref, _ = await paid_order(client, sandbox, redis)
    settings = get_settings()
    assert (await deliver(redis, settings, "payment_received", ref)).startswith("sent")
    assert len(sandbox.messages(to="ada@example.com")) == 1
    discrepancy = await make_discrepancy("unconfirmed_payment", order_ref=ref)
    response = await client.post(f"/admin/discrepancies/{discrepancy}/resend-email",
                                 data={"_csrf_token": token, "kind": "payment_received"},
                                 headers=HTMX)
    assert response.status_code == 200, response.text
    assert "Email queued again" in response.text
    resend_row = await get_row(f"payment_received/{ref}/resend-1")
    assert resend_row is not None and resend_row.status == "queued"
    job = f"email:payment_received:{ref}:resend-1"
    assert job in [queued.job_id for queued in await redis.queued_jobs()]
    # What the worker runs for that job:
    outcome = await send_email({"redis": redis, "settings": settings, "job_try": 1},
                               "payment_received", ref, resend_row.idempotency_key)
    assert outcome.startswith("sent"), outcome
    sandbox.wait_for(lambda: len(sandbox.messages(to="ada@example.com")) == 2)
    # The email log shows both, the resend marked as such.
    log_page = (await client.get(f"/admin/emails?q={ref}", headers=HTML)).text
    assert log_page.count("payment received") >= 2 and "resend" in log_page


async def test_resend_from_the_email_log_and_unknown_kind(admin: tuple[httpx.AsyncClient, str],
                                                          sandbox: RunningSandbox,
                                                          redis: ArqRedis) -> None:
    client, token = admin
    ref, _ = await paid_order(client, sandbox, redis)
    bad = await client.post("/admin/emails/resend", headers=HTMX, data={
        "_csrf_token": token, "order_ref": ref, "kind": "<script>"})
    assert bad.status_code == 400
    assert "<script>" not in bad.text
    ok = await client.post("/admin/emails/resend", headers=HTMX, data={
        "_csrf_token": token, "order_ref": ref, "kind": "payment_received"})
    assert ok.status_code == 200
    assert await get_row(f"payment_received/{ref}/resend-1") is not None
    missing = await client.post("/admin/emails/resend", headers=HTMX, data={
        "_csrf_token": token, "order_ref": "TEMP-nope", "kind": "payment_received"})
    assert missing.status_code == 404


async def test_refund_voids_an_uncaptured_authorisation(admin: tuple[httpx.AsyncClient, str],
                                                        sandbox: RunningSandbox,
                                                        redis: ArqRedis) -> None:
    client, token = admin
    await Restaurant.update({Restaurant.capture_mode: "manual"}).where(
        Restaurant.slug == "demo")
    ref, session_id = await paid_order(client, sandbox, redis)
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None and order.capture_mode == "manual"
    intent = await get_gateway().retrieve_payment_intent(str(order.stripe_payment_intent_id))
    assert intent.status == "requires_capture"
    discrepancy = await make_discrepancy("amount_mismatch", session_id=session_id,
                                         order_ref=ref)
    response = await client.post(f"/admin/discrepancies/{discrepancy}/refund",
                                 data={"_csrf_token": token}, headers=HTMX)
    assert response.status_code == 200, response.text
    intent = await get_gateway().retrieve_payment_intent(str(order.stripe_payment_intent_id))
    assert intent.status == "canceled"
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None and order.status == "voided"  # a released hold is no refund
    assert "voided" in str((await row(discrepancy))["resolution_note"])


async def test_a_lost_resend_job_is_requeued_with_its_own_key(
        admin: tuple[httpx.AsyncClient, str], sandbox: RunningSandbox, redis: ArqRedis) -> None:
    from datetime import UTC, datetime, timedelta

    from app.notifications.service import enqueue_email, requeue_stale
    from app.notifications.tables import EmailMessage

    client, _ = admin
    ref, _ = await paid_order(client, sandbox, redis)
    await enqueue_email(redis, "payment_received", ref, resend=True)
    await redis.flushdb()  # the job is lost; the row stays queued
    await EmailMessage.update({EmailMessage.updated_at: datetime.now(UTC) - timedelta(hours=1)}
                              ).where(EmailMessage.order_ref == ref)
    assert await requeue_stale(redis) >= 1
    [job] = [queued for queued in await redis.queued_jobs()
             if queued.job_id == f"email:payment_received:{ref}:resend-1"]
    assert job.args == ("payment_received", ref, f"payment_received/{ref}/resend-1")
