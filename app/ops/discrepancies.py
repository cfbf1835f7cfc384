"""The discrepancy queue (Stripe and our records disagree) and its one-click fixes: create the
missing order from the Checkout Session, refund, resend an email, resolve with a note. Each
fix owns its transaction, is idempotent on Stripe's side and logs the order id."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.notifications.service import EMAIL_KINDS, enqueue_email, rows_by_id
from app.orders.tables import PaidOrder
from app.payments import settlement
from app.payments.stripe_gateway import PaymentProviderError, get_gateway
from app.payments.tables import Discrepancy
from app.piccolo_conf import DB

log = get_logger("orderpass.discrepancies")

STATUSES = ("open", "resolved")
MAX_NOTE = 1000
REFUNDABLE_STATUSES = ("paid", "accepted", "preparing", "ready", "completed", "rejected")


class FixError(Exception):
    """The fix cannot be applied (bad input or state): HTTP 4xx with this message."""

    def __init__(self, message: str, status_code: int = 409) -> None:
        super().__init__(message)
        self.status_code = status_code


class NotFound(FixError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 404)


@dataclass(frozen=True)
class DiscrepancyView:
    id: int
    kind: str
    session_id: str
    order_ref: str
    restaurant_id: int | None
    details: dict[str, Any]
    status: str
    resolved_by: str
    resolution_note: str
    created_at: datetime
    resolved_at: datetime | None
    order_status: str | None = None  # the order's status when one exists
    actions: tuple[str, ...] = field(default=())

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def _details(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {"raw": str(raw)}
    return value if isinstance(value, dict) else {"value": value}


def _actions(kind: str, status: str, order_status: str | None, session_id: str,
             order_ref: str) -> tuple[str, ...]:
    """Which one-click fixes make sense for this row."""
    if status != "open":
        return ()
    actions: list[str] = []
    if session_id and order_status is None and kind != "duplicate_payment":
        actions.append("create_order")
    if (session_id or order_ref) and order_status not in ("refunded", "voided"):
        actions.append("refund")
    if order_ref and order_status is not None:
        actions.append("resend_email")
    actions.append("resolve")
    return tuple(actions)


async def _view(row: dict[str, Any]) -> DiscrepancyView:
    order_status = None
    session_id, order_ref = row["stripe_checkout_session_id"], row["order_ref"]
    if session_id or order_ref:
        found = await PaidOrder.select(PaidOrder.status).where(
            (PaidOrder.stripe_checkout_session_id == session_id) if session_id
            else (PaidOrder.public_id == order_ref)).first()
        order_status = found["status"] if found else None
    return DiscrepancyView(
        id=row["id"], kind=row["kind"], session_id=session_id, order_ref=order_ref,
        restaurant_id=row["restaurant"], details=_details(row["details"]), status=row["status"],
        resolved_by=row["resolved_by"], resolution_note=row["resolution_note"],
        created_at=row["created_at"], resolved_at=row["resolved_at"], order_status=order_status,
        actions=_actions(row["kind"], row["status"], order_status, session_id, order_ref))


async def list_discrepancies(status: str | None = "open", limit: int = 200
                             ) -> list[DiscrepancyView]:
    """Newest first; `status` None lists both."""
    query = Discrepancy.select()
    if status in STATUSES:
        query = query.where(Discrepancy.status == status)
    rows = await query.order_by(Discrepancy.created_at, ascending=False).order_by(
        Discrepancy.id, ascending=False).limit(limit)
    return [await _view(row) for row in rows]


async def get_discrepancy(discrepancy_id: int) -> DiscrepancyView:
    row = await Discrepancy.select().where(Discrepancy.id == discrepancy_id).first()
    if row is None:
        raise NotFound(f"no discrepancy {discrepancy_id}")
    return await _view(row)


async def count_open() -> int:
    return await Discrepancy.count().where(Discrepancy.status == "open")


async def resolve(discrepancy_id: int, *, by: str, note: str) -> DiscrepancyView:
    """Mark resolved with who, when and why (open rows only; a second click is refused)."""
    note = note.strip()
    if not note:
        raise FixError("a note is required to resolve a discrepancy", 400)
    if len(note) > MAX_NOTE:
        raise FixError(f"the note is longer than {MAX_NOTE} characters", 400)
    async with DB.transaction():
        current = await get_discrepancy(discrepancy_id)
        moved = await Discrepancy.update({
            Discrepancy.status: "resolved", Discrepancy.resolved_by: by[:254],
            Discrepancy.resolution_note: note, Discrepancy.resolved_at: datetime.now(UTC),
        }).where((Discrepancy.id == discrepancy_id) & (Discrepancy.status == "open")
                 ).returning(Discrepancy.id)
    if not moved:
        raise FixError("this discrepancy is already resolved")
    log.info("discrepancy resolved", discrepancy=discrepancy_id, kind=current.kind,
             order_id=current.order_ref, by=by)
    return await get_discrepancy(discrepancy_id)


async def create_order_from_session(redis: ArqRedis, discrepancy_id: int, *, by: str
                                    ) -> DiscrepancyView:
    """A paid Checkout Session with no order: record it as Stripe's webhook would have."""
    from app.payments.confirm import confirm_paid_session

    item = await get_discrepancy(discrepancy_id)
    if not item.is_open:
        raise FixError("this discrepancy is already resolved")
    if not item.session_id:
        raise FixError("this discrepancy names no Checkout Session", 400)
    session = await get_gateway().retrieve_checkout_session(item.session_id,
                                                             order_ref=item.order_ref)
    outcome = await confirm_paid_session(
        redis, session, event_id=f"admin:{item.session_id}",
        event_type="checkout.session.completed", remember_unpaid=False)
    if outcome.result == "awaiting_async_result":
        raise FixError(f"the Checkout Session is not paid ({session.status}/"
                       f"{session.payment_status}): no order was created")
    await outcome.finish()
    log.info("admin created order from session", order_id=outcome.order_ref,
             session=item.session_id, outcome=outcome.result, by=by)
    await _resolve_quietly(discrepancy_id, by,
                           f"order {outcome.order_ref} from {item.session_id}: "
                           f"{outcome.result.replace('_', ' ')}")
    return await get_discrepancy(discrepancy_id)


async def refund(discrepancy_id: int, *, by: str) -> DiscrepancyView:
    """Give the money back. The session's own order (if any) is settled as a whole
    (`settlement.give_back`: its uncaptured hold released, else what remains refunded with
    the key `refund/<order ref>`, the kitchen's key, so never twice) and moved to `voided` or
    `refunded` by the state machine; a payment with no order of its own (a duplicate) is
    refunded with the key `refund/<session id>`."""
    from app.orders import lifecycle
    from app.payments import settlement

    item = await get_discrepancy(discrepancy_id)
    if not item.is_open:
        raise FixError("this discrepancy is already resolved")
    order = await _order_of(item)
    gateway = get_gateway()
    if order is not None:
        if order.status in ("refunded", "voided"):
            raise FixError(f"order {order.public_id} is already {order.status}")
        try:
            outcome = await settlement.give_back(order, source="admin", by=by)
        except settlement.SettlementFailed as error:
            cause = (f"{settlement.UNREACHABLE}; try again in a minute" if error.unreachable
                     else "not done" if error.permanent else "not done; try again")
            raise FixError(f"Stripe: {error} ({cause})", 502) from error
        # IllegalTransition: Stripe's webhook recorded it meanwhile.
        with contextlib.suppress(lifecycle.IllegalTransition):
            await lifecycle.apply_action(order.public_id,
                                         "void" if outcome == "voided" else "refund",
                                         actor=by)
        refund_id = await settlement.last_refund_id(order.id)
        note = (f"voided the authorisation {order.stripe_payment_intent_id}"
                if outcome == "voided" else
                f"{outcome.replace('_', ' ')} {order.stripe_payment_intent_id} ({refund_id})")
        ref = order.public_id
    else:
        if not item.session_id:
            raise FixError("nothing to refund: no order and no Checkout Session", 400)
        session = await gateway.retrieve_checkout_session(item.session_id,
                                                           order_ref=item.order_ref)
        payment_intent = session.payment_intent
        intent = payment_intent if isinstance(payment_intent, str) else (
            payment_intent.id if payment_intent is not None else "")
        if not intent:
            raise FixError("the Checkout Session has no payment to refund")
        ref = item.order_ref
        refund_object = await gateway.refund_payment_intent(
            intent, idempotency_key=f"refund/{item.session_id}", order_ref=ref)
        note = f"refunded {intent} ({refund_object.id})"
    log.info("admin refund", order_id=ref, outcome=note, session=item.session_id, by=by)
    await _resolve_quietly(discrepancy_id, by, note)
    return await get_discrepancy(discrepancy_id)


async def _order_of(item: DiscrepancyView) -> PaidOrder | None:
    """The order this discrepancy's payment belongs to (a duplicate payment has none)."""
    if item.session_id:
        return await PaidOrder.objects().get(
            PaidOrder.stripe_checkout_session_id == item.session_id)
    if item.order_ref:
        return await PaidOrder.objects().get(PaidOrder.public_id == item.order_ref)
    return None


async def resend_email(redis: ArqRedis, order_ref: str, kind: str, *, by: str,
                       email_id: int | None = None) -> None:
    """Send `kind` for `order_ref` again, with a new Resend idempotency key. `email_id`: the
    email (row) resent, from the email log: a refund email is resent as it was, about its
    own refund, not the latest; without one, a refund email tells the latest refund (named
    on the resend's row now, so a refund made before it goes out does not change it)."""
    if kind not in EMAIL_KINDS:
        raise FixError(f"unknown email kind {kind!r}", 400)
    if not order_ref:
        raise FixError("no order to email", 400)
    refund_id = ""
    if email_id is not None:
        rows = await rows_by_id([email_id])
        if not rows or (rows[0].order_ref, rows[0].kind) != (order_ref, kind):
            raise NotFound(f"no {kind} email {email_id} of order {order_ref}")
        refund_id = rows[0].refund_id
    elif kind == "order_refunded":
        order = await PaidOrder.objects().get(PaidOrder.public_id == order_ref)
        refund_id = await settlement.last_refund_id(order.id) if order is not None else ""
    try:
        await enqueue_email(redis, kind, order_ref, resend=True, refund_id=refund_id)
    except LookupError as error:
        raise NotFound(str(error)) from error
    log.info("admin email resend", order_id=order_ref, kind=kind, by=by, email=email_id,
             refund=refund_id)


async def _resolve_quietly(discrepancy_id: int, by: str, note: str) -> None:
    """A successful fix resolves its row (skipped if someone resolved it meanwhile)."""
    with contextlib.suppress(FixError):
        await resolve(discrepancy_id, by=by, note=note)


__all__ = ["DiscrepancyView", "FixError", "NotFound", "PaymentProviderError", "count_open",
           "create_order_from_session", "get_discrepancy", "list_discrepancies",
           "refund", "resend_email", "resolve"]
