"""The discrepancy queue as reconciliation writes it (one row per disagreement, unique
dedupe key: recording twice is a no-op) and the fixes it applies: create a missing order
through the webhook's own service, refund a second payment, resolve with a note.

Split from `reconciliation.py` (which re-exports these names) so the run itself, paging
through Stripe, stays readable on its own."""

from __future__ import annotations

import json
import time
from typing import Any

import stripe
from arq.connections import ArqRedis
from piccolo.querystring import QueryString

from app.infra.logging import get_logger
from app.orders.temp_store import is_temp_id
from app.payments.fulfilment import Fulfilment, record_paid_session
from app.payments.stripe_gateway import StripeGateway, get_gateway, metadata_of
from app.payments.stripe_reads import payment_confirmed
from app.payments.webhooks import after_commit
from app.piccolo_conf import DB

log = get_logger("orderpass.reconciliation")

RECONCILE_EVENT_TYPE = "reconcile.checkout_session"


class NotPaid(Exception):
    """Stripe does not hold money for this Checkout Session: no order may be created."""


class DiscrepancyNotFound(Exception):
    pass


def session_order_ref(session: stripe.checkout.Session) -> str:
    """The temp order id a session was created for ('' for sessions that are not ours)."""
    ref = metadata_of(session).get("temp_order_id") or session.client_reference_id or ""
    return ref if is_temp_id(ref) else ""


# -- discrepancies ------------------------------------------------------------------------

def dedupe_key(kind: str, session_id: str) -> str:
    return f"{kind}:{session_id}"


async def discrepancy_exists(kind: str, session_id: str) -> bool:
    rows = await DB.run_querystring(QueryString(
        "SELECT 1 FROM discrepancy WHERE dedupe_key = {}", dedupe_key(kind, session_id)))
    return bool(rows)


async def record_discrepancy(kind: str, session_id: str, order_ref: str,
                             restaurant_id: int | None, details: dict[str, Any]) -> bool:
    """Queue a disagreement for a human; False if it was recorded before (idempotent)."""
    rows = await DB.run_querystring(QueryString(
        "INSERT INTO discrepancy (kind, dedupe_key, stripe_checkout_session_id, order_ref, "
        "restaurant, details) VALUES ({}, {}, {}, {}, {}, {}::jsonb) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        kind, dedupe_key(kind, session_id), session_id, order_ref, restaurant_id,
        json.dumps(details, default=str)))
    if rows:
        log.error("discrepancy recorded", kind=kind, order_id=order_ref, session=session_id,
                  details=details)
    return bool(rows)


async def list_discrepancies(status: str | None = "open", limit: int = 200
                             ) -> list[dict[str, Any]]:
    """Newest first; `status=None` lists all."""
    rows = await DB.run_querystring(QueryString(
        "SELECT id, kind, dedupe_key, stripe_checkout_session_id, order_ref, restaurant, "
        "details, status, resolved_by, resolution_note, created_at, resolved_at "
        "FROM discrepancy WHERE ({}::text IS NULL OR status = {}) "
        "ORDER BY created_at DESC, id DESC LIMIT {}", status, status, limit))
    found = [dict(row) for row in rows]
    for row in found:
        if isinstance(row["details"], str):
            row["details"] = json.loads(row["details"])
    return found


async def get_discrepancy(discrepancy_id: int) -> dict[str, Any]:
    rows = await DB.run_querystring(QueryString(
        "SELECT id, kind, stripe_checkout_session_id, order_ref, restaurant, details, status "
        "FROM discrepancy WHERE id = {}", discrepancy_id))
    if not rows:
        raise DiscrepancyNotFound(f"no discrepancy {discrepancy_id}")
    return dict(rows[0])


async def open_discrepancy_count() -> int:
    rows = await DB.run_querystring(QueryString(
        "SELECT count(*) AS n FROM discrepancy WHERE status = 'open'"))
    return int(rows[0]["n"])


async def resolve_discrepancy(discrepancy_id: int, *, actor: str, note: str) -> bool:
    """Close an open discrepancy with who closed it and why; False if it was not open."""
    rows = await DB.run_querystring(QueryString(
        "UPDATE discrepancy SET status = 'resolved', resolved_by = {}, resolution_note = {}, "
        "resolved_at = now() WHERE id = {} AND status = 'open' RETURNING order_ref",
        actor[:254], note[:1000], discrepancy_id))
    if rows:
        log.info("discrepancy resolved", discrepancy_id=discrepancy_id,
                 order_id=rows[0]["order_ref"], actor=actor)
    return bool(rows)


# -- fixes --------------------------------------------------------------------------------

async def create_order_from_session(redis: ArqRedis, session_id: str, *,
                                    actor: str = "reconcile",
                                    gateway: StripeGateway | None = None) -> Fulfilment:
    """Create the order for a paid session exactly as the webhook would (same service,
    synthetic event id `reconcile:<session id>`), then run the fast path so the kitchen
    sees it. Safe to repeat and safe against a late webhook. Raises NotPaid."""
    gateway = gateway or get_gateway()
    session = await gateway.retrieve_checkout_session(session_id)
    return await create_missing_order(redis, gateway, session, actor)


async def create_missing_order(redis: ArqRedis, gateway: StripeGateway,
                               session: stripe.checkout.Session, actor: str) -> Fulfilment:
    order_ref = session_order_ref(session)
    if not await payment_confirmed(gateway, session, order_ref=order_ref):
        raise NotPaid(f"session {session.id} is not paid in Stripe")
    received = time.perf_counter()
    fulfilment = await record_paid_session(redis, session, event_id=f"reconcile:{session.id}",
                                           event_type=RECONCILE_EVENT_TYPE)
    if fulfilment.outcome == "created":
        await after_commit(redis, fulfilment, received)
        log.warning("reconciliation created a missing order", order_id=fulfilment.order_ref,
                    session=session.id, actor=actor)
    else:
        log.info("reconciliation found the order already recorded",
                 order_id=fulfilment.order_ref, session=session.id, outcome=fulfilment.outcome)
    return fulfilment


async def refund_discrepancy(discrepancy_id: int, *, actor: str, note: str = "",
                             gateway: StripeGateway | None = None) -> str:
    """Refund the payment behind a discrepancy (e.g. a second payment for one order)
    through the gateway, then resolve it; returns the Stripe refund id. The idempotency
    key is per discrepancy, so a double click refunds once."""
    gateway = gateway or get_gateway()
    row = await get_discrepancy(discrepancy_id)
    order_ref = row["order_ref"]
    session = await gateway.retrieve_checkout_session(row["stripe_checkout_session_id"],
                                                      order_ref=order_ref)
    intent = session.payment_intent
    if not intent:
        raise NotPaid(f"session {session.id} has no payment to refund")
    intent_id = intent if isinstance(intent, str) else intent.id
    refund = await gateway.refund_payment_intent(
        intent_id, idempotency_key=f"discrepancy-refund/{discrepancy_id}", order_ref=order_ref)
    log.warning("discrepancy refunded", discrepancy_id=discrepancy_id, order_id=order_ref,
                refund=refund.id, actor=actor)
    await resolve_discrepancy(discrepancy_id, actor=actor,
                              note=f"refunded ({refund.id}). {note}".strip())
    return str(refund.id)
