"""Reconciliation with Stripe: every paid Checkout Session has an order, every order is paid
in Stripe for the amount we recorded, and every refund Stripe made is known here.

Missing orders are created through `record_paid_session` (the webhook's own service, with
the synthetic event id `reconcile:<session id>`), so a late webhook or a second run finds
the order and does nothing. Everything else becomes a `discrepancy` row (unique dedupe key:
recording twice is a no-op) for a human. A dry run (`apply=False`) reads only.

Entry point: `reconcile` (cron and CLI). What it writes and creates lives in
`reconciliation_fixes`; a human works the queue through `app.ops.discrepancies` (admin).
"""

from __future__ import annotations

import re
import time
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from arq.connections import ArqRedis
from piccolo.querystring import QueryString

from app.infra.logging import get_logger
from app.payments.reconciliation_fixes import (
    create_missing_order,
    discrepancy_exists,
    record_discrepancy,
    session_order_ref,
)
from app.payments.session_state import paid_or_authorised
from app.payments.stripe_gateway import PaymentProviderError, StripeGateway, get_gateway
from app.payments.stripe_reads import (
    PAGE_SIZE,
    checkout_session_pages,
    event_pages_of_type,
    iter_undelivered_events,
)
from app.piccolo_conf import DB
from app.platform.metrics import RECONCILIATION_FINDINGS, RECONCILIATION_RUNS
from app.settings import get_settings

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
    grace_s: float = 0  # paid sessions younger than this are left to their webhook
    # (order ref, session id) of the paid sessions without an order left to their webhook
    left_to_webhook: list[tuple[str, str]] = field(default_factory=list)
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
            f"undelivered events: {self.undelivered_events}   "
            f"left to their webhook (younger than the grace): {len(self.left_to_webhook)}",
            "",
        ]
        header = ("KIND", "ORDER", "SESSION", "ACTION", "DETAIL")
        rows = [(f.kind, f.order_ref or "-", f.session_id or "-", f.action, f.detail)
                for f in self.findings]
        if not rows and self.errors:  # not "no findings": the check did not finish
            lines.append("the check did not finish (errors below): nothing can be said yet")
        elif not rows:
            lines.append("no findings: Stripe and our orders agree")
        else:
            widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
            for row in [header, *rows]:
                lines.append("  ".join(str(cell).ljust(widths[i]) if i < 4 else str(cell)
                                       for i, cell in enumerate(row)).rstrip())
        if self.left_to_webhook:
            lines += ["", f"Paid, no order yet, left to their webhook (sessions younger than "
                          f"{self.grace_s:g} s; --grace 0 creates them now):"]
            lines += [f"  {ref or '-'}  {session}" for ref, session in self.left_to_webhook]
        for error in self.errors:
            lines.append(f"ERROR: {error}")
        return "\n".join(lines)


# -- the run ------------------------------------------------------------------------------
#
# Stripe is read a page at a time and each page is checked before the next is fetched, so
# a run holds one page of SDK objects however long the window is (a 72 h window of whole
# sessions stepped the worker's memory up on every run of the soak test). What spans pages
# is asked of Postgres, the record: whether a session has its order, and who owns an order
# ref (a second paid session is a duplicate however far apart the two are listed). Only the
# ids of the orders checked against a listed session are carried (8 bytes each), so that
# orders the listing did not show can be looked up on their own at the end.

_ORDERS_IN_WINDOW = (
    "SELECT id, public_id, restaurant, stripe_checkout_session_id AS session_id, status, "
    "currency, total_amount FROM paid_order WHERE paid_at >= {} "
    "AND status NOT IN ('rejected', 'refunded', 'voided', 'charged_back') ")
# (a voided hold, a refund or a lost dispute is expected not to hold the money)
# The report lists findings by check, in the order the checks used to run one after another.
_PHASE = {"undelivered_event": 0, "missing_order": 1, "duplicate_payment": 1,
          "refund_not_recorded": 3}


async def reconcile(redis: ArqRedis, *, since: timedelta, apply: bool,
                    gateway: StripeGateway | None = None, page_size: int = PAGE_SIZE,
                    grace_s: float | None = None) -> Report:
    """Compare Stripe with our orders over the window. `apply=False` changes nothing;
    `apply=True` creates missing orders and records discrepancies (nothing destructive).
    `page_size` is the `limit` of each Stripe listing call (100, Stripe's maximum).
    `grace_s`: a paid session younger than this is left to its webhook (default:
    RECONCILE_GRACE_SECONDS); 0 creates every missing order now (an engineer who knows
    the webhooks are not coming)."""
    gateway = gateway or get_gateway()
    start = datetime.now(UTC) - since
    created_gte = int(start.timestamp())
    grace = get_settings().reconcile_grace_seconds if grace_s is None else grace_s
    report = Report(since=start, applied=apply, grace_s=grace)
    checked = array("q")  # paid_order ids checked against a listed session
    try:
        # Events first: a session they name exists already, so if it was created in the
        # window the listing below shows it; older ones are fetched on their own.
        older = await _undelivered_events(gateway, created_gte, report)
        async for page in checkout_session_pages(gateway, created_gte, limit=page_size):
            report.sessions_seen += len(page)
            await _check_sessions(redis, gateway, [s for s in page if session_order_ref(s)],
                                  start, report, checked)
            del page  # not alive while the next page is fetched
        for session_id in older:
            session = await gateway.retrieve_checkout_session(session_id)
            if session.created < created_gte and session_order_ref(session):
                await _check_sessions(redis, gateway, [session], start, report, checked)
        await _unlisted_orders(gateway, start, checked, report)
        await _unrecorded_refunds(gateway, created_gte, REFUND_GRACE_S, report, page_size)
    except PaymentProviderError as error:
        report.errors.append(error.told())
        log.error("reconciliation stopped: Stripe unavailable", error=str(error))
    report.findings.sort(key=lambda finding: _PHASE.get(finding.kind, 2))
    RECONCILIATION_RUNS.labels(result="error" if report.errors else "ok").inc()
    log.info("reconciliation finished", applied=apply, sessions=report.sessions_seen,
             paid=report.paid_sessions, orders=report.orders_checked,
             findings=report.counts(), errors=len(report.errors))
    return report


async def _undelivered_events(gateway: StripeGateway, created_gte: int, report: Report
                              ) -> list[str]:
    """A finding per Checkout Session event Stripe never delivered. Returns the ids of our
    sessions they name that were created before the window (the listing omits those)."""
    older: list[str] = []
    async for event in iter_undelivered_events(gateway, created_gte):
        if not event.type.startswith("checkout.session."):
            continue
        report.undelivered_events += 1
        session: Any = event.data.object  # the session as it was when the event happened
        session_id = str(getattr(session, "id", "") or "")
        order_ref = session_order_ref(session) if session_id else ""
        if (order_ref and session_id not in older
                and (getattr(session, "created", None) or 0) < created_gte):
            older.append(session_id)
        report.add(Finding("undelivered_event", session_id, order_ref,
                           f"{event.type} ({event.id}) never delivered",
                           "its session checked (a missing_order row if it has no order)"))
    return older


async def _check_sessions(redis: ArqRedis, gateway: StripeGateway,
                          sessions: list[stripe.checkout.Session], start: datetime,
                          report: Report, checked: array[int]) -> None:
    """Some of our sessions (a page): their missing orders first (apply creates them), then
    the orders paid in the window for them, against what Stripe says of each session."""
    if not sessions:
        return
    await _missing_orders(redis, gateway, sessions, report)
    by_id = {session.id: session for session in sessions}
    rows = await DB.run_querystring(QueryString(
        _ORDERS_IN_WINDOW + "AND stripe_checkout_session_id = ANY({}) ORDER BY paid_at",
        start, list(by_id)))
    for row in rows:
        checked.append(row["id"])
        await _check_order(gateway, row, by_id[row["session_id"]], report)


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
                          sessions: list[stripe.checkout.Session], report: Report) -> None:
    complete = [s for s in sessions if s.status == "complete"]
    known = await _known_sessions([s.id for s in complete])
    webhook_due = time.time() - report.grace_s
    for session in complete:
        order_ref = session_order_ref(session)
        try:
            if not await paid_or_authorised(gateway, session, order_ref=order_ref):
                continue
            report.paid_sessions += 1
            if session.id in known:
                continue
            if session.created > webhook_due:  # its webhook is most likely on the way
                report.left_to_webhook.append((order_ref, session.id))
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
    outcome = await create_missing_order(redis, gateway, session, "reconcile")
    action = {"created": "order created", "duplicate_payment": "discrepancy recorded",
              "restaurant_mismatch": "discrepancy recorded"}.get(
        outcome.result, f"none ({outcome.result})")
    report.add(Finding(outcome.result if outcome.result in ("duplicate_payment",
                                                            "restaurant_mismatch") else kind,
                       session.id, order_ref, detail, action))


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


async def _unlisted_orders(gateway: StripeGateway, start: datetime, checked: array[int],
                           report: Report) -> None:
    """Orders paid in the window that no listed session accounted for (the session is
    older than the window, was paid during this run, or Stripe does not know it): each
    session is fetched on its own. A hashed anti-join, not `<> ALL`, for large windows."""
    rows = await DB.run_querystring(QueryString(
        _ORDERS_IN_WINDOW + "AND id NOT IN (SELECT unnest({}::bigint[])) ORDER BY paid_at",
        start, checked.tolist()))
    for row in rows:
        await _check_order(gateway, row, None, report)


async def _check_order(gateway: StripeGateway, row: dict[str, Any],
                       session: stripe.checkout.Session | None, report: Report) -> None:
    """An order whose payment Stripe does not confirm, or confirms for a different amount."""
    report.orders_checked += 1
    order_ref, session_id = row["public_id"], row["session_id"]
    try:
        if session is None:
            session = await gateway.retrieve_checkout_session(session_id, order_ref=order_ref)
    except PaymentProviderError as error:
        if error.transient:
            report.errors.append(f"{order_ref}: Stripe: {error}")
            return
        await _discrepancy(report, "payment_not_found", session_id, order_ref,
                           row["restaurant"], {"error": str(error)[:300]},
                           "Stripe does not know this Checkout Session")
        return
    if not await paid_or_authorised(gateway, session, order_ref=order_ref):
        await _discrepancy(report, "payment_not_confirmed", session_id, order_ref,
                           row["restaurant"],
                           {"session_status": session.status,
                            "payment_status": session.payment_status},
                           f"Stripe says {session.status}/{session.payment_status}")
        return
    currency = (session.currency or "").lower()
    if session.amount_total != row["total_amount"] or currency != row["currency"].lower():
        await _discrepancy(report, "amount_mismatch", session_id, order_ref,
                           row["restaurant"],
                           {"amount_charged": session.amount_total, "currency": currency,
                            "order_total": row["total_amount"]},
                           f"Stripe charged {session.amount_total} {currency}; order "
                           f"totals {row['total_amount']} {row['currency']}")


async def _unrecorded_refunds(gateway: StripeGateway, created_gte: int, grace_s: float,
                              report: Report, page_size: int) -> None:
    """Refunds Stripe made (`charge.refunded`) on orders we do not have as refunded, a page
    of events at a time. Events come newest first, so an intent's first event past the
    grace period is the one reported; `reported` keeps an older page from repeating it."""
    cutoff = time.time() - grace_s
    reported: set[str] = set()  # intents with a finding: as few as the findings
    async for page in event_pages_of_type(gateway, "charge.refunded", created_gte,
                                          limit=page_size):
        charges: dict[str, tuple[str, int]] = {}  # intent → (charge id, amount refunded)
        for event in page:
            charge: Any = event.data.object
            intent = str(getattr(charge, "payment_intent", None) or "")
            if getattr(charge, "captured", None) is False:
                # A hold released (voided or lapsed), not money returned: an account on an
                # API version before 2025-03-31.basil gets `charge.refunded` for it.
                continue
            if (event.created <= cutoff and intent and intent not in charges
                    and intent not in reported):
                charges[intent] = (str(charge.id), int(charge.amount_refunded))
        del page
        if charges:
            reported |= await _refunds_not_recorded(charges, report)


async def _refunds_not_recorded(charges: dict[str, tuple[str, int]], report: Report
                                ) -> set[str]:
    rows = await DB.run_querystring(QueryString(
        "SELECT public_id, restaurant, stripe_checkout_session_id AS session_id, status, "
        "stripe_payment_intent_id AS intent, amount_refunded AS recorded FROM paid_order "
        "WHERE stripe_payment_intent_id = ANY({}) AND status <> 'refunded'", list(charges)))
    rows = [row for row in rows if row["recorded"] < charges[row["intent"]][1]]
    for row in rows:
        charge_id, amount_refunded = charges[row["intent"]]
        await _discrepancy(report, "refund_not_recorded", row["session_id"], row["public_id"],
                           row["restaurant"],
                           {"charge": charge_id, "amount_refunded": amount_refunded,
                            "order_status": row["status"]},
                           f"Stripe refunded {amount_refunded} "
                           f"(charge {charge_id}); order is {row['status']}")
    return {row["intent"] for row in rows}
