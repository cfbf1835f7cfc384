"""Money test helpers: Stripe's events posted as Stripe signs them, what the sandbox's Stripe
holds for an order, and what the customer was told."""

from __future__ import annotations

import re
from typing import Any

import httpx
import stripe
from arq.connections import ArqRedis

from app.notifications.tables import EmailMessage
from app.orders import lifecycle
from app.orders.tables import OrderItem, OrderRefund, PaidOrder
from app.payments.tables import Discrepancy
from app.settings import get_settings
from tests.helpers.accounts import login
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.stripe_events import sandbox_events, signed_request
from workers.email_jobs import send_email


async def post_event(client: httpx.AsyncClient, event: dict[str, Any]) -> str:
    payload, headers = signed_request(event)
    response = await client.post("/webhooks/stripe", content=payload, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["result"])


def events_about(sandbox: RunningSandbox, types: set[str], object_id: str | None = None
                 ) -> list[dict[str, Any]]:
    events = sandbox_events(sandbox.url, types=types)
    if object_id:
        events = [e for e in events if object_id in (e["data"]["object"].get("id"),
                                                     e["data"]["object"].get("payment_intent"))]
    return events


def sessions_of(sdk: stripe.StripeClient, order_ref: str) -> list[Any]:
    every = sdk.v1.checkout.sessions.list(params={"limit": 100}).data
    return [s for s in every if s.client_reference_id == order_ref]


def refunds_in_stripe(sdk: stripe.StripeClient, order: PaidOrder) -> list[Any]:
    return list(sdk.v1.refunds.list(
        params={"payment_intent": str(order.stripe_payment_intent_id)}).data)


async def reload(ref: str) -> PaidOrder:
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None
    return order


async def discrepancy_kinds(order_ref: str) -> list[str]:
    rows = await Discrepancy.select(Discrepancy.kind).where(Discrepancy.order_ref == order_ref)
    return sorted(row["kind"] for row in rows)


async def emails_of(order_ref: str) -> list[str]:
    rows = await EmailMessage.select(EmailMessage.idempotency_key).where(
        EmailMessage.order_ref == order_ref).order_by(EmailMessage.id)
    return [row["idempotency_key"] for row in rows]


async def email_jobs(redis: ArqRedis, order_ref: str) -> list[str]:
    return sorted(str(job.job_id) for job in await redis.queued_jobs()
                  if job.job_id and job.job_id.startswith("email:") and order_ref in job.job_id)


async def send_as_worker(redis: ArqRedis, sandbox: RunningSandbox, kind: str, ref: str,
                         *extra: str) -> str:
    """Run the worker's email job for (kind, ref, *extra) against the sandbox's Resend; its
    outcome."""
    settings = get_settings().model_copy(update={"resend_api_url": sandbox.url})
    return str(await send_email({"redis": redis, "settings": settings, "job_try": 1}, kind,
                                ref, *extra))


async def email_received(redis: ArqRedis, sandbox: RunningSandbox, kind: str, ref: str,
                         *extra: str, to: str = "ada@example.com") -> dict[str, Any]:
    """The worker's email job for (kind, ref, *extra) run, and the message the sandbox's
    Resend received for `to`, as the diner reads it."""
    seen = {message["id"] for message in sandbox.messages(to=to)}
    await send_as_worker(redis, sandbox, kind, ref, *extra)
    return sandbox.wait_for(lambda: [message for message in sandbox.messages(to=to)
                                     if message["id"] not in seen])[0]


async def refund_in_full(client: httpx.AsyncClient, order_ref: str) -> None:
    """The admin's "Refund everything" on the order's page (logs `client` in as the admin)."""
    token = await login(client, "admin@orderpass.test")
    whole = await client.post(f"/admin/orders/{order_ref}/refund",
                              data={"_csrf_token": token, "confirm": "yes"},
                              follow_redirects=False)
    assert whole.status_code == 303, whole.text


async def accepted_order(client: httpx.AsyncClient, sandbox: RunningSandbox,
                         redis: ArqRedis) -> tuple[PaidOrder, list[OrderItem]]:
    """Paid (2 x the first dish, 1 x the third) and accepted by the kitchen."""
    order = await paid_order_via_sandbox(client, sandbox)
    await lifecycle.apply_action(order.public_id, "accept", actor="kitchen@demo.test",
                                 redis=redis)
    items = await OrderItem.objects().where(OrderItem.paid_order == order.id).order_by(
        OrderItem.id)
    return await reload(order.public_id), list(items)


async def refund_items(client: httpx.AsyncClient, token: str, ref: str,
                       quantities: dict[int, int]) -> int:
    """The admin (logged in on `client`, `token` its CSRF token) refunds `quantities` (item
    id → how many) with the reason "Pizza burnt"; returns the refunded amount."""
    page = await client.get(f"/admin/orders/{ref}")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce, "no refund form"
    form = {"_csrf_token": token, "nonce": nonce.group(1), "reason": "Pizza burnt",
            **{f"qty_{item}": str(n) for item, n in quantities.items()}}
    done = await client.post(f"/admin/orders/{ref}/refund", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    row = await OrderRefund.select(OrderRefund.amount).order_by(
        OrderRefund.id, ascending=False).first()
    assert row is not None
    return int(row["amount"])
