"""A booked order with an allergy is flagged in the "Scheduled" panel as its ticket will be
(the filled red allergy badge, in words and named for a screen reader), so the cook can plan:
on the page, in the whole-board frame and in a `tickets` frame's side panels."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from app.orders.tables import OrderItem
from tests.helpers.accounts import login
from tests.helpers.board import every_board_render
from tests.helpers.orders import make_paid_order


def entry(html: str, ref: str) -> str:
    found = re.search(rf'data-scheduled="{ref}">(.*?)</li>', html, re.S)
    assert found, ref
    return found.group(1)


async def test_scheduled_orders_flag_their_allergies(client: httpx.AsyncClient) -> None:
    await login(client, "kitchen@demo.test")
    slot = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    whole = await make_paid_order(scheduled_for=slot, prep_minutes=15, allergy="peanuts")
    line = await make_paid_order(scheduled_for=slot, prep_minutes=15,
                                 items=[("Burrata", 1200, 1, ""), ("Lemonade", 450, 1, "")])
    await OrderItem.update({OrderItem.allergy: "nuts"}).where(
        (OrderItem.paid_order == line.id) & (OrderItem.name == "Burrata"))
    plain = await make_paid_order(scheduled_for=slot, prep_minutes=15)

    for html in await every_board_render(client, "demo", plain.public_id):
        flagged = entry(html, whole.public_id)
        assert ('<span class="allergy" role="note" aria-label="Allergy: peanuts">'
                '<span aria-hidden="true">⚠</span> Allergy: peanuts</span>') in flagged
        assert 'aria-label="Allergy: nuts (Burrata)"' in entry(html, line.public_id)
        assert "Allergy: nuts (Burrata)</span>" in entry(html, line.public_id)
        assert "allergy" not in entry(html, plain.public_id).lower()
