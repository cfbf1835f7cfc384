"""The outbox relay: re-deliver what the webhook's fast path did not finish."""

from __future__ import annotations

from typing import Any

from app.platform import outbox


async def relay_outbox(ctx: dict[str, Any]) -> dict[str, int]:
    return await outbox.relay(ctx["redis"])
