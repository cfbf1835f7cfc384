"""Worker heartbeats in Redis: each worker stamps a sorted set; readiness reads the newest."""

from __future__ import annotations

import os
import socket
import time

from redis.asyncio import Redis

HEARTBEAT_KEY = "orderpass:workers:heartbeat"
HEARTBEAT_INTERVAL_S = 5.0
STALE_AFTER_S = 30.0
# A worker killed without its shutdown (kill -9, the OOM killer) leaves its heartbeat behind;
# the stale alert names it until then (about four cron minutes), not until the entry expires.
FORGET_AFTER_S = 10 * STALE_AFTER_S


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def beat(redis: Redis, name: str) -> None:
    now = time.time()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zadd(HEARTBEAT_KEY, {name: now})
        pipe.zremrangebyscore(HEARTBEAT_KEY, "-inf", now - 24 * 3600)  # forget long-dead workers
        await pipe.execute()


# When a worker last stopped cleanly: its heartbeat is taken back (`forget`), and /readyz
# still says how long ago a worker was last seen.
STOPPED_KEY = "orderpass:workers:stopped"


async def forget(redis: Redis, name: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(HEARTBEAT_KEY, name)
        pipe.set(STOPPED_KEY, time.time(), ex=24 * 3600)
        await pipe.execute()


def gone(name: str) -> bool:
    """A worker of this host whose process has ended (kill -9, the OOM killer): its last
    heartbeat is young, but it counted as live for up to STALE_AFTER_S beside the worker that
    replaced it (an outside try). Another host's workers cannot be seen from here."""
    host, _, pid = name.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # someone else's process, or no such pid
        return False
    return False


async def live_workers(redis: Redis) -> list[tuple[str, float]]:
    """Workers whose last heartbeat is recent enough and that are not known to have ended,
    with its age in seconds."""
    now = time.time()
    rows = await redis.zrangebyscore(HEARTBEAT_KEY, now - STALE_AFTER_S, "+inf", withscores=True)
    named = [(name.decode() if isinstance(name, bytes) else name, round(now - score, 1))
             for name, score in rows]
    return [(name, age) for name, age in named if not gone(name)]


async def last_seen(redis: Redis) -> tuple[bool, float | None]:
    """(a worker is live, seconds since a worker was last seen: its newest heartbeat, or its
    clean stop; None when none was in the last day)."""
    now = time.time()
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zrange(HEARTBEAT_KEY, 0, -1, withscores=True)
        pipe.get(STOPPED_KEY)
        rows, stopped = await pipe.execute()
    named = [(name.decode() if isinstance(name, bytes) else name, now - score)
             for name, score in rows]
    live = [age for name, age in named if age <= STALE_AFTER_S and not gone(name)]
    if live:
        return True, round(max(0.0, min(live)), 1)
    ages = [age for _, age in named] + ([now - float(stopped)] if stopped else [])
    return False, round(max(0.0, min(ages)), 1) if ages else None
