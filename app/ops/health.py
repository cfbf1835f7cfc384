"""Liveness and readiness: is this process up, and can it reach what it needs?

Readiness is about this web process only (Postgres, Redis, its live feed): an orchestrator
takes a replica that fails it out of rotation, which helps when the replica is the problem
and hurts when it is not. The worker's heartbeat says nothing about a web replica, so it is
reported on /admin/system and by the `worker_heartbeat_stale` alert instead (a stopped
worker used to pull every web replica out of service at once); /readyz says it beside its
checks, never in them (`worker`, `worker_seen_s_ago`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from app.infra import db
from app.ops.heartbeat import STALE_AFTER_S, last_seen, live_workers

CHECK_TIMEOUT_S = 2.0


@dataclass
class Readiness:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    # not a check: "ok" (a worker beat in the last STALE_AFTER_S), "stale", or "unknown"
    # (Redis did not say); with the seconds since a worker was last seen (None: not today)
    worker: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks.values())


# A check that has not answered is left to end by itself rather than waited for: a pooled
# Postgres connection that hangs gives its cancelled statement back only after the statement
# limit (wait_for waited for that: /readyz took 17 s in an outside try with Postgres
# frozen, where an orchestrator's probe gives up after a second or two). One such check per
# name at a time: a probe every second must not pile up stuck statements.
_unfinished: dict[str, asyncio.Future[Any]] = {}


async def _check(coro: Any) -> dict[str, Any]:
    name = getattr(coro, "__name__", "check")
    stuck = _unfinished.get(name)
    if stuck is not None and not stuck.done():
        coro.close()
        return {"ok": False, "error": "the previous check has not answered yet"}
    task = asyncio.ensure_future(coro)
    done, _ = await asyncio.wait({task}, timeout=CHECK_TIMEOUT_S)
    if not done:
        task.cancel()
        _unfinished[name] = task
        task.add_done_callback(_forget)
        return {"ok": False, "error": f"no answer within {CHECK_TIMEOUT_S:.0f}s"}
    try:
        detail = task.result()
    except Exception as error:  # a readiness probe reports failures, it never raises
        return {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    return {"ok": True, **(detail or {})}


def _forget(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" at exit


async def _postgres() -> dict[str, Any]:
    await db.ping()
    return {}


async def _redis(redis: Redis) -> dict[str, Any]:
    await redis.ping()
    return {}


async def _workers(redis: Redis) -> dict[str, Any]:
    workers = await live_workers(redis)
    if not workers:
        raise RuntimeError(f"no worker heartbeat in the last {STALE_AFTER_S:.0f}s")
    return {"workers": [{"name": name, "age_s": age} for name, age in workers]}


async def worker_heartbeat(redis: Redis) -> dict[str, Any]:
    """The workers' heartbeats as a check (for /admin/system, not for readiness)."""
    return await _check(_workers(redis))


async def _worker_seen(redis: Redis) -> dict[str, Any]:
    live, age = await last_seen(redis)
    return {"worker": "ok" if live else "stale", "worker_seen_s_ago": age}


async def readiness(redis: Redis, live_feed: dict[str, Any] | None = None) -> Readiness:
    """Postgres and Redis answer, and (given by the web app) its live feed is subscribed;
    and, apart, when a worker was last seen."""
    postgres, redis_check, seen = await asyncio.gather(
        _check(_postgres()), _check(_redis(redis)), _check(_worker_seen(redis)))
    checks = {"postgres": postgres, "redis": redis_check}
    if live_feed is not None:
        checks["live_feed"] = live_feed
    worker = ({"worker": seen["worker"], "worker_seen_s_ago": seen["worker_seen_s_ago"]}
              if seen["ok"] else {"worker": "unknown", "worker_seen_s_ago": None})
    return Readiness(checks=checks, worker=worker)
