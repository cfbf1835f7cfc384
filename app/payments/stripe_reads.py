"""Read-only Stripe calls reconciliation needs beyond the gateway's (charges, events by
type, paginated session listing), made through the gateway's `_call`: same timeout, bounded
retries and a log line per call carrying the order id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import stripe

from app.payments.stripe_gateway import StripeGateway

PAGE_SIZE = 100
MAX_PAGES = 200  # 20 000 objects: a runaway cursor must not loop forever


async def iter_checkout_sessions(gateway: StripeGateway, created_gte: int
                                 ) -> AsyncIterator[stripe.checkout.Session]:
    """Every Checkout Session created at or after `created_gte` (`created[gte]` and
    `starting_after` pagination, newest first as Stripe lists them)."""
    starting_after: str | None = None
    for _ in range(MAX_PAGES):
        page = await gateway.list_checkout_sessions(created_gte=created_gte,
                                                    starting_after=starting_after,
                                                    limit=PAGE_SIZE)
        for session in page.data:
            yield session
        if not page.has_more or not page.data:
            return
        starting_after = page.data[-1].id


async def iter_undelivered_events(gateway: StripeGateway, created_gte: int
                                  ) -> AsyncIterator[stripe.Event]:
    """Events Stripe has not managed to deliver to any endpoint (`delivery_success=false`)."""
    starting_after: str | None = None
    for _ in range(MAX_PAGES):
        page = await gateway.list_undelivered_events(created_gte=created_gte,
                                                     starting_after=starting_after)
        for event in page.data:
            yield event
        if not page.has_more or not page.data:
            return
        starting_after = page.data[-1].id


async def iter_events_of_type(gateway: StripeGateway, event_type: str, created_gte: int
                              ) -> AsyncIterator[stripe.Event]:
    """Events of one type (e.g. `charge.refunded`) created at or after `created_gte`."""
    starting_after: str | None = None
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"limit": PAGE_SIZE, "type": event_type,
                                  "created": {"gte": created_gte}}
        if starting_after:
            params["starting_after"] = starting_after
        page: stripe.ListObject[stripe.Event] = await gateway._call(
            "events.list", "",
            lambda params=params: gateway.client.v1.events.list_async(
                params=params))  # type: ignore[misc]
        for event in page.data:
            yield event
        if not page.has_more or not page.data:
            return
        starting_after = page.data[-1].id


async def retrieve_charge(gateway: StripeGateway, charge_id: str, *,
                          order_ref: str = "") -> stripe.Charge:
    return await gateway._call(
        "charges.retrieve", order_ref,
        lambda: gateway.client.v1.charges.retrieve_async(charge_id))


async def payment_confirmed(gateway: StripeGateway, session: stripe.checkout.Session, *,
                            order_ref: str = "") -> bool:
    """Stripe holds the money: the session is `paid`, or (manual capture) its PaymentIntent
    is authorised (`requires_capture`) or already captured."""
    if session.payment_status == "paid":
        return True
    if session.status != "complete" or not session.payment_intent:
        return False
    intent = session.payment_intent
    intent_id = intent if isinstance(intent, str) else intent.id
    payment_intent = await gateway.retrieve_payment_intent(intent_id, order_ref=order_ref)
    return payment_intent.status in ("requires_capture", "succeeded")
