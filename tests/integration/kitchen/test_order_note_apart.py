"""A note for the whole order reads as one, on the screen and on the printed ticket. Shown
right under the last dish, unlabelled and styled as a dish's own note, a diner's "no onions,
extra spicy" read as meant for the risotto only (an outside try)."""

from __future__ import annotations

import re

import httpx

from tests.helpers.accounts import login
from tests.helpers.orders import make_paid_order


def _squeezed(html: str) -> str:
    return " ".join(html.split())


async def test_the_order_note_is_labelled_apart_from_the_last_dishs_note(
        client: httpx.AsyncClient) -> None:
    order = await make_paid_order(
        items=[("Margherita pizza", 1100, 1, "well done"), ("Mushroom risotto", 1450, 5, "")],
        notes="No onions at all, extra spicy")
    await login(client, "kitchen@demo.test")
    board = _squeezed((await client.get("/kitchen/demo/board")).text)
    card = board[board.index(f'id="card-{order.public_id}"'):]
    card = card[:card.index("</article>") if "</article>" in card else len(card)]
    note = re.search(r'<p class="order-notes" role="note">(.*?)</p>', card)
    assert note, card
    assert note.group(1) == ('<span class="order-notes-label">Order note:</span> '
                             "No onions at all, extra spicy")
    assert '<span class="line-notes">well done</span>' in card  # the dish's own, unlabelled
    lines_end = card.index("</ul>")
    assert card.index("order-notes") > lines_end  # after the list of dishes, not in it
    ticket = _squeezed((await client.get(f"/kitchen/demo/orders/{order.public_id}/ticket")).text)
    assert "<strong>ORDER NOTE:</strong> No onions at all, extra spicy" in ticket
