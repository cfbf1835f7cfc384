"""Resend's budget paced for arrival: sends spaced evenly with a margin and shared by every
worker through Redis, so a backlog drains in full batches without a single 429."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix

from app.infra.jobs import JobSpec, drop_queued_jobs, enqueue_jobs, reschedule_queued_jobs
from app.infra.urls import redis_url
from app.notifications import service
from app.notifications.ratelimit import MARGIN, SharedRateLimiter
from app.notifications.tables import EmailMessage
from tests.helpers.sandbox import RunningSandbox
from workers.email_jobs import send_email


async def row_id(kind: str, ref: str) -> int:
    row = await EmailMessage.select(EmailMessage.id).where(
        EmailMessage.idempotency_key == f"{kind}/{ref}").first()
    assert row is not None
    return int(row["id"])


async def test_slots_leave_room_for_arrival_delays(redis: ArqRedis) -> None:
    # Two limiters stand for two worker processes sharing Resend's 2 requests/s.
    one, two = SharedRateLimiter(redis_url(), 2.0), SharedRateLimiter(redis_url(), 2.0)
    slots = [await (one if n % 2 else two).reserve(max_wait_s=10) for n in range(6)]
    # Any three consecutive requests span more than Resend's second, by the margin: a
    # moving window let the third leave the moment the first left the window.
    for first, third in zip(slots, slots[2:], strict=False):
        assert third - first >= 1 + MARGIN - 0.01
    for earlier, later in itertools.pairwise(slots):
        assert later - earlier >= (1 + MARGIN) / 2 - 0.01


async def test_a_429_holds_every_worker_back(redis: ArqRedis) -> None:
    one, two = SharedRateLimiter(redis_url(), 2.0), SharedRateLimiter(redis_url(), 2.0)
    await one.back_off(2.0)  # Resend said retry-after: 2
    now = asyncio.get_running_loop().time()
    assert await two.reserve(max_wait_s=5) - now >= 1.9


async def test_a_late_sender_takes_a_new_slot(redis: ArqRedis) -> None:
    pacer = SharedRateLimiter(redis_url(), 2.0)
    first = await pacer.reserve()
    await asyncio.sleep(0.2)  # its event loop was busy: it wakes 0.2 s after its slot
    sent = await pacer.wait_for(first)
    assert sent > first  # sending now would crowd the slot reserved after it


async def test_a_batch_slot_leaves_time_to_prepare_the_batch(redis: ArqRedis) -> None:
    """An idle pacer would give its slot *now*; a sender that first prepares a batch would
    miss it. With a lead, the slot is that far ahead, and the next one an interval on."""
    pacer = SharedRateLimiter(redis_url(), 2.0)
    now = asyncio.get_running_loop().time()
    first = await pacer.reserve(lead_s=0.35)
    assert first - now >= 0.3
    assert await pacer.reserve() - first >= (1 + MARGIN) / 2 - 0.01


async def test_backlog_drains_in_paced_batches_without_429(
    redis: ArqRedis, make_order: Any, ctx: Any, sandbox: RunningSandbox
) -> None:
    sandbox.configure(resend_rate_limit_per_s=2)
    orders = [await make_order(email_address=f"guest{i}@example.com") for i in range(60)]
    for order in orders:
        await service.enqueue_email(redis, "payment_received", order.id)
    assert len(await redis.queued_jobs()) == 60
    # Two of them were tried alone before: they go alone again, never in a batch.
    tried = [await row_id("payment_received", orders[n].id) for n in (30, 59)]
    await service.record_attempts(tried)
    # Three jobs at once, as arq runs them: three requests within little over a second,
    # which a window counting when requests leave crowds into Resend's second.
    outcomes = await asyncio.gather(*(send_email(ctx(), "payment_received", order.id)
                                      for order in (orders[0], orders[30], orders[59])))
    limits = sandbox.http.get("/_control/resend/limits").json()
    assert limits["rate_limited"] == 0
    assert limits["accepted"] == 3
    assert outcomes[0] == "sent via resend batch of 58"  # all but the other two jobs' own
    assert outcomes[1:] == ["sent via resend", "sent via resend"]
    statuses = {row["status"] for row in await EmailMessage.select(EmailMessage.status)}
    assert statuses == {"sent"}
    assert len(sandbox.messages()) == 60
    # The sent rows' own jobs left the queue: nothing left for the worker to dequeue.
    assert len(await redis.queued_jobs()) == 3  # the three jobs run here (called directly)


async def test_dropping_jobs_spares_running_ones(redis: ArqRedis) -> None:
    await enqueue_jobs(redis, [JobSpec("send_email", ("order_ready", ref), job_id=f"j:{ref}")
                               for ref in ("a", "b")])
    await redis.set(in_progress_key_prefix + "j:b", b"1")  # a worker has started it
    assert await drop_queued_jobs(redis, ["j:a", "j:b", "j:missing"]) == 1
    assert [job.job_id for job in await redis.queued_jobs()] == ["j:b"]


async def test_rescheduling_jobs_spares_running_ones(redis: ArqRedis) -> None:
    """A batch in flight holds its rows' queued jobs back, and makes them due again if it
    fails; a running job (its own) is left alone, and a job not queued is not created."""
    await enqueue_jobs(redis, [JobSpec("send_email", ("order_ready", ref), job_id=f"j:{ref}")
                               for ref in ("a", "b")])
    await redis.set(in_progress_key_prefix + "j:b", b"1")  # a worker has started it
    before = {job.job_id: job.score for job in await redis.queued_jobs()}
    assert await reschedule_queued_jobs(redis, ["j:a", "j:b", "j:missing"], 60) == 1
    after = {job.job_id: job.score for job in await redis.queued_jobs()}
    assert set(after) == {"j:a", "j:b"}
    assert after["j:b"] == before["j:b"]
    assert after["j:a"] >= before["j:a"] + 59_000  # not due for a minute
    assert await reschedule_queued_jobs(redis, ["j:a"], 0) == 1
    assert {job.job_id for job in await redis.queued_jobs()
            if job.score <= before["j:a"] + 5_000} == {"j:a", "j:b"}
