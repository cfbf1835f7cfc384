"""The on-call view's data: `app.ops.system.system_snapshot` when the ops package provides
it, otherwise what this process can check itself (readiness, outbox, email, discrepancies)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from app.infra.logging import get_logger

log = get_logger("orderpass.admin.system")


@dataclass(frozen=True)
class Component:
    name: str
    ok: bool | None  # None: informational, no verdict
    facts: list[tuple[str, str]] = field(default_factory=list)


async def _fallback(redis: Redis) -> dict[str, Any]:
    from app.ops.health import readiness
    from app.piccolo_conf import DB

    ready = await readiness(redis)
    snapshot: dict[str, Any] = dict(ready.checks)
    try:
        rows = await DB.run_querystring(_counts())
        snapshot["backlog"] = dict(rows[0]) if rows else {}
    except Exception as error:  # the page must render whatever is down
        snapshot["backlog"] = {"ok": False, "error": str(error)[:300]}
    try:
        snapshot["queue"] = {"depth": await redis.zcard("arq:queue")}
    except Exception as error:
        snapshot["queue"] = {"ok": False, "error": str(error)[:300]}
    return snapshot


def _counts() -> Any:
    from piccolo.querystring import QueryString

    return QueryString(
        "SELECT (SELECT count(*) FROM outbox WHERE status = 'pending') AS outbox_pending, "
        "(SELECT count(*) FROM outbox WHERE status = 'dead') AS outbox_dead, "
        "(SELECT count(*) FROM email_message WHERE status = 'queued') AS emails_queued, "
        "(SELECT count(*) FROM email_message WHERE status IN ('bounced', 'failed', "
        "'complained') AND updated_at > now() - interval '1 hour') AS email_errors_1h, "
        "(SELECT count(*) FROM webhook_delivery WHERE (NOT signature_valid OR error <> '') "
        "AND NOT processed AND received_at > now() - interval '1 hour') AS webhook_errors_1h, "
        "(SELECT count(*) FROM discrepancy WHERE status = 'open') AS open_discrepancies")


SNAPSHOT_TIMEOUT_S = 4.0


async def _ops_snapshot(redis: Redis) -> dict[str, Any]:
    try:
        from app.ops import system as ops_system
    except ImportError:  # the ops package has not shipped it yet
        return await _fallback(redis)
    return dict(await ops_system.system_snapshot(redis))


async def snapshot(redis: Redis) -> dict[str, Any]:
    try:
        return await asyncio.wait_for(_ops_snapshot(redis), SNAPSHOT_TIMEOUT_S)
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
