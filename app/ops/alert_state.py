"""Which alerts are firing: one Redis key per alert while it fires, written by the evaluator
(`app.ops.alerts`) and read by the on-call view (`app.ops.system`)."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

STATE_KEY = "orderpass:alerts:{name}"  # JSON {"since", "notified_at", "summary"} while firing


async def firing_alerts(redis: Redis) -> dict[str, dict[str, Any]]:
    """Alerts currently firing (for the admin system page)."""
    found: dict[str, dict[str, Any]] = {}
    async for raw_key in redis.scan_iter(match=STATE_KEY.format(name="*")):
        key = raw_key.decode() if isinstance(raw_key, bytes) else str(raw_key)
        raw = await redis.get(key)
        if raw:
            found[key.rsplit(":", 1)[1]] = json.loads(raw)
    return found
