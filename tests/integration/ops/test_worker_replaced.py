"""A worker killed with SIGKILL (no shutdown, so its heartbeat stays behind) and replaced by a
new one, as `orderpass dev` or a process manager does: the dead one's stale heartbeat raises
`worker_heartbeat_stale` once, naming it, and the alert resolves once that heartbeat is old
enough to be forgotten while the replacement beats. It used to fire for an hour after each
crash. With no live worker at all it fires however old the heartbeats are."""

from __future__ import annotations

import json
import socket
import time

import httpx
from arq.connections import ArqRedis

from app.ops import alerts
from app.ops.heartbeat import HEARTBEAT_KEY, STALE_AFTER_S, live_workers
from tests.helpers.server import RunningProcess, start_worker
from tests.helpers.waiting import wait_until

KEY = alerts.STATE_KEY.format(name="worker_heartbeat_stale")


def _name(worker: RunningProcess) -> str:
    return f"{socket.gethostname()}:{worker.process.pid}"


async def _beating(redis: ArqRedis, worker: RunningProcess) -> None:
    async def beats() -> bool:
        return await redis.zscore(HEARTBEAT_KEY, _name(worker)) is not None
    await wait_until(beats, timeout=60)  # a busy machine starts slowly


async def _firing(redis: ArqRedis) -> str | None:
    """The alert's summary while it fires (the workers' own cron may have raised it)."""
    await alerts.evaluate_alerts(redis)
    raw = await redis.get(KEY)
    return str(json.loads(raw)["summary"]) if raw else None


async def test_a_killed_and_replaced_worker_alerts_once_then_resolves(redis: ArqRedis
                                                                       ) -> None:
    with start_worker({"PYTHONUNBUFFERED": "1"}) as dead:
        await _beating(redis, dead)
        dead.process.kill()  # kill -9: no shutdown, the heartbeat stays
        dead.process.wait(timeout=10)
    with start_worker({"PYTHONUNBUFFERED": "1"}) as replacement:
        await _beating(redis, replacement)
        gone = _name(dead)
        # What the workers' own cron raised while none beat yet ("0 live workers") is not
        # what this test reads: a firing alert keeps the summary it started with.
        await redis.delete(KEY)
        # 40 s on: the dead worker is stale while its replacement beats; worth a notice.
        await redis.zadd(HEARTBEAT_KEY, {gone: time.time() - STALE_AFTER_S - 10})
        summary = await _firing(redis)
        assert summary is not None and gone in summary and "1 live workers" in summary
        # Ten minutes on it is a crash that was dealt with, not an outage: resolved.
        await redis.zadd(HEARTBEAT_KEY, {gone: time.time() - 600})
        assert await _firing(redis) is None, await redis.get(KEY)
        assert await _firing(redis) is None
        # With no live worker left it fires, however long ago the last one beat.
        replacement.process.kill()
        replacement.process.wait(timeout=10)
        await redis.zadd(HEARTBEAT_KEY, {_name(replacement): time.time() - 600})
        summary = await _firing(redis)
        assert summary is not None and summary.startswith("0 live workers"), summary


async def test_a_killed_worker_stops_counting_as_live_at_once(
        redis: ArqRedis, client: httpx.AsyncClient) -> None:
    """Its heartbeat was 5 s old, so for up to 30 s /admin/system listed it beside its
    replacement and `orderpass_workers_live` said 2 with one process running (an outside
    try). A worker of this host whose process has ended counts as gone at once; its crash is
    still named once by the alert."""
    await redis.delete(HEARTBEAT_KEY, KEY)
    with start_worker({"PYTHONUNBUFFERED": "1"}) as dead:
        await _beating(redis, dead)
        dead.process.kill()
        dead.process.wait(timeout=10)
    gone = _name(dead)
    await redis.zadd(HEARTBEAT_KEY, {gone: time.time() - 1,  # beat a second before the kill
                                     "other-host:4711": time.time() - 1})  # cannot be seen
    assert [name for name, _ in await live_workers(redis)] == ["other-host:4711"]
    metrics = (await client.get("/metrics")).text
    assert "orderpass_workers_live 1.0" in metrics, metrics
    summary = await _firing(redis)
    assert summary == f"1 live workers; stale: {gone}", summary
    await redis.delete(HEARTBEAT_KEY, KEY)
