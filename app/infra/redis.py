"""One Redis connection pool per process, shared by arq enqueueing, temp orders and caches."""

from __future__ import annotations

import asyncio

from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.infra.urls import redis_url

REDIS_COMMAND_RETRIES = 8  # about 4.5 s of backoff in all


def redis_settings() -> RedisSettings:
    settings = RedisSettings.from_dsn(redis_url())
    settings.conn_timeout = 2
    settings.conn_retries = 3
    # A Redis restart or failover (a second or two) is ridden out command by command, in
    # web and worker alike: without this, arq's poll loop died on the first refused
    # connection and took the worker (outbox relay, email) down with it.
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    settings.retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), REDIS_COMMAND_RETRIES)
    return settings


async def connect_redis() -> ArqRedis:
    return await create_pool(redis_settings())


_shared_by_loop: dict[int, ArqRedis] = {}


async def shared_redis() -> ArqRedis:
    """One client per event loop for code called without one (the CLI, an admin fix)."""
    key = id(asyncio.get_running_loop())
    client = _shared_by_loop.get(key)
    if client is None:
        client = _shared_by_loop[key] = await connect_redis()
    return client
