"""Housekeeping jobs that keep Redis tidy."""

from __future__ import annotations

import time
from typing import Any

from app.ops.heartbeat import HEARTBEAT_KEY


async def prune_heartbeats(ctx: dict[str, Any]) -> int:
    """Forget workers that have not beaten for a day (dead hosts, old pids)."""
    return int(await ctx["redis"].zremrangebyscore(HEARTBEAT_KEY, "-inf", time.time() - 86400))
