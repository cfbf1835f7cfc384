"""An order flagged for review (Stripe charged another amount than the order's total, a
refund that failed) says so on the printed ticket as on the screen's card: the printout is
what travels to the pass, and it read only "Tomato soup … paid" (an outside try)."""

from __future__ import annotations

import httpx

from tests.helpers.accounts import login
from tests.helpers.orders import make_paid_order

REASON = "Stripe charged 50 eur; the order totals 650 eur"


async def test_the_printed_ticket_carries_the_review_flag_and_its_reason(
        client: httpx.AsyncClient) -> None:
    flagged = await make_paid_order(needs_review=True, review_reason=REASON)
    plain = await make_paid_order()
    await login(client, "kitchen@demo.test")
    board = " ".join((await client.get("/kitchen/demo/board")).text.split())
    assert f"Needs review: {REASON}" in board
    ticket = " ".join(
        (await client.get(f"/kitchen/demo/orders/{flagged.public_id}/ticket")).text.split())
    assert f"*** NEEDS REVIEW: {REASON} ***" in ticket
    other = (await client.get(f"/kitchen/demo/orders/{plain.public_id}/ticket")).text
    assert "NEEDS REVIEW" not in other
