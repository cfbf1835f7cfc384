"""The on-call view's data: `app.ops.system.system_snapshot`, as named components with a
verdict and their facts."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from app.infra.logging import get_logger
from app.ops.system import system_snapshot

log = get_logger("orderpass.admin.system")


@dataclass(frozen=True)
class Component:
    name: str
    ok: bool | None  # None: informational, no verdict
    facts: list[tuple[str, str]] = field(default_factory=list)


SNAPSHOT_TIMEOUT_S = 4.0


async def snapshot(redis: Redis) -> dict[str, Any]:
    try:
        return dict(await asyncio.wait_for(system_snapshot(redis), SNAPSHOT_TIMEOUT_S))
    except Exception as error:  # the on-call page shows the failure instead of a 500
        log.warning("system snapshot failed", error=str(error)[:300])
        return {"snapshot": {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}}


def _fact(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={_fact(inner)}" for key, inner in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_fact(inner) for inner in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def components(data: Mapping[str, Any]) -> list[Component]:
    """Any snapshot shape → named components with a verdict (when `ok` is given) and facts."""
    result = []
    for name, value in data.items():
        if isinstance(value, Mapping):
            ok = value.get("ok")
            verdict = bool(ok) if ok is not None else (
                value.get("status") in ("ok", "up", "healthy") if "status" in value else None)
            facts = [(str(key), _fact(inner)) for key, inner in value.items() if key != "ok"]
            result.append(Component(str(name), verdict, facts))
        else:
            result.append(Component(str(name), None, [("value", _fact(value))]))
    return result


def checked_at() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S UTC")
