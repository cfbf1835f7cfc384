"""Worker start-up and shutdown: logging, the Postgres pool, and this worker's heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from app import outbox_consumers
from app.infra import db, i18n
from app.infra.gc_tuning import freeze_startup_heap
from app.infra.logging import configure_logging, get_logger
from app.infra.redis import limit_worker_reads
from app.infra.unavailable import DEPENDENCY_ERRORS
from app.notifications import compose
from app.notifications import gateway as email_gateway
from app.ops import heartbeat
from app.payments.stripe_gateway import close_gateway
from app.settings import Settings, get_settings

log = get_logger("orderpass.worker")
# A worker starting (or restarting in-process after Redis came back) while Postgres restarts
# waits for it this long instead of exiting: `orderpass dev` stops everything when a child
# exits, and CI saw exactly that when an embedded Postgres died under a worker's restart.
POSTGRES_START_WAIT_S = 60


async def _beat_forever(ctx: dict[str, Any]) -> None:
    while True:
        try:
            await heartbeat.beat(ctx["redis"], ctx["worker_name"])
        except Exception as error:  # Redis blips must not kill the heartbeat loop
            log.warning("heartbeat failed", error=str(error))
        await asyncio.sleep(heartbeat.HEARTBEAT_INTERVAL_S)


def _warm_up(settings: Settings) -> None:
    """Do once at start what the first email batch and the first ops-alert run did inside
    the drain of a backlog (its first send was later by that much): compile the email
    templates, open Resend's client, import the modules the crons import lazily."""
    compose.warm_up()
    i18n.warm_up()  # the prices and dates in every email
    email_gateway.warm_up(settings)
    importlib.import_module("app.notifications.webhooks")  # ops alerts (webhook error rate)


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    await limit_worker_reads(ctx["redis"])
    outbox_consumers.load()  # the relay and every job's fast path deliver outbox rows
    async for attempt in AsyncRetrying(
            stop=stop_after_delay(POSTGRES_START_WAIT_S), wait=wait_exponential(0.2, max=2),
            retry=retry_if_exception_type(DEPENDENCY_ERRORS), reraise=True,
            before_sleep=lambda state: log.warning(
                "worker waits for Postgres", attempt=state.attempt_number,
                error=repr(state.outcome.exception() if state.outcome else None)[:200])):
        with attempt:
            await db.open_pool(max_size=10)
    ctx["settings"] = settings
    ctx["worker_name"] = heartbeat.worker_name()
    ctx["heartbeat_task"] = asyncio.create_task(_beat_forever(ctx))
    _warm_up(settings)
    freeze_startup_heap()
    log.info("worker started", worker=ctx["worker_name"])


async def shutdown(ctx: dict[str, Any]) -> None:
    task = ctx.get("heartbeat_task")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    with contextlib.suppress(Exception):
        await heartbeat.forget(ctx["redis"], ctx["worker_name"])
    await close_gateway()
    with contextlib.suppress(Exception):
        await email_gateway.close()
    await db.close_pool()
    log.info("worker stopped", worker=ctx.get("worker_name"))
