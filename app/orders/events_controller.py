"""The status page's live stream (`GET /orders/{ref}/events`, public SSE). Thin: check the
order exists, hand over to `app.orders.status_feed`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from app.live.sse import LiveEvents
from app.orders import status_feed


class OrderEventsController(Controller):
    path = "/orders"
    include_in_schema = False

    @get("/{ref:str}/events")
    async def order_events(self, request: Request[Any, Any, Any], ref: FromPath[str],
                           channels: NamedDependency[ChannelsPlugin]) -> LiveEvents:
        """Public SSE for the status page: `order-updated` with the order's status JSON on
        connect and whenever it changes. The id is unguessable; only status info is sent."""
        redis = request.app.state.redis
        if await status_feed.order_status(ref, redis) is None:
            raise NotFoundException("no such order")
        return LiveEvents(status_feed.order_stream(channels, ref, redis),
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
