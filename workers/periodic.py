"""Periodic jobs (arq crons) while Postgres or Redis is away: each run that meets the outage
is one warning line naming the job and the error, and the next run tries again. arq logged
every such failure with its full traceback (19 of them in a 35 s Postgres freeze in an
outside try), burying what an on-call engineer needs to read."""

from __future__ import annotations

import functools
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
        try:
            return await job(ctx, *args, **kwargs)
        except DEPENDENCY_ERRORS as error:
            log.warning("periodic job skipped: a dependency is unavailable; the next run "
                        "tries again", job=job.__name__, dependency=dependency_name(error),
                        error=f"{type(error).__name__}: {error}"[:200])
            return None

    return run


def periodic(job: Callable[..., Awaitable[Any]], **when: Any) -> CronJob:
    """arq's `cron(job, **when)`, the job run through `retried_next_period`."""
    return cron(cast(WorkerCoroutine, retried_next_period(job)), **when)
