"""The restaurant's disputes that wait for the owner's answer in Stripe, for the overview:
an inquiry or a chargeback left unanswered is decided against the restaurant."""

from __future__ import annotations

from dataclasses import dataclass

from app.orders.tables import PaidOrder
from app.payments.dispute_status import NEEDS_ANSWER


@dataclass(frozen=True)
class DisputeToAnswer:
    ref: str
    ticket_number: int
    amount: int  # what the bank asks about: the charge less what was refunded before
    currency: str
    dispute_status: str


async def disputes_to_answer(restaurant_id: int, limit: int = 50) -> list[DisputeToAnswer]:
    rows = await PaidOrder.select(
        PaidOrder.public_id, PaidOrder.ticket_number, PaidOrder.amount_charged,
        PaidOrder.amount_refunded, PaidOrder.currency, PaidOrder.dispute_status,
    ).where(
        (PaidOrder.restaurant == restaurant_id)
        & PaidOrder.dispute_status.is_in(list(NEEDS_ANSWER))
    ).order_by(PaidOrder.paid_at).limit(limit)
    return [DisputeToAnswer(row["public_id"], row["ticket_number"],
                            max(0, row["amount_charged"] - row["amount_refunded"]),
                            row["currency"], row["dispute_status"]) for row in rows]
