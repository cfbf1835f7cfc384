"""One Redis connection pool per process, shared by arq enqueueing, temp orders and caches."""

from __future__ import annotations

from arq.connections import ArqRedis, RedisSettings, create_pool

from app.infra.urls import redis_url


def redis_settings() -> RedisSettings:
    settings = RedisSettings.from_dsn(redis_url())
    settings.conn_timeout = 2
    settings.conn_retries = 3
    return settings


async def connect_redis() -> ArqRedis:
    return await create_pool(redis_settings())
