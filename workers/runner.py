"""`orderpass worker`: arq's worker, restarted in-process when Redis drops away.

arq's poll loop ends on the first refused Redis connection (a restart, a failover), and with
it the process: the outbox relay, email and expiry would wait for a supervisor that may not
be there. Here the worker shuts down what it can, waits for Redis to answer again (up to
`REDIS_WAIT_S`), and starts a fresh arq worker: jobs are in Redis, so nothing is lost, and
arq's job ids keep a job from running twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
import traceback

from arq.constants import in_progress_key_prefix
from arq.worker import Worker, get_kwargs
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

from app.infra.checks import check_redis
from app.infra.logging import get_logger
from app.infra.redis import connect_redis, redis_settings
from app.infra.urls import redis_url
from app.notifications.delivery import release_orphaned_claims, renew_claims
from app.settings import get_settings
from workers.lifecycle import shutdown
from workers.settings import WorkerSettings

log = get_logger("orderpass.worker")

REDIS_WAIT_S = 300.0  # then the process exits non-zero, for its supervisor
REDIS_POLL_S = 0.5
# A stop asked for ends within this, under a supervisor's grace before its kill (Kubernetes
# 30 s): past it the worker logs what still holds it and exits; its jobs stay queued.
STOP_GRACE_S = 20.0


REDIS_LOST = (RedisConnectionError, RedisTimeoutError, WatchError, OSError)


class RecoveringWorker(Worker):
    """arq's worker, remembering each job whose start or end it could not record in Redis.

    Redis back within the commands' retries (a restart of a few seconds), arq's poll loop
    carries on, and a job whose end could not be written in that time failed: arq drops the
    job's task from `tasks` before raising its error, so the worker, restarting, did not
    know to release it, and its in-progress key (the longest job's timeout + 10 s: ten
    minutes) held it back (CI: an order's confirmation email missing a minute later)."""

    def __init__(self, *args: object, lease_s: float | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.unrecorded: set[str] = set()
        # A started job's in-progress key is a lease, renewed while the job runs: arq holds
        # it for the longest job's timeout + 10 s (610 s), so a worker killed mid-job left
        # an email or a payment link waiting ten minutes for the next worker.
        self.lease_s = lease_s or get_settings().worker_job_lease_seconds
        self.in_progress_timeout_s = self.lease_s
        self._renewed_at = 0.0

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        # One this worker still runs is not started again, had its lease lapsed while the
        # loop was held up (arq starts jobs before its heartbeat renews them).
        await super().start_jobs([job_id for job_id in job_ids
                                  if job_id.decode() not in self.tasks])

    async def heart_beat(self) -> None:
        await self.renew_leases()
        await super().heart_beat()

    async def renew_leases(self) -> None:
        now = time.monotonic()
        if now - self._renewed_at < self.lease_s / 3:
            return
        self._renewed_at = now
        running = [job_id for job_id, task in self.tasks.items() if not task.done()]
        if running:
            async with self.pool.pipeline(transaction=False) as pipe:
                for job_id in running:
                    pipe.pexpire(in_progress_key_prefix + job_id, int(self.lease_s * 1000))
                await pipe.execute()
        await renew_claims(self.pool)  # the email claims its sends hold, on the same terms

    async def run_job(self, job_id: str, score: int) -> None:
        try:
            await super().run_job(job_id, score)
        except REDIS_LOST:
            self.unrecorded.add(job_id)
            raise

    def interrupted(self) -> list[str]:
        """The jobs this worker holds the in-progress key of and could not finish."""
        return sorted({*self.tasks, *self.unrecorded})


def run() -> None:
    stop = threading.Event()  # set by SIGTERM/SIGINT, whoever's handler receives it
    loops: list[asyncio.AbstractEventLoop] = []  # the running worker's, for the watchdog
    threading.Thread(target=_watch_the_stop, args=(stop, loops), name="stop-watchdog",
                     daemon=True).start()
    while True:
        worker = RecoveringWorker(**{**get_kwargs(WorkerSettings),  # type: ignore[arg-type]
                                     "redis_settings": redis_settings()})
        worker.on_stop = lambda _signal: stop.set()  # called from arq's signal handler
        loops[:] = [worker.loop]
        try:
            worker.run()
            return  # stopped by a signal
        except asyncio.CancelledError:
            # arq's close() gathers the jobs its signal handler cancelled: one cancelled while
            # it recorded its end raises here, before arq's own on_shutdown and pool close
            # (a traceback in a CI run). The job stays queued and runs again (idempotent).
            if not stop.is_set():
                raise
            log.warning("worker stopped while a job was finishing; it will run again")
            with contextlib.suppress(Exception):
                worker.loop.run_until_complete(_close_after_stop(worker))
            return
        # WatchError: redis-py's word for a connection lost mid-WATCH, which arq's job start
        # (a WATCHed in-progress key, then EXISTS) does not catch; it ended the process.
        except REDIS_LOST as error:
            if not stop.is_set():
                log.error("worker lost Redis; restarting once it answers", error=str(error)[:300])
            with contextlib.suppress(Exception):  # the heartbeat task, the Postgres pool
                worker.loop.run_until_complete(shutdown(worker.ctx))
        # A stop asked for now, or during arq's shutdown that met the missing Redis, is
        # honoured: the supervisor would otherwise kill the process after its grace period.
        if not wait_for_redis(worker.loop, REDIS_WAIT_S, stop):
            if stop.is_set():
                log.warning("worker stopped while waiting for Redis")
                return
            raise SystemExit(f"Redis did not answer for {REDIS_WAIT_S:g} s; giving up")
        with contextlib.suppress(Exception):  # else they expire on their own
            worker.loop.run_until_complete(_release_interrupted(worker.interrupted()))
        log.warning("Redis answers again; worker restarting")


def _watch_the_stop(stop: threading.Event, loops: list[asyncio.AbstractEventLoop]) -> None:
    """Once a stop is asked for, give it STOP_GRACE_S; then log the tasks and threads that
    still hold it (a CI run once saw a worker not stop in 30 s, with nothing to show why)
    and end the process. A daemon thread: a stop that finishes in time ends it too."""
    stop.wait()
    time.sleep(STOP_GRACE_S)
    log.error("worker stop took too long; exiting, its jobs stay queued and run again",
              grace_s=STOP_GRACE_S, tasks=_pending_tasks(loops), threads=_thread_stacks())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


def _pending_tasks(loops: list[asyncio.AbstractEventLoop]) -> list[str]:
    """The loop's unfinished tasks, each with where it waits (read from another thread:
    best effort, retried when the loop changed its task set meanwhile)."""
    for _attempt in range(5):
        try:
            tasks = [task for loop in loops for task in asyncio.all_tasks(loop)]
            return [f"{task.get_name()} at " + " < ".join(
                f"{frame.f_code.co_name} ({frame.f_code.co_filename}:{frame.f_lineno})"
                for frame in reversed(task.get_stack(limit=8))) for task in tasks]
        except RuntimeError:  # "Set changed size during iteration"
            time.sleep(0.01)
    return ["(tasks not readable)"]


def _thread_stacks() -> dict[str, str]:
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    return {names.get(ident, str(ident)): "".join(traceback.format_stack(frame, limit=12))
            for ident, frame in sys._current_frames().items()
            if names.get(ident) != "stop-watchdog"}


async def _close_after_stop(worker: Worker) -> None:
    """What arq's close() skipped: our shutdown (the Postgres pool, the heartbeat) and its
    Redis pool."""
    await shutdown(worker.ctx)
    await worker.pool.close(close_connection_pool=True)


async def _release_interrupted(job_ids: list[str]) -> None:
    """The jobs this worker was running when Redis went away could not record their end:
    their arq in-progress keys (job timeout + 10 s) and email claims (a minute) survived
    the restart and held the retries back. No other worker can have started them (the
    in-progress key said this one had), so this worker lets them go."""
    redis = await connect_redis()
    try:
        if job_ids:
            await redis.delete(*(in_progress_key_prefix + job_id for job_id in job_ids))
            log.warning("interrupted jobs released", jobs=len(job_ids))
        await release_orphaned_claims(redis)
    finally:
        await redis.aclose()


def wait_for_redis(loop: asyncio.AbstractEventLoop, limit_s: float,
                   stop: threading.Event) -> bool:
    """True once Redis answers; False after `limit_s` or as soon as `stop` is set.

    arq's signal handlers run only while the event loop does, which here is just for the
    brief checks: plain handlers set `stop` at once (the loop's wake-up still runs arq's
    handler later, which sets it too)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and not stop.is_set():
        if not loop.run_until_complete(check_redis(redis_url())):
            return not stop.is_set()
        stop.wait(REDIS_POLL_S)
    return False
