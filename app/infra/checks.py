"""Start-up checks that turn "cannot connect" into one readable line."""

from __future__ import annotations

import asyncpg
from redis.asyncio import Redis


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


async def check_postgres(url: str) -> str:
    try:
        connection = await asyncpg.connect(url, timeout=5)
    except Exception as error:
        return f"cannot reach Postgres at {_redact(url)}: {error or type(error).__name__}"
    await connection.close()
    return ""


async def check_redis(url: str) -> str:
    client = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await client.ping()
    except Exception as error:
        return f"cannot reach Redis at {_redact(url)}: {error or type(error).__name__}"
    finally:
        await client.aclose()
    return ""
