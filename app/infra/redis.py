"""Redis connections: one bounded pool per use per process (arq enqueueing, temp orders and
caches; sessions, rate limits and the live feed), each with a ceiling and a floor.

Ceiling: a burst (3,000 concurrent requests with made-up session cookies) used to open a
connection per request; redis-py's default pool has no limit and never closes what it
opened, so 2,797 connections stayed open for good, and beyond what Redis would take the
requests failed with 500s. Here a request waits up to REDIS_POOL_TIMEOUT_SECONDS for a
free connection, then gets a 503 with Retry-After (app/infra/unavailable.py).
Floor: connections idle for REDIS_POOL_IDLE_SECONDS beyond the floor are closed, so after
the burst the pool goes back to its floor (checked on release and by `shrink_pools`).
Time: a Redis that hangs (a frozen VM, a lost network path: connections stay open, nothing
answers) held a request forever, as no command had a read timeout, and the app client
retried timeouts 8 times. Every command on these pools now has REDIS_COMMAND_TIMEOUT_SECONDS
to be answered, and the app client retries only what a restart looks like (refused, reset,
LOADING), so a hung Redis is a 503 with Retry-After after about that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import weakref
from typing import Any

from arq.connections import ArqRedis, RedisSettings
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.infra.urls import redis_url
from app.settings import get_settings

REDIS_COMMAND_RETRIES = 8  # about 4.5 s of backoff in all
# What the app client's commands ride out by retrying: a restart or failover (a refused,
# reset or closed connection; BusyLoadingError is a ConnectionError too). Never a timeout:
# each retry of a Redis that does not answer would hold the request one more command timeout.
RIDE_OUT: tuple[type[RedisError], ...] = (RedisConnectionError,)
POOL_FLOOR = 2  # idle connections a pool keeps after a burst
_IDLE_SINCE = "_orderpass_idle_since"


def redis_settings() -> RedisSettings:
    """arq's own pool (the worker's poll loop and its jobs' `ctx["redis"]`). Connects time
    out after 2 s; reads get their limit from `limit_worker_reads` (arq's RedisSettings has
    no field for one)."""
    settings = RedisSettings.from_dsn(redis_url())
    settings.conn_timeout = 2
    settings.conn_retries = 3
    # A Redis restart or failover (a second or two) is ridden out command by command (the
    # app client does the same with `command_retry`): without this, arq's poll loop died on
    # the first refused connection and took the worker (outbox relay, email) down with it.
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    settings.retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), REDIS_COMMAND_RETRIES)
    return settings


async def limit_worker_reads(client: Redis) -> None:
    """Give arq's pool a read timeout, REDIS_WORKER_COMMAND_TIMEOUT_SECONDS: a command whose
    connection went silent (a network path lost without a reset, a frozen Redis) fails
    after it and is retried on a new connection (`retry_on_error` above), where it hung
    until TCP gave up. The connections arq opened before (its start-up ping) are closed and
    forgotten, so every connection has it (a connection keeps the settings it was made
    with, also when it reconnects). Call before the pool is shared (the worker's start-up)."""
    pool = client.connection_pool
    pool.connection_kwargs["socket_timeout"] = get_settings().redis_worker_command_timeout_seconds
    await pool.disconnect()
    pool.reset()


class ShrinkingPool(BlockingConnectionPool):
    """redis-py's blocking pool (a ceiling, and a bounded wait for a free connection) that
    also closes connections idle for `idle_s` above `floor`."""

    def __init__(self, *, floor: int = POOL_FLOOR, idle_s: float = 30.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.floor = floor
        self.idle_s = idle_s

    async def release(self, connection: AbstractConnection) -> None:
        setattr(connection, _IDLE_SINCE, time.monotonic())
        await super().release(connection)
        if len(self._available_connections) > self.floor and self._stale(
                self._available_connections[0], time.monotonic()):
            await self.shrink()

    def _stale(self, connection: AbstractConnection, now: float) -> bool:
        return now - getattr(connection, _IDLE_SINCE, now) >= self.idle_s

    async def shrink(self) -> int:
        """Close connections idle for `idle_s`, oldest first, down to the floor."""
        now, stale = time.monotonic(), []
        async with self._condition:
            while (len(self._available_connections) > self.floor
                   and self._stale(self._available_connections[0], now)):
                stale.append(self._available_connections.pop(0))  # the longest idle
        for connection in stale:
            with contextlib.suppress(Exception):
                await connection.disconnect()
        return len(stale)

    @property
    def open_connections(self) -> int:
        return len(self._available_connections) + len(self._in_use_connections)


_pools: weakref.WeakSet[ShrinkingPool] = weakref.WeakSet()


def bounded_pool(url: str, name: str, **connection_kwargs: Any) -> ShrinkingPool:
    """A pool for `url`; its connections carry the client name `orderpass-<name>-<pid>`
    (CLIENT LIST shows who holds what), and every command on them (a new connection's
    handshake included) has REDIS_COMMAND_TIMEOUT_SECONDS to be answered: its
    `socket_timeout`, unless the caller passes its own. A pub/sub read passes its own wait
    (`get_message(timeout=…)`, app/live/feed.py), which takes the place of this one: an
    idle subscription does not time out."""
    settings = get_settings()
    connection_kwargs.setdefault("socket_timeout", settings.redis_command_timeout_seconds)
    pool = ShrinkingPool.from_url(
        url, max_connections=settings.redis_max_connections,
        timeout=settings.redis_pool_timeout_seconds, idle_s=settings.redis_pool_idle_seconds,
        client_name=f"orderpass-{name}-{os.getpid()}", **connection_kwargs)
    _pools.add(pool)
    return pool


async def shrink_pools_forever() -> None:
    """Give back idle connections even when no traffic comes to trigger it (a web task)."""
    while True:
        pools = list(_pools)
        await asyncio.sleep(min((pool.idle_s for pool in pools), default=30.0) / 2 or 1.0)
        for pool in pools:
            with contextlib.suppress(Exception):
                await pool.shrink()


def command_retry() -> Retry:
    """The app client's retries: connection errors (RIDE_OUT) with backoff, about 4.5 s in
    all, which rides out a restart; a timeout never, not even a connect's (redis-py's
    `Retry` would retry timeouts unless told which errors it supports)."""
    return Retry(ExponentialBackoff(cap=1.0, base=0.05), REDIS_COMMAND_RETRIES,
                 supported_errors=RIDE_OUT)


async def connect_redis() -> ArqRedis:
    """The app client (intake, temp orders, caches, enqueueing; app.state.redis, the CLI)."""
    settings = redis_settings()
    pool = bounded_pool(redis_url(), "app", socket_connect_timeout=settings.conn_timeout,
                        retry=command_retry(), retry_on_error=list(RIDE_OUT))
    client = ArqRedis(pool)
    client.auto_close_connection_pool = True  # aclose() closes the pool with the client
    await client.ping()
    return client


_shared_by_loop: dict[int, ArqRedis] = {}


async def shared_redis() -> ArqRedis:
    """One client per event loop for code called without one (the CLI, an admin fix)."""
    key = id(asyncio.get_running_loop())
    client = _shared_by_loop.get(key)
    if client is None:
        client = _shared_by_loop[key] = await connect_redis()
    return client
