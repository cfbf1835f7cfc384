"""A burst of anonymous kitchen requests with made-up session cookies (each one a session
lookup in Redis) against a real web process (issue #14 item 9): Redis connections stay under
the pool's ceiling, what cannot be served in time gets a 503 with Retry-After (never a 500),
and once the burst is over the pools go back to their floor.

At a scale that fits the suite: 400 concurrent requests against a ceiling of 8 (the issue
saw 3,000 requests leave 2,797 connections open for good)."""

from __future__ import annotations

import asyncio
import collections
import os
import secrets
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from app.infra.redis import POOL_FLOOR
from tests.helpers.server import RunningProcess, start_web

CEILING = 8
BURST = 400


@pytest.fixture(scope="module")
def small_pools() -> Iterator[RunningProcess]:
    with start_web(env={"REDIS_MAX_CONNECTIONS": str(CEILING),
                        "REDIS_POOL_TIMEOUT_SECONDS": "0.5",
                        "REDIS_POOL_IDLE_SECONDS": "1"}) as server:
        yield server


def connections_of(pid: int) -> int:
    """Redis connections the process `pid` holds open (as the OS sees them)."""
    port = urlsplit(os.environ["REDIS_URL"]).port
    return sum(1 for connection in psutil.Process(pid).net_connections(kind="tcp")
               if connection.raddr and connection.raddr.port == port
               and connection.status == psutil.CONN_ESTABLISHED)


async def _burst(url: str) -> collections.Counter[int]:
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        async def one() -> httpx.Response:
            return await client.get("/kitchen/demo", headers={
                "accept": "text/html",
                "cookie": f"orderpass_session={secrets.token_hex(16)}"})

        responses = await asyncio.gather(*(one() for _ in range(BURST)))
    for response in responses:
        if response.status_code == 503:
            assert int(response.headers["retry-after"]) > 0
            assert "Traceback" not in response.text
    return collections.Counter(response.status_code for response in responses)


def test_a_burst_is_shed_with_503_and_the_pools_shrink_back(
        small_pools: RunningProcess) -> None:
    pid = small_pools.process.pid
    peak = 0
    done = False

    async def watch() -> None:
        nonlocal peak
        while not done:
            peak = max(peak, await asyncio.to_thread(connections_of, pid))
            await asyncio.sleep(0.05)

    async def run() -> collections.Counter[int]:
        nonlocal done
        watcher = asyncio.create_task(watch())
        try:
            return await _burst(small_pools.url)
        finally:
            done = True
            await watcher

    statuses = asyncio.run(run())
    assert set(statuses) <= {303, 503}, (statuses, small_pools.log()[-3000:])
    assert statuses[303] > 0, statuses  # most are served: to the login page
    # Two pools (sessions and the app's), each under its ceiling.
    assert peak <= 2 * CEILING, peak
    deadline = time.monotonic() + 10
    while connections_of(pid) > 2 * POOL_FLOOR and time.monotonic() < deadline:
        time.sleep(0.2)
    assert connections_of(pid) <= 2 * POOL_FLOOR, connections_of(pid)
    # And the process serves normally afterwards.
    assert httpx.get(small_pools.url + "/readyz", timeout=10).status_code == 200
    print(f"burst of {BURST}: {dict(statuses)}, peak Redis connections {peak}")
