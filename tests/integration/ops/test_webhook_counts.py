"""Webhook answers are counted per minute in Redis for every process to read (the alert
evaluator in the worker): batched per process, written within a second in one round trip,
and seen at once by a read in the process that counted them."""

from __future__ import annotations

import asyncio
import time

import httpx
from arq.connections import ArqRedis

from app.ops import request_metrics
from app.ops.request_metrics import WEBHOOK_KEY, webhook_http_counts


def minute_key(provider: str, minute: int | None = None) -> str:
    return WEBHOOK_KEY.format(provider=provider, minute=int(time.time() // 60)
                              if minute is None else minute)


async def stored(redis: ArqRedis, provider: str) -> dict[str, int]:
    """The counts of the last two minutes summed: a test that crosses a minute boundary
    counts into two keys (each answer goes to the minute it was given in)."""
    now = int(time.time() // 60)
    summed: dict[str, int] = {}
    for minute in (now - 1, now):
        for field, value in (await redis.hgetall(minute_key(provider, minute))).items():
            summed[field.decode()] = summed.get(field.decode(), 0) + int(value)
    return summed


async def test_answers_reach_redis_together_within_a_second_without_a_read(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    for _ in range(5):
        response = await client.post("/webhooks/stripe", content=b"{}",
                                     headers={"stripe-signature": "t=1,v1=forged"})
        assert response.status_code == 400
    assert await stored(redis, "stripe") == {}  # not a round trip per answer
    started = time.monotonic()
    while not await stored(redis, "stripe") and time.monotonic() - started < 3:
        await asyncio.sleep(0.05)
    assert await stored(redis, "stripe") == {"total": 5, "rejected": 5}
    assert time.monotonic() - started < request_metrics.FLUSH_S + 1
    ttls = [await redis.ttl(minute_key("stripe", minute))
            for minute in (int(time.time() // 60) - 1, int(time.time() // 60))]
    assert max(ttls) > 3600


async def test_a_read_in_the_counting_process_sees_its_own_counts_at_once(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    await client.post("/webhooks/stripe", content=b"{}",
                      headers={"stripe-signature": "t=1,v1=forged"})
    counts = await webhook_http_counts(redis)
    assert (counts["total"], counts["rejected"]) == (1, 1)


async def test_counts_lost_to_a_redis_failure_never_break_an_answer(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    broken = ArqRedis(host="127.0.0.1", port=9, socket_connect_timeout=0.2)
    request_metrics._counts.add(broken, "stripe", 500)
    await request_metrics.flush_webhook_counts()  # logged and dropped
    response = await client.post("/webhooks/stripe", content=b"{}",
                                 headers={"stripe-signature": "t=1,v1=forged"})
    assert response.status_code == 400
    assert (await webhook_http_counts(redis))["failed"] == 0
    await broken.aclose()


async def test_a_probe_of_a_webhook_path_is_labelled_and_not_counted_as_a_refusal(
        client: httpx.AsyncClient, redis: ArqRedis) -> None:
    """A GET or HEAD on /webhooks/stripe (a scanner; providers only POST): a 405 labelled
    with the webhook's route in the metrics, outside the on-call page's "rejected" and the
    webhook_failures alert."""
    for _ in range(3):
        assert (await client.get("/webhooks/stripe")).status_code == 405
    await client.post("/webhooks/stripe", content=b"{}",
                      headers={"stripe-signature": "t=1,v1=forged"})
    counts = await webhook_http_counts(redis)
    assert (counts["total"], counts["rejected"]) == (1, 1)
    assert (await stored(redis, "stripe")).get("probe") == 3
    assert (await client.get("/webhooks/resend")).status_code == 405
    scraped = (await client.get("/metrics")).text
    assert 'method="GET",route="/webhooks/stripe",status="4xx"' in scraped
    assert 'method="GET",route="/webhooks/resend",status="4xx"' in scraped
