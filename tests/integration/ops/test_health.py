"""/healthz and /readyz as an orchestrator sees them."""

from __future__ import annotations

import httpx
from arq.connections import ArqRedis
from redis.asyncio import Redis

from app.ops import heartbeat
from app.ops.alerts import evaluate_alerts
from app.ops.health import readiness
from app.ops.system import system_snapshot


async def test_healthz_answers_while_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


async def test_readyz_does_not_depend_on_the_worker(client: httpx.AsyncClient,
                                                    redis: ArqRedis) -> None:
    """A stopped worker must not take every web replica out of rotation (issue #14 item
    14): /readyz checks what this web process needs; the heartbeat is on /admin/system."""
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert set(checks) == {"postgres", "redis", "live_feed"}
    assert all(check["ok"] for check in checks.values())
    # no screen is open: the feed's check has nothing to go through, and says so
    assert checks["live_feed"]["channels"] == 0
    assert checks["live_feed"]["note"].startswith("no live stream open in this process")
    await redis.zadd(heartbeat.HEARTBEAT_KEY, {"dead-worker:9": 1_000_000.0})
    assert (await client.get("/readyz")).status_code == 200
    snapshot = await system_snapshot(redis)
    assert not snapshot["worker"]["ok"] and "heartbeat" in snapshot["worker"]["error"]
    await heartbeat.beat(redis, "test-worker:1")
    snapshot = await system_snapshot(redis)
    assert snapshot["worker"]["ok"]
    assert snapshot["worker"]["workers"][0]["name"] == "test-worker:1"


async def test_a_stale_heartbeat_raises_the_worker_alert(redis: ArqRedis) -> None:
    await redis.zadd(heartbeat.HEARTBEAT_KEY, {"dead-worker:9": 1_000_000.0})
    notices = await evaluate_alerts(redis)
    assert "worker_heartbeat_stale" in {notice.name for notice in notices if
                                        notice.state == "firing"}


async def test_unreachable_redis_is_reported_not_raised() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    result = await readiness(dead)
    await dead.aclose()
    assert not result.ok
    assert not result.checks["redis"]["ok"]
    assert result.checks["postgres"]["ok"]


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
