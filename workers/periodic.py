"""Periodic jobs (arq crons) as an on-call engineer reads them: a run that did something is
one line naming the job, what it did and how long it took; a run that found nothing to do
is silent (arq's own start and finish lines for crons are dropped: 26 a minute from an idle
worker buried the lines that name orders); a run that meets Postgres or Redis away is one
warning line naming the job and the error, and the next run tries again. arq logged every
such failure with its full traceback (19 of them in a 35 s Postgres freeze in an outside
try)."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from arq import cron
from arq.cron import CronJob
from arq.typing import WorkerCoroutine

from app.infra.logging import get_logger
from app.infra.unavailable import DEPENDENCY_ERRORS, dependency_name

log = get_logger("orderpass.worker")
T = TypeVar("T")


def retried_next_period(job: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T | None]]:
    """`job` as a cron: a dependency error is logged in one line and the run ends (None);
    any other error is raised, traceback and all, as before."""

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> T | None:
        started = time.perf_counter()
        try:
            result = await job(ctx, *args, **kwargs)
        except DEPENDENCY_ERRORS as error:
            log.warning("periodic job skipped: a dependency is unavailable; the next run "
                        "tries again", job=job.__name__, dependency=dependency_name(error),
                        error=f"{type(error).__name__}: {error}"[:200])
            return None
        if did_something(result):
            log.info("periodic job done", job=job.__name__, result=result,
                     ms=round((time.perf_counter() - started) * 1000, 1))
        return result

    return run


def did_something(result: object) -> bool:
    """A job's result names work done: a non-zero count, a non-empty list, a dict with
    any non-zero value ({"done": 0, "retry": 0} is nothing)."""
    if isinstance(result, dict):
        return any(did_something(value) for value in result.values())
    return bool(result)


def periodic(job: Callable[..., Awaitable[Any]], **when: Any) -> CronJob:
    """arq's `cron(job, **when)`, the job run through `retried_next_period`."""
    return cron(cast(WorkerCoroutine, retried_next_period(job)), **when)
