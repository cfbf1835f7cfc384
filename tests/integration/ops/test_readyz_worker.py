"""/readyz says whether a worker has been seen recently, without making the web's readiness
depend on it: a load balancer must not pull healthy web processes because the worker died
(README "Health"). It said nothing about the worker: an operator probing /readyz saw "ok"
while no email went out."""

from __future__ import annotations

from typing import Any

import httpx
from arq.connections import ArqRedis

from tests.helpers.server import start_worker
from tests.helpers.waiting import wait_until


async def _readyz(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text  # the web is ready, worker or not
    body: dict[str, Any] = response.json()
    assert body["status"] == "ok"
    return body


async def test_readyz_says_when_the_worker_was_last_seen(client: httpx.AsyncClient,
                                                         redis: ArqRedis) -> None:
    never = await _readyz(client)
    assert (never["worker"], never["worker_seen_s_ago"]) == ("stale", None)
    with start_worker({"PYTHONUNBUFFERED": "1"}) as worker:
        async def seen() -> bool:
            return (await _readyz(client))["worker"] == "ok"
        await wait_until(seen, timeout=60, interval=0.5)  # a busy machine starts slowly
        live = await _readyz(client)
        assert 0 <= live["worker_seen_s_ago"] <= 10, live
        worker.stop()  # a clean stop: its heartbeat is taken back
    stopped = await _readyz(client)
    assert stopped["worker"] == "stale", stopped
    assert 0 <= stopped["worker_seen_s_ago"] <= 10, stopped
    assert set(stopped["checks"]) == {"postgres", "redis", "live_feed"}  # unchanged


async def test_a_killed_worker_is_stale_at_once_with_its_last_beat(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    """kill -9 leaves a young heartbeat behind: it is not counted live (heartbeat.gone), and
    /readyz gives the age of that last beat."""
    with start_worker({"PYTHONUNBUFFERED": "1"}) as worker:
        async def seen() -> bool:
            return (await _readyz(client))["worker"] == "ok"
        await wait_until(seen, timeout=60, interval=0.5)
        worker.process.kill()
        worker.process.wait(timeout=10)
    killed = await _readyz(client)
    assert killed["worker"] == "stale", killed
    assert 0 <= killed["worker_seen_s_ago"] <= 10, killed
