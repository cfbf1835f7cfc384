"""The kitchen board as tests read it: the statements its one read sends, and the three
places a screen gets its side panels from (the page, the `board` frame, a `tickets` frame)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.infra import db
from app.kitchen import board_feed
from app.restaurants.tables import Restaurant


def count_board_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL each board read sends from here on (app/kitchen/board_query.py)."""
    calls: list[str] = []
    real = db.fetch

    async def counted(sql: str, *args: Any) -> Any:
        calls.append(sql)
        return await real(sql, *args)

    monkeypatch.setattr("app.kitchen.board_query.fetch", counted)
    return calls


async def every_board_render(client: httpx.AsyncClient, slug: str, changed_ref: str
                             ) -> tuple[str, str, str]:
    """The kitchen page, its `board` frame and the `tickets` frame for `changed_ref` (any
    ticket's change redraws the side panels of every screen)."""
    restaurant = await Restaurant.objects().get(Restaurant.slug == slug)
    assert restaurant is not None
    page = (await client.get(f"/kitchen/{slug}")).text
    board = (await board_feed.board_frame(restaurant)).data
    changes = (await board_feed.tickets_frame(restaurant, [changed_ref])).data
    return page, board, changes
