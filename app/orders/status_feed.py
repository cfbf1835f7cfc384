"""The customer's live status stream (`/orders/{ref}/events`): an `order-updated` event with
what the status page may show (status and timing only) on connect and whenever the order
changes, read once per change for every page open on the order (`app.live`).

`booked` is true while a paid order for later waits for its release to the kitchen (the
page's "your order is booked"); the release (app/orders/release.py) publishes on this order's
channel too, through its outbox row, so an open page switches to "waiting for the kitchen to
accept" when the kitchen gets the ticket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from litestar.channels import ChannelsPlugin
from litestar.response import ServerSentEventMessage as Message
from redis.asyncio import Redis

from app.infra.db import fetch
from app.live.feed import order_channel
from app.live.shared_render import tick
from app.live.sse import channel_stream, encoded
from app.orders.temp_store import TempOrderStore, is_temp_id
from app.orders.views import view_of_archived
from app.settings import get_settings

ORDER_EVENT = "order-updated"


async def order_status(order_ref: str, redis: Redis) -> dict[str, object] | None:
    """What the public status stream may say about an order: status and timing only.
    Paid orders come from Postgres; an order still awaiting payment from the temp store."""
    if "\x00" in order_ref:  # Postgres refuses NUL in text: no such order, not a 500
        return None
    # Raw SQL: it runs on every change of the order for every page open on it, and the ORM
    # object cost more than the query.
    rows = await fetch(ORDER_STATUS, order_ref)
    order = rows[0] if rows else None
    if order is None:
        if not is_temp_id(order_ref):
            return None
        temp = await TempOrderStore(redis, get_settings().temp_order_ttl_hours * 3600).get(
            order_ref)
        if temp is None:
            archived = await view_of_archived(order_ref)  # closed long ago: still answers
            if archived is None:
                return None
            return {"id": archived.id, "status": archived.status, "booked": False,
                    "ticket_number": archived.ticket_number,
                    "prep_minutes": archived.prep_minutes,
                    "promised_at": archived.promised_at.isoformat()
                    if archived.promised_at else None, "updated_at": None}
        return {"id": temp.id, "status": temp.status, "booked": False, "ticket_number": None,
                "prep_minutes": None, "promised_at": None,
                "updated_at": temp.updated_at.isoformat() if temp.updated_at else None}
    return {
        "id": order["public_id"], "status": order["status"], "booked": order["booked"],
        "ticket_number": order["ticket_number"], "prep_minutes": order["prep_minutes"],
        "promised_at": order["promised_at"].isoformat() if order["promised_at"] else None,
        "updated_at": order["updated_at"].isoformat() if order["updated_at"] else None,
    }


# `booked`: as OrderView.booked_ahead (app/orders/models.py), the page's own test.
ORDER_STATUS = ("SELECT public_id, status, ticket_number, prep_minutes, promised_at, "
                "updated_at, (status = 'paid' AND scheduled_for IS NOT NULL "
                "AND released_at IS NULL) AS booked FROM paid_order WHERE public_id = $1")


def order_stream(channels: ChannelsPlugin, ref: str, redis: Redis) -> AsyncIterator[Message]:
    """The order's status now, then again after every change to it."""

    async def status_message() -> Message | None:
        status = await order_status(ref, redis)
        return None if status is None else encoded(
            ORDER_EVENT, json.dumps(status, separators=(",", ":")))

    async def snapshot(_after: int) -> tuple[int, Message | None]:
        started = tick()
        return started, await status_message()

    async def compose(_batch: list[bytes]) -> Message | None:
        return await status_message()  # one read for every page open on this order

    return channel_stream(channels, order_channel(ref), snapshot, compose,
                          about={"order_id": ref})
