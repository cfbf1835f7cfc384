"""A job that ends while Redis is away cannot record its end, and its arq in-progress key
(the longest job's timeout + 10 s: ten minutes) survives a restart of Redis with its data.
When Redis came back before arq's poll loop noticed it was gone (commands ride out a restart
of a few seconds), arq dropped the job's task from its list before raising the job's error,
so the worker, restarting, did not know to release it: the job waited ten minutes (CI: an
order's confirmation email missing a minute after a Redis restart). The worker now names
every such job, and released, it runs again at once. A real Valkey, stopped and restarted
on its port with its append-only file, as a restart in production is."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest
from arq.connections import RedisSettings, create_pool
from arq.constants import in_progress_key_prefix
from arq.worker import func

from app.dev.embedded import EmbeddedServers
from workers.runner import RecoveringWorker

pytestmark = pytest.mark.own_servers


async def test_a_job_that_ended_while_redis_was_away_is_named_and_runs_again(
        tmp_path: Path) -> None:
    servers = EmbeddedServers(tmp_path / "servers", durable=True)
    url = servers._start_valkey(None)
    port = servers._port(url)
    proceed = asyncio.Event()
    runs: list[int] = []

    async def job(ctx: dict[str, Any]) -> str:
        runs.append(ctx["job_try"])
        await proceed.wait()
        return "done"

    settings = RedisSettings.from_dsn(url)
    pool = await create_pool(settings)
    worker = RecoveringWorker(functions=[func(job, name="job", timeout=600)],
                              redis_pool=pool, handle_signals=False, poll_delay=0.05)
    try:
        await pool.enqueue_job("job", _job_id="the-job")
        await worker._poll_iteration()  # the job starts, holding its in-progress key
        task = worker.tasks["the-job"]
        while not runs:
            await asyncio.sleep(0.01)

        valkey = servers.processes.pop()
        valkey.send_signal(signal.SIGTERM)  # Redis goes away …
        valkey.wait(10)
        proceed.set()  # … while the job ends: its end is not written
        await asyncio.wait([task])
        assert task.exception() is not None

        servers._start_valkey(port)  # back, with its data, before the poll loop noticed
        with pytest.raises(Exception):  # noqa: B017 -- arq re-raises the job's own error
            await worker._poll_iteration()
        assert "the-job" not in worker.tasks  # arq dropped it …
        assert worker.interrupted() == ["the-job"]  # … this worker still names it
        assert await pool.exists(in_progress_key_prefix + "the-job")  # held back for minutes

        # released (as `orderpass worker` does once Redis answers), it runs again at once
        await pool.delete(*(in_progress_key_prefix + job_id for job_id in worker.interrupted()))
        again = RecoveringWorker(functions=[func(job, name="job", timeout=600)],
                                 redis_pool=pool, handle_signals=False, poll_delay=0.05)
        await again._poll_iteration()
        await asyncio.wait([again.tasks["the-job"]])
        assert runs == [1, 2]
        assert await pool.zscore("arq:queue", "the-job") is None  # finished this time
    finally:
        await pool.aclose()
        servers.stop()
