"""Two refunds of one order recorded at the same moment (the owner's items refund and the
admin's "Refund everything", 20 ms apart in an outside try): the order's running total is
the sum of both. Each recording used to add up the refunds its own statement could see, so
the later commit overwrote the total with its own refund alone (€13.00 recorded, €36.50
refunded by Stripe)."""

from __future__ import annotations

import asyncio

from app.orders.tables import PaidOrder
from app.payments.settlement import record_refund
from tests.helpers.orders import make_paid_order


async def test_refunds_recorded_together_add_up() -> None:
    for _ in range(5):  # the race needs the two transactions to interleave; give it chances
        order = await make_paid_order(amount_charged=3650)
        recorded = await asyncio.gather(
            record_refund(order, f"re_{order.public_id}_a", 2350, source="admin"),
            record_refund(order, f"re_{order.public_id}_b", 1300, source="admin"))
        assert recorded == [True, True]
        row = await PaidOrder.select(PaidOrder.amount_refunded).where(
            PaidOrder.id == order.id).first()
        assert row == {"amount_refunded": 3650}
