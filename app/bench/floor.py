"""The floor under the kitchen feed: one small Postgres INSERT + COMMIT (asyncpg, fsync on)
followed by a Redis PUBLISH and its arrival at a subscriber. Nothing built on those two
round trips can deliver a paid order to a screen faster."""

from __future__ import annotations

import asyncio
import contextlib
import time

import asyncpg
from redis.asyncio import Redis

from app.bench.stats import Latencies

TABLE = "bench_floor"
CHANNEL = "orderpass:bench:floor"


class Floor:
    """Holds one Postgres connection and one Redis subscriber for repeated measurements."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.latencies = Latencies()

    async def __aenter__(self) -> Floor:
        self.conn = await asyncpg.connect(self.database_url)
        await self.conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} "
                                "(id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), "
                                "note text NOT NULL)")
        self.redis = Redis.from_url(self.redis_url)
        self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await self.pubsub.subscribe(CHANNEL)
        await self.pubsub.get_message(timeout=1)  # the subscribe confirmation
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.conn.execute(f"DROP TABLE IF EXISTS {TABLE}"), 5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.conn.close(), 5)
        if not self.conn.is_closed():
            self.conn.terminate()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.pubsub.aclose(), 5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.redis.aclose(), 5)

    async def once(self) -> float:
        """One commit + publish → receive round trip, in seconds."""
        started = time.perf_counter()
        await self.conn.execute(f"INSERT INTO {TABLE} (note) VALUES ($1)", "floor")  # noqa: S608
        token = str(started).encode()
        await self.redis.publish(CHANNEL, token)
        while True:
            message = await self.pubsub.get_message(timeout=2)
            if message is None:
                raise TimeoutError("floor publish not received")
            if message.get("data") == token:
                break
        elapsed = time.perf_counter() - started
        self.latencies.add(elapsed)
        return elapsed

    async def measure(self, count: int, pause: float = 0.0) -> Latencies:
        """`count` round trips (fresh samples), `pause` seconds apart."""
        self.latencies = Latencies()
        for _ in range(count):
            await self.once()
            if pause:
                await asyncio.sleep(pause)
        return self.latencies
