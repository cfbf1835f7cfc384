"""Reconciliation with Stripe: every paid Checkout Session has an order, every order is paid
in Stripe for the amount we recorded, and every refund Stripe made is known here.

Missing orders are created through `record_paid_session` (the webhook's own service, with
the synthetic event id `reconcile:<session id>`), so a late webhook or a second run finds
the order and does nothing. Everything else becomes a `discrepancy` row (unique dedupe key:
recording twice is a no-op) for a human. A dry run (`apply=False`) reads only.

Entry points: `reconcile` (cron and CLI), and the fix helpers the admin pages use:
`create_order_from_session`, `refund_discrepancy`, `resolve_discrepancy`,
`list_discrepancies`, `open_discrepancy_count`.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from arq.connections import ArqRedis
from piccolo.querystring import QueryString

from app.infra.logging import get_logger
from app.ops.metrics import RECONCILIATION_FINDINGS, RECONCILIATION_RUNS
from app.orders.temp_store import is_temp_id
from app.payments.fulfilment import Fulfilment, record_paid_session
from app.payments.stripe_gateway import (
    PaymentProviderError,
    StripeGateway,
    get_gateway,
    metadata_of,
)
from app.payments.stripe_reads import (
    iter_checkout_sessions,
    iter_events_of_type,
    iter_undelivered_events,
    payment_confirmed,
)
from app.payments.webhooks import after_commit
from app.piccolo_conf import DB

log = get_logger("orderpass.reconciliation")

RECONCILE_EVENT_TYPE = "reconcile.checkout_session"
REFUND_GRACE_S = 120  # a reject → refund → `refunded` flow in progress is not a discrepancy
_WINDOW = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class NotPaid(Exception):
    """Stripe does not hold money for this Checkout Session: no order may be created."""


class DiscrepancyNotFound(Exception):
    pass


def parse_window(text: str) -> timedelta:
    """`30m`, `72h`, `3d` → a timedelta (positive); ValueError otherwise."""
    match = _WINDOW.match(text or "")
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"expected a duration like 30m, 72h or 3d, got {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def session_order_ref(session: stripe.checkout.Session) -> str:
    """The temp order id a session was created for ('' for sessions that are not ours)."""
    ref = metadata_of(session).get("temp_order_id") or session.client_reference_id or ""
    return ref if is_temp_id(ref) else ""


@dataclass
class Finding:
    kind: str  # missing_order | duplicate_payment | payment_not_found | payment_not_confirmed
    #            | amount_mismatch | refund_not_recorded | undelivered_event
    session_id: str
    order_ref: str = ""
    detail: str = ""
    action: str = ""


@dataclass
class Report:
    since: datetime
    applied: bool
    sessions_seen: int = 0
    paid_sessions: int = 0
    orders_checked: int = 0
    undelivered_events: int = 0
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        RECONCILIATION_FINDINGS.labels(kind=finding.kind,
                                       action=finding.action.split(" (")[0]).inc()

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for finding in self.findings:
            found[finding.kind] = found.get(finding.kind, 0) + 1
        return found

    def as_table(self) -> str:
        """What was found and what was done, for a terminal."""
        mode = "APPLY" if self.applied else "DRY RUN (nothing changed; --apply to fix)"
        lines = [
            f"Reconciliation since {self.since.isoformat(timespec='seconds')}  [{mode}]",
            f"sessions seen: {self.sessions_seen}   paid: {self.paid_sessions}   "
            f"orders checked: {self.orders_checked}   "
            f"undelivered events: {self.undelivered_events}",
            "",
        ]
        header = ("KIND", "ORDER", "SESSION", "ACTION", "DETAIL")
        rows = [(f.kind, f.order_ref or "-", f.session_id or "-", f.action, f.detail)
                for f in self.findings]
        if not rows:
            lines.append("no findings: Stripe and our orders agree")
        else:
            widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
            for row in [header, *rows]:
                lines.append("  ".join(str(cell).ljust(widths[i]) if i < 4 else str(cell)
                                       for i, cell in enumerate(row)).rstrip())
        for error in self.errors:
            lines.append(f"ERROR: {error}")
        return "\n".join(lines)


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
    return await _create_order(redis, gateway, session, actor)


async def _create_order(redis: ArqRedis, gateway: StripeGateway,
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


# -- the run ------------------------------------------------------------------------------

async def reconcile(redis: ArqRedis, *, since: timedelta, apply: bool,
                    gateway: StripeGateway | None = None) -> Report:
    """Compare Stripe with our orders over the window. `apply=False` changes nothing;
    `apply=True` creates missing orders and records discrepancies (nothing destructive)."""
    gateway = gateway or get_gateway()
    start = datetime.now(UTC) - since
    created_gte = int(start.timestamp())
    report = Report(since=start, applied=apply)
    try:
        sessions = await _stripe_sessions(gateway, created_gte, report)
        await _missing_orders(redis, gateway, sessions, report)
        await _unconfirmed_orders(gateway, sessions, start, report)
        await _unrecorded_refunds(gateway, created_gte, report)
    except PaymentProviderError as error:
        report.errors.append(f"Stripe: {error}")
        log.error("reconciliation stopped: Stripe unavailable", error=str(error))
    RECONCILIATION_RUNS.labels(result="error" if report.errors else "ok").inc()
    log.info("reconciliation finished", applied=apply, sessions=report.sessions_seen,
             paid=report.paid_sessions, orders=report.orders_checked,
             findings=report.counts(), errors=len(report.errors))
    return report


async def _stripe_sessions(gateway: StripeGateway, created_gte: int, report: Report
                           ) -> dict[str, stripe.checkout.Session]:
    """Our sessions created in the window, plus any named by an undelivered event."""
    sessions: dict[str, stripe.checkout.Session] = {}
    async for session in iter_checkout_sessions(gateway, created_gte):
        report.sessions_seen += 1
        if session_order_ref(session):
            sessions[session.id] = slim_session(session)
    async for event in iter_undelivered_events(gateway, created_gte):
        if not event.type.startswith("checkout.session."):
            continue
        report.undelivered_events += 1
        session_id = str(getattr(event.data.object, "id", "") or "")
        if session_id and session_id not in sessions:
            session = await gateway.retrieve_checkout_session(session_id)
            if session_order_ref(session):
                sessions[session.id] = session
        report.add(Finding("undelivered_event", session_id,
                           session_order_ref(sessions[session_id])
                           if session_id in sessions else "",
                           f"{event.type} ({event.id}) never delivered", "checked below"))
    return sessions


# What reconciliation (and creating an order from a session) reads of a Checkout Session.
# A window holds thousands of sessions: keeping whole SDK objects grew a worker by 50 MB
# in the soak test; these fields are a small fraction of each.
SESSION_FIELDS = ("id", "object", "status", "payment_status", "amount_total", "currency",
                  "payment_intent", "metadata", "client_reference_id", "created",
                  "customer_email", "customer_details", "expires_at", "livemode")


def slim_session(session: stripe.checkout.Session) -> stripe.checkout.Session:
    values = session.to_dict()
    return stripe.checkout.Session.construct_from(
        {key: values[key] for key in SESSION_FIELDS if key in values}, None)


async def _known_sessions(session_ids: list[str]) -> set[str]:
    if not session_ids:
        return set()
    rows = await DB.run_querystring(QueryString(
        "SELECT stripe_checkout_session_id AS id FROM paid_order "
        "WHERE stripe_checkout_session_id = ANY({}) "
        "UNION SELECT document->>'stripe_checkout_session_id' FROM archived_order "
        "WHERE document->>'stripe_checkout_session_id' = ANY({})", session_ids, session_ids))
    return {row["id"] for row in rows}


async def _order_owner(order_ref: str) -> str | None:
    rows = await DB.run_querystring(QueryString(
        "SELECT stripe_checkout_session_id AS id FROM paid_order WHERE public_id = {}",
        order_ref))
    return rows[0]["id"] if rows else None


async def _missing_orders(redis: ArqRedis, gateway: StripeGateway,
                          sessions: dict[str, stripe.checkout.Session], report: Report) -> None:
    complete = [s for s in sessions.values() if s.status == "complete"]
    known = await _known_sessions([s.id for s in complete])
    for session in complete:
        order_ref = session_order_ref(session)
        try:
            if not await payment_confirmed(gateway, session, order_ref=order_ref):
                continue
            report.paid_sessions += 1
            if session.id in known:
                continue
            await _fix_missing(redis, gateway, session, order_ref, report)
        except Exception as error:  # one bad session must not stop the run
            report.errors.append(f"{session.id} ({order_ref}): {type(error).__name__}: "
                                 f"{str(error)[:200]}")
            log.exception("reconciliation failed for a session", order_id=order_ref,
                          session=session.id)


async def _fix_missing(redis: ArqRedis, gateway: StripeGateway,
                       session: stripe.checkout.Session, order_ref: str,
                       report: Report) -> None:
    owner = await _order_owner(order_ref)
    kind = "duplicate_payment" if owner not in (None, session.id) else "missing_order"
    detail = (f"paid {session.amount_total} {session.currency}; "
              + ("the order was paid by another session" if kind == "duplicate_payment"
                 else "no order in Postgres"))
    if not report.applied:
        action = ("already recorded" if kind == "duplicate_payment"
                  and await discrepancy_exists(kind, session.id) else
                  "would record discrepancy" if kind == "duplicate_payment"
                  else "would create order")
        report.add(Finding(kind, session.id, order_ref, detail, action))
        return
    fulfilment = await _create_order(redis, gateway, session, "reconcile")
    action = {"created": "order created", "duplicate_payment": "discrepancy recorded"}.get(
        fulfilment.outcome, f"none ({fulfilment.outcome})")
    report.add(Finding(kind if fulfilment.outcome != "duplicate_payment"
                       else "duplicate_payment", session.id, order_ref, detail, action))


async def _discrepancy(report: Report, kind: str, session_id: str, order_ref: str,
                       restaurant_id: int | None, details: dict[str, Any], detail: str
                       ) -> None:
    if report.applied:
        inserted = await record_discrepancy(kind, session_id, order_ref, restaurant_id,
                                            {**details, "found_by": "reconciliation"})
        action = "discrepancy recorded" if inserted else "already recorded"
    else:
        action = ("already recorded" if await discrepancy_exists(kind, session_id)
                  else "would record discrepancy")
    if action != "already recorded":
        log.error("reconciliation: Stripe disagrees with an order", kind=kind,
                  order_id=order_ref, session=session_id, detail=detail)
    report.add(Finding(kind, session_id, order_ref, detail, action))


async def _unconfirmed_orders(gateway: StripeGateway,
                              sessions: dict[str, stripe.checkout.Session], start: datetime,
                              report: Report) -> None:
    """Orders paid in the window whose payment Stripe does not confirm, or confirms for a
    different amount. Refunded/rejected orders are skipped (a voided hold is expected)."""
    rows = await DB.run_querystring(QueryString(
        "SELECT public_id, restaurant, stripe_checkout_session_id AS session_id, status, "
        "currency, total_amount FROM paid_order WHERE paid_at >= {} "
        "AND status NOT IN ('rejected', 'refunded') ORDER BY paid_at", start))
    for row in rows:
        report.orders_checked += 1
        order_ref, session_id = row["public_id"], row["session_id"]
        try:
            session = sessions.get(session_id)
            if session is None:
                session = await gateway.retrieve_checkout_session(session_id,
                                                                  order_ref=order_ref)
        except PaymentProviderError as error:
            if error.transient:
                report.errors.append(f"{order_ref}: Stripe: {error}")
                continue
            await _discrepancy(report, "payment_not_found", session_id, order_ref,
                               row["restaurant"], {"error": str(error)[:300]},
                               "Stripe does not know this Checkout Session")
            continue
        if not await payment_confirmed(gateway, session, order_ref=order_ref):
            await _discrepancy(report, "payment_not_confirmed", session_id, order_ref,
                               row["restaurant"],
                               {"session_status": session.status,
                                "payment_status": session.payment_status},
                               f"Stripe says {session.status}/{session.payment_status}")
            continue
        currency = (session.currency or "").lower()
        if session.amount_total != row["total_amount"] or currency != row["currency"].lower():
            await _discrepancy(report, "amount_mismatch", session_id, order_ref,
                               row["restaurant"],
                               {"amount_charged": session.amount_total, "currency": currency,
                                "order_total": row["total_amount"]},
                               f"Stripe charged {session.amount_total} {currency}; order "
                               f"totals {row['total_amount']} {row['currency']}")


async def _unrecorded_refunds(gateway: StripeGateway, created_gte: int,
                              report: Report) -> None:
    """Refunds Stripe made (`charge.refunded`) on orders we do not have as refunded."""
    cutoff = time.time() - REFUND_GRACE_S
    intents: dict[str, stripe.Charge] = {}
    async for event in iter_events_of_type(gateway, "charge.refunded", created_gte):
        charge: Any = event.data.object
        intent = getattr(charge, "payment_intent", None)
        if event.created <= cutoff and intent and intent not in intents:
            intents[str(intent)] = charge
    if not intents:
        return
    rows = await DB.run_querystring(QueryString(
        "SELECT public_id, restaurant, stripe_checkout_session_id AS session_id, status, "
        "stripe_payment_intent_id AS intent FROM paid_order "
        "WHERE stripe_payment_intent_id = ANY({}) AND status <> 'refunded'", list(intents)))
    for row in rows:
        charge = intents[row["intent"]]
        await _discrepancy(report, "refund_not_recorded", row["session_id"], row["public_id"],
                           row["restaurant"],
                           {"charge": charge.id,
                            "amount_refunded": charge.amount_refunded,
                            "order_status": row["status"]},
                           f"Stripe refunded {charge.amount_refunded} "
                           f"(charge {charge.id}); order is {row['status']}")
