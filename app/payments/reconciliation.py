"""Reconciliation with Stripe: every paid Checkout Session has an order, every order is paid
in Stripe for the amount we recorded, and every refund Stripe made is known here.

Missing orders are created through `record_paid_session` (the webhook's own service, with
the synthetic event id `reconcile:<session id>`), so a late webhook or a second run finds
the order and does nothing. Everything else becomes a `discrepancy` row (unique dedupe key:
recording twice is a no-op) for a human. A dry run (`apply=False`) reads only.

Entry points: `reconcile` (cron and CLI), and the fix helpers (in `reconciliation_fixes`,
re-exported here): `create_order_from_session`, `refund_discrepancy`,
`resolve_discrepancy`, `list_discrepancies`, `open_discrepancy_count`.
"""

from __future__ import annotations

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
from app.payments.reconciliation_fixes import (
    RECONCILE_EVENT_TYPE,
    DiscrepancyNotFound,
    NotPaid,
    create_missing_order,
    create_order_from_session,
    dedupe_key,
    discrepancy_exists,
    get_discrepancy,
    list_discrepancies,
    open_discrepancy_count,
    record_discrepancy,
    refund_discrepancy,
    resolve_discrepancy,
    session_order_ref,
)
from app.payments.stripe_gateway import PaymentProviderError, StripeGateway, get_gateway
from app.payments.stripe_reads import (
    iter_checkout_sessions,
    iter_events_of_type,
    iter_undelivered_events,
    payment_confirmed,
)
from app.piccolo_conf import DB

__all__ = [  # the fix helpers live in reconciliation_fixes; callers may import them here
    "RECONCILE_EVENT_TYPE", "DiscrepancyNotFound", "Finding", "NotPaid", "Report",
    "create_order_from_session", "dedupe_key", "discrepancy_exists", "get_discrepancy",
    "list_discrepancies", "open_discrepancy_count", "parse_window", "reconcile",
    "record_discrepancy", "refund_discrepancy", "resolve_discrepancy", "session_order_ref",
]

log = get_logger("orderpass.reconciliation")

REFUND_GRACE_S = 120  # a reject → refund → `refunded` flow in progress is not a discrepancy
_WINDOW = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_window(text: str) -> timedelta:
    """`30m`, `72h`, `3d` → a timedelta (positive); ValueError otherwise."""
    match = _WINDOW.match(text or "")
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"expected a duration like 30m, 72h or 3d, got {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


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
    fulfilment = await create_missing_order(redis, gateway, session, "reconcile")
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
