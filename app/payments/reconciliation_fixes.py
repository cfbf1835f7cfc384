"""The discrepancy queue as reconciliation writes it (one row per disagreement, unique
dedupe key: recording twice is a no-op) and the fix it applies itself: create a missing
order through the webhook's own service. A human's fixes (refund, resolve, create from the
queue) live with the admin pages in `app.ops.discrepancies`.

Split from `reconciliation.py` (which re-exports these names) so the run itself, paging
through Stripe, stays readable on its own."""

from __future__ import annotations

import json
from typing import Any

from arq.connections import ArqRedis
from piccolo.querystring import QueryString

from app.infra.logging import get_logger
from app.orders.temp_store import is_temp_id
from app.payments.confirm import Outcome, confirm_paid_session
from app.payments.stripe_data import CheckoutSession
from app.payments.stripe_gateway import StripeGateway, temp_order_ref
from app.piccolo_conf import DB

log = get_logger("orderpass.reconciliation")

RECONCILE_EVENT_TYPE = "reconcile.checkout_session"


class NotPaid(Exception):
    """Stripe does not hold money for this Checkout Session: no order may be created."""


def session_order_ref(session: CheckoutSession) -> str:
    """The temp order id a session was created for ('' for sessions that are not ours)."""
    ref = temp_order_ref(session)
    return ref if is_temp_id(ref) else ""


# -- discrepancies ------------------------------------------------------------------------

def dedupe_key(kind: str, session_id: str) -> str:
    return f"{kind}:{session_id}"


async def discrepancy_exists(kind: str, session_id: str) -> bool:
    rows = await DB.run_querystring(QueryString(
        "SELECT 1 FROM discrepancy WHERE dedupe_key = {}", dedupe_key(kind, session_id)))
    return bool(rows)


async def record_discrepancy(kind: str, session_id: str, order_ref: str,
                             restaurant_id: int | None, details: dict[str, Any], *,
                             about: str = "") -> bool:
    """Queue a disagreement for a human; False if it was recorded before (idempotent: one
    row per kind and session, or per kind, session and `about`, e.g. a refund or dispute)."""
    key = dedupe_key(kind, f"{session_id}:{about}" if about else session_id)
    rows = await DB.run_querystring(QueryString(
        "INSERT INTO discrepancy (kind, dedupe_key, stripe_checkout_session_id, order_ref, "
        "restaurant, details) VALUES ({}, {}, {}, {}, {}, {}::jsonb) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        kind, key, session_id, order_ref, restaurant_id,
        json.dumps(details, default=str)))
    if rows:
        log.error("discrepancy recorded", kind=kind, order_id=order_ref, session=session_id,
                  details=details)
    return bool(rows)


# -- fixes --------------------------------------------------------------------------------

async def create_missing_order(redis: ArqRedis, gateway: StripeGateway,
                               session: CheckoutSession, actor: str) -> Outcome:
    """Record a paid session that has no order, through the webhook's own path."""
    outcome = await confirm_paid_session(redis, session, event_id=f"reconcile:{session.id}",
                                         event_type=RECONCILE_EVENT_TYPE,
                                         remember_unpaid=False)
    if outcome.result == "awaiting_async_result":
        raise NotPaid(f"session {session.id} is not paid in Stripe")
    await outcome.finish()
    if outcome.result == "created":
        log.warning("reconciliation created a missing order", order_id=outcome.order_ref,
                    session=session.id, actor=actor)
    else:
        log.info("reconciliation found the order already recorded",
                 order_id=outcome.order_ref, session=session.id, outcome=outcome.result)
    return outcome
