"""A job a worker started is its own for a lease (`WORKER_JOB_LEASE_SECONDS`), renewed while
it runs: a job longer than the lease is never started a second time, by another worker or by
its own, and the lease of a worker that is gone lapses soon after (arq held it for the
longest job's timeout + 10 s: 610 s, so a worker killed mid-job left an email or a payment
link waiting ten minutes; `test_worker_crash.py` shows that end to end)."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

from arq.connections import RedisSettings, create_pool
from arq.constants import in_progress_key_prefix
from arq.worker import func

from workers.runner import RecoveringWorker

LEASE_S = 1.0


async def test_a_job_longer_than_its_lease_runs_once_and_a_lost_lease_lapses() -> None:
    pool = await create_pool(RedisSettings.from_dsn(os.environ["REDIS_URL"]))
    queue = f"arq:test-lease:{uuid.uuid4().hex}"
    runs: list[str] = []
    finish = asyncio.Event()

    async def job(ctx: dict[str, Any]) -> str:
        runs.append(ctx["job_id"])
        await finish.wait()
        return "done"

    def worker() -> RecoveringWorker:
        return RecoveringWorker(functions=[func(job, name="job", timeout=600)], redis_pool=pool,
                                queue_name=queue, handle_signals=False, lease_s=LEASE_S)

    first, second = worker(), worker()
    key = in_progress_key_prefix + "long"
    try:
        await pool.enqueue_job("job", _job_id="long", _queue_name=queue)
        await first._poll_iteration()
        assert 0 < await pool.pttl(key) <= LEASE_S * 1000  # a lease, not arq's 610 s
        for _ in range(int(3 * LEASE_S / 0.1)):  # three leases long, both workers polling
            await asyncio.sleep(0.1)
            await first._poll_iteration()
            await second._poll_iteration()
        assert runs == ["long"]  # renewed: never started again, here or there
        assert await pool.exists(key)

        # the first worker is gone (killed: nothing renews its lease): the job is free soon
        await asyncio.sleep(LEASE_S * 1.2)
        assert not await pool.exists(key)
        await second._poll_iteration()
        await asyncio.sleep(0.1)  # its task starts
        assert runs == ["long", "long"]  # the next worker takes it over
        finish.set()
        await asyncio.wait([second.tasks["long"]])
    finally:
        finish.set()
        for running in (first, second):
            for task in running.tasks.values():
                task.cancel()
        await pool.delete(queue)
        await pool.aclose()
