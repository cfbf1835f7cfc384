"""arq jobs for email: `send_email` sends one (kind, order) email at most once, batching the
backlog when it is large. Retries are explicit (`arq.Retry`): any other exception would fail
the job for good, so unexpected errors are retried too, with backoff, up to MAX_TRIES."""

from __future__ import annotations

import asyncio
from typing import Any

from arq import Retry
from arq.worker import Function, func

from app.infra.logging import get_logger
from app.notifications.delivery import JOB_TIMEOUT_S, MAX_TRIES, RetryLater, backoff, deliver
from app.notifications.service import requeue_stale
from app.settings import get_settings

log = get_logger("orderpass.worker.email")
OWN_TIMEOUT_MARGIN_S = 5


async def send_email(ctx: dict[str, Any], kind: str, order_ref: str,
                     key: str | None = None) -> str:
    """`key` is given for a deliberate resend (its own row and Resend idempotency key)."""
    settings = ctx.get("settings") or get_settings()
    job_try = int(ctx.get("job_try", 1))
    try:
        # Ended by our own timeout rather than arq's: arq fails a timed-out job for good (a
        # worker frozen mid-send left a paid diner's receipt unsent); this one is retried.
        async with asyncio.timeout(JOB_TIMEOUT_S - OWN_TIMEOUT_MARGIN_S):
            outcome = await deliver(ctx["redis"], settings, kind, order_ref, job_try, key)
    except RetryLater as later:
        log.info("email retry scheduled", kind=kind, order_id=order_ref, job_try=job_try,
                 defer_s=round(later.defer_s, 2), reason=str(later))
        raise Retry(defer=later.defer_s) from later
    except Exception as error:
        if job_try >= MAX_TRIES:
            log.exception("email job failed for good", kind=kind, order_id=order_ref)
            raise
        log.warning("email job error, retrying", kind=kind, order_id=order_ref,
                    job_try=job_try, error=repr(error))
        raise Retry(defer=backoff(job_try)) from error
    log.info("email job done", kind=kind, order_id=order_ref, outcome=outcome)
    return outcome


async def requeue_stale_emails(ctx: dict[str, Any]) -> int:
    """Cron: queued emails with no live job (lost enqueue) get their job back."""
    return await requeue_stale(ctx["redis"])


# Registered with its own max_tries: backoff reaches 10 min and the SMTP fallback needs tries.
send_email_function: Function = func(send_email, name="send_email", max_tries=MAX_TRIES,
                                     timeout=JOB_TIMEOUT_S)
