"""What a kitchen screen's live stream sends: the whole board (`board`) on connect and on
resync, then the tickets each burst of order events changed (`tickets`). Both are rendered
once per process for all the restaurant's screens (`app.live`) and sent to each as the same
bytes; their forms carry no CSRF token, as the page's htmx sends it as a header."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from litestar.channels import ChannelsPlugin
from litestar.response import ServerSentEventMessage as Message

from app.kitchen import services
from app.live.feed import decode_event, kitchen_channel
from app.live.shared_render import SharedRender
from app.live.sse import EncodedMessage, channel_stream, compact, encoded
from app.restaurants.tables import Restaurant
from app.templating import environment

BOARD_TEMPLATE, TICKETS_TEMPLATE = "kitchen_board.html", "kitchen_changes.html"
BOARD_EVENT = "board"  # the whole board: on connect and on resync
TICKETS_EVENT = "tickets"  # the tickets a burst of events changed, plus the side panels
# More tickets than this in one burst: the whole board is cheaper to send than the changes.
MAX_CHANGED_TICKETS = 20
BOARDS: SharedRender[EncodedMessage] = SharedRender()  # per process, keyed by restaurant id
# How long a restaurant's settings (time zone, default prep) read for live updates are reused.
RESTAURANT_TTL_S = 30.0


def changed_refs(batch: list[bytes]) -> list[str] | None:
    """The order refs a burst of channel events names, in order, or None when the burst
    calls for the whole board (an event without a ref, or too many tickets at once)."""
    refs: list[str] = []
    for raw in batch:
        ref = decode_event(raw).get("order_ref")
        if not isinstance(ref, str) or not ref:
            return None
        if ref not in refs:
            refs.append(ref)
    return refs if len(refs) <= MAX_CHANGED_TICKETS else None


async def board_frame(restaurant: Restaurant) -> EncodedMessage:
    """The `board` event: the whole board, read fresh."""
    board = await services.board(restaurant)
    html = environment().get_template(BOARD_TEMPLATE).render(board=board, csrf="")
    return encoded(BOARD_EVENT, compact(html))


async def tickets_frame(restaurant: Restaurant, refs: list[str]) -> EncodedMessage:
    """The `tickets` event: the named tickets (or their leaving) and the side panels."""
    changes = await services.changes(restaurant, refs)
    html = environment().get_template(TICKETS_TEMPLATE).render(changes=changes, csrf="")
    return encoded(TICKETS_EVENT, compact(html))


class BoardFeed:
    """One screen's source of frames: snapshots shared through `BOARDS`, and one `tickets`
    frame per burst (composed once by the channel's hub for every screen)."""

    def __init__(self, restaurant: Restaurant) -> None:
        self.restaurant_id = services.row_id(restaurant)
        self.settings = _RestaurantSettings(restaurant)

    async def snapshot(self, after: int) -> tuple[int, Message]:
        return await BOARDS.get(self.restaurant_id, after, self._board)

    async def _board(self) -> EncodedMessage:
        return await board_frame(await self.settings.fresh())

    async def compose(self, batch: list[bytes]) -> Message | None:
        refs = changed_refs(batch)
        if refs is None:
            return None
        return await tickets_frame(await self.settings.recent(), refs)


def board_stream(channels: ChannelsPlugin, restaurant: Restaurant, *,
                 heartbeat_s: float | None = None) -> AsyncIterator[Message]:
    """A screen's events: `board` on connect and on resync, then `tickets` per burst."""
    feed = BoardFeed(restaurant)
    return channel_stream(channels, kitchen_channel(feed.restaurant_id), feed.snapshot,
                          feed.compose, heartbeat_s=heartbeat_s,
                          about={"restaurant": str(restaurant.slug)})


class _RestaurantSettings:
    """The restaurant row behind a board: re-read for every snapshot, and reused for up to
    RESTAURANT_TTL_S by live updates, which run per burst of orders."""

    def __init__(self, restaurant: Restaurant) -> None:
        self.row = restaurant
        self.read_at = time.monotonic()

    async def fresh(self) -> Restaurant:
        self.row = await services.restaurant_by_id(services.row_id(self.row)) or self.row
        self.read_at = time.monotonic()
        return self.row

    async def recent(self) -> Restaurant:
        if time.monotonic() - self.read_at > RESTAURANT_TTL_S:
            return await self.fresh()
        return self.row
