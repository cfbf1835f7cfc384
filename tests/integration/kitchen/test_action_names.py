"""A ticket's buttons name their ticket: a screen reader moving from button to button heard
"Accept", "Reject", "Ready", "Ready" without knowing whose (an outside try with a tablet).
The visible word stays first in the name (the name a voice-control user speaks)."""

from __future__ import annotations

import re

import httpx

from tests.helpers.accounts import login
from tests.helpers.orders import make_paid_order


def _buttons(board: str, ref: str) -> list[tuple[str, str]]:
    """(accessible name, visible text) of each button of `ref`'s card."""
    card = board[board.index(f'id="card-{ref}"'):]
    card = card[:card.index("</article>")]
    return [(label, text.strip()) for label, text in re.findall(
        r'<button[^>]*aria-label="([^"]*)"[^>]*>([^<]*)</button>', card)]


async def test_each_action_button_names_its_ticket(client: httpx.AsyncClient) -> None:
    new = await make_paid_order()
    cooking = await make_paid_order(status="preparing")
    await login(client, "kitchen@demo.test")
    board = (await client.get("/kitchen/demo/board")).text
    assert _buttons(board, new.public_id) == [
        (f"Accept ticket {new.ticket_number}", "Accept"),
        (f"Reject ticket {new.ticket_number}", "Reject")]
    names = _buttons(board, cooking.public_id)
    assert (f"Ready ticket {cooking.ticket_number}", "Ready") in names
    assert all(label.startswith(text) and label.endswith(f"ticket {cooking.ticket_number}")
               for label, text in names), names
