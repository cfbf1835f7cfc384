"""The one rule for "does Stripe hold money for this Checkout Session?": it is `paid`, or it
completed with its PaymentIntent authorised (`requires_capture`: a manual-capture session
may report `unpaid` until capture) or captured. The webhook, reconciliation and the admin's
fixes all ask here."""

from __future__ import annotations

from typing import Any

from app.payments.stripe_data import CheckoutSession
from app.payments.stripe_gateway import StripeGateway

HOLDING_MONEY = ("requires_capture", "succeeded")


def intent_id_of(session: Any) -> str:
    """The session's PaymentIntent id ('' while it has none)."""
    intent = getattr(session, "payment_intent", None)
    if not intent:
        return ""
    return intent if isinstance(intent, str) else str(intent.id)


async def paid_or_authorised(gateway: StripeGateway, session: CheckoutSession, *,
                             order_ref: str = "") -> bool:
    if session.payment_status == "paid":
        return True
    intent = intent_id_of(session)
    if session.status != "complete" or not intent:
        return False
    payment_intent = await gateway.retrieve_payment_intent(intent, order_ref=order_ref)
    return payment_intent.status in HOLDING_MONEY
