"""/healthz and /readyz as an orchestrator sees them."""

from __future__ import annotations

import httpx
from arq.connections import ArqRedis
from redis.asyncio import Redis

from app.ops import heartbeat
from app.ops.health import readiness


async def test_healthz_answers_while_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


async def test_readyz_is_503_without_a_worker_heartbeat(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["postgres"]["ok"] and checks["redis"]["ok"]
    assert not checks["worker"]["ok"]
    assert "heartbeat" in checks["worker"]["error"]


async def test_readyz_is_200_with_a_fresh_heartbeat(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    await heartbeat.beat(redis, "test-worker:1")
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["worker"]["workers"][0]["name"] == "test-worker:1"


async def test_stale_heartbeat_fails_readiness(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    await redis.zadd(heartbeat.HEARTBEAT_KEY, {"dead-worker:9": 1_000_000.0})
    assert (await client.get("/readyz")).status_code == 503


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
