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
import time

from arq.worker import create_worker
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.infra.checks import check_redis
from app.infra.logging import get_logger
from app.infra.redis import redis_settings
from app.infra.urls import redis_url
from workers.lifecycle import shutdown
from workers.settings import WorkerSettings

log = get_logger("orderpass.worker")

REDIS_WAIT_S = 300.0  # then the process exits non-zero, for its supervisor
REDIS_POLL_S = 0.5


def run() -> None:
    while True:
        worker = create_worker(WorkerSettings, redis_settings=redis_settings())  # type: ignore[arg-type]
        try:
            worker.run()
            return  # stopped by a signal
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            log.error("worker lost Redis; restarting once it answers", error=str(error)[:300])
            with contextlib.suppress(Exception):  # the heartbeat task, the Postgres pool
                worker.loop.run_until_complete(shutdown(worker.ctx))
        if not wait_for_redis(worker.loop, REDIS_WAIT_S):
            raise SystemExit(f"Redis did not answer for {REDIS_WAIT_S:g} s; giving up")
        log.warning("Redis answers again; worker restarting")


def wait_for_redis(loop: asyncio.AbstractEventLoop, limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if not loop.run_until_complete(check_redis(redis_url())):
            return True
        time.sleep(REDIS_POLL_S)
    return False
