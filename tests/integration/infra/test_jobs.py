"""`enqueue_jobs` enqueues what arq itself would, in one round trip, and keeps arq's rule
that a job id already queued, running or finished is not enqueued twice; `enqueue_jobs_in`
does the same within a transaction's round trip."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from arq.connections import ArqRedis
from arq.constants import result_key_prefix
from arq.jobs import Job, JobStatus

from app.infra.jobs import JobSpec, enqueue_jobs, enqueue_jobs_in


async def test_jobs_are_queued_as_arq_would_queue_them(redis: ArqRedis) -> None:
    at = datetime.now(UTC) + timedelta(minutes=30)
    before_ms = time.time() * 1000
    flags = await enqueue_jobs(redis, [
        JobSpec("expire_payment_link", ("TEMP-a", "cs_1"), job_id="expire:cs_1",
                defer_until=at),
        JobSpec("send_email", ("order_confirmation", "TEMP-a"), job_id="email:x:TEMP-a"),
        JobSpec("send_email", ("link_expired", "TEMP-a"), job_id="email:y:TEMP-a",
                defer_by_s=5),
    ])
    assert flags == [True, True, True]

    expiry = await Job("expire:cs_1", redis).info()
    assert expiry is not None
    assert (expiry.function, expiry.args) == ("expire_payment_link", ("TEMP-a", "cs_1"))
    assert abs(expiry.score - at.timestamp() * 1000) < 2  # type: ignore[operator]
    assert await Job("expire:cs_1", redis).status() == JobStatus.deferred

    email = await Job("email:x:TEMP-a", redis).info()
    assert email is not None and email.args == ("order_confirmation", "TEMP-a")
    assert await Job("email:x:TEMP-a", redis).status() == JobStatus.queued

    later = await Job("email:y:TEMP-a", redis).info()
    assert later is not None and later.score is not None
    # arq keeps whole milliseconds: allow one for the rounding of both clock readings.
    assert before_ms + 5000 - 1 <= later.score <= time.time() * 1000 + 5000 + 1
    # The job key outlives its start by arq's default day, as `enqueue_job` sets it.
    ttl_ms = await redis.pttl("arq:job:expire:cs_1")
    assert 30 * 60_000 + 86_400_000 - 10_000 < ttl_ms <= 30 * 60_000 + 86_400_000


async def test_a_queued_or_finished_job_is_not_enqueued_again(redis: ArqRedis) -> None:
    first = JobSpec("send_email", ("order_confirmation", "TEMP-b"), job_id="email:x:TEMP-b")
    assert await enqueue_jobs(redis, [first]) == [True]
    again = JobSpec("send_email", ("order_confirmation", "TEMP-b"), job_id="email:x:TEMP-b",
                    defer_by_s=60)
    fresh = JobSpec("send_email", ("order_ready", "TEMP-b"), job_id="email:z:TEMP-b")
    assert await enqueue_jobs(redis, [again, fresh]) == [False, True]
    # The skipped repeat left the queued job as it was (not deferred by a minute).
    assert await Job("email:x:TEMP-b", redis).status() == JobStatus.queued

    await redis.set(result_key_prefix + "email:done:TEMP-b", b"x")
    done = JobSpec("send_email", ("payment_received", "TEMP-b"), job_id="email:done:TEMP-b")
    assert await enqueue_jobs(redis, [done]) == [False]
    assert await redis.zscore("arq:queue", "email:done:TEMP-b") is None


@pytest.mark.redis_server_wide  # SCRIPT FLUSH empties every db's scripts
async def test_the_script_is_loaded_again_after_redis_forgets_it(redis: ArqRedis) -> None:
    assert await enqueue_jobs(redis, [JobSpec("f", (), job_id="one")]) == [True]
    await redis.script_flush()  # what a Redis restart does to loaded scripts
    assert await enqueue_jobs(redis, [JobSpec("f", (), job_id="two")]) == [True]
    assert await Job("two", redis).status() == JobStatus.queued


@pytest.mark.redis_server_wide  # SCRIPT FLUSH empties every db's scripts
async def test_jobs_are_enqueued_with_a_transactions_other_writes(redis: ArqRedis) -> None:
    await redis.script_flush()  # EVAL inside the transaction: no NOSCRIPT to lose the jobs
    queued = JobSpec("send_email", ("order_confirmation", "TEMP-c"), job_id="email:x:TEMP-c")
    assert await enqueue_jobs(redis, [queued]) == [True]
    fresh = JobSpec("expire_payment_link", ("TEMP-c", "cs_3"), job_id="expire:cs_3",
                    defer_by_s=60)
    async with redis.pipeline(transaction=True) as transaction:
        transaction.set("orderpass:test:written", b"1")
        enqueue_jobs_in(transaction, redis, [queued, fresh])
        written, flags = await transaction.execute()
    assert written is True and flags == [0, 1]  # the queued one is not enqueued twice
    assert await redis.get("orderpass:test:written") == b"1"
    assert await Job("expire:cs_3", redis).status() == JobStatus.deferred
