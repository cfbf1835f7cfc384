"""What a kitchen screen of restaurant 1 would have been told: the restaurant's live channel,
read directly."""

from __future__ import annotations

import json
from typing import Any

from arq.connections import ArqRedis

from app.live.feed import kitchen_channel


class KitchenListener:
    """Counts what a kitchen screen of restaurant 1 would have been told."""

    def __init__(self, redis: ArqRedis) -> None:
        self.pubsub = redis.pubsub()

    async def __aenter__(self) -> KitchenListener:
        await self.pubsub.subscribe(kitchen_channel(1))
        await self.pubsub.get_message(timeout=1)  # the subscribe confirmation
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.pubsub.aclose()

    async def events(self, wait: float = 0.3) -> list[dict[str, Any]]:
        found = []
        while (message := await self.pubsub.get_message(ignore_subscribe_messages=True,
                                                        timeout=wait)) is not None:
            found.append(json.loads(message["data"]))
        return found
