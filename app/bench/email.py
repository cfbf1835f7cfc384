"""Email: a backlog of K confirmation emails (one per order created through the API while the
worker is paused) drained by the worker(s) under Resend's limit (2 requests/s, at most 100
emails per batch: 200 emails/s), counted on arrival by the sandbox as Resend counts.

`email.per_s` is the emails sent from the moment the worker resumes to the last `sent_at`;
`email.rate_limited` the 429s the sandbox answered meanwhile (the pacing must leave none);
`worker.cpu_ms_per_email` the worker's CPU over the drain per email sent;
`email.web_cpu_ms_per_email` the web process's, for the Resend webhooks each email brings
(sent and delivered)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import asyncpg
import httpx

from app.bench.client import create_orders
from app.bench.probes import BUSY_PCT, CpuProbe
from app.bench.runner import BenchSystem

SLUG = "demo-2"
RESEND_LIMIT_PER_S = 2  # Resend's default team limit; the worker gets the same figure
QUERY = """
SELECT count(*) FILTER (WHERE status NOT IN ('queued', 'failed')) AS sent,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       max(sent_at) AS last_sent, min(sent_at) AS first_sent, count(*) AS rows
FROM email_message WHERE kind = 'order_confirmation' AND order_ref = ANY($1::text[])
"""


async def unsettled_emails(database_url: str) -> int:
    """Emails queued, or sent and not yet reported delivered by Resend's webhooks."""
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM email_message WHERE status IN ('queued', 'sent')"))
    finally:
        await conn.close()


async def wait_email_quiet(database_url: str, limit_s: float) -> float:
    """Wait (up to `limit_s`) until no email is queued and the Resend webhooks of those sent
    have come in (they land in the web process: a measured window must not inherit them);
    returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        if await unsettled_emails(database_url) == 0:
            break
        await asyncio.sleep(0.5)
    return round(time.perf_counter() - started, 1)


async def _limits(sandbox: httpx.AsyncClient) -> dict[str, Any]:
    response = await sandbox.get("/_control/resend/limits")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def drain_limit_s(count: int) -> float:
    """How long the drain may take before the section gives up: four times the provider's
    own minimum, plus a minute."""
    return 4 * count / (100 * RESEND_LIMIT_PER_S) + 60


async def run_email(system: BenchSystem, web: httpx.AsyncClient, sandbox: httpx.AsyncClient,
                    count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Returns the `email` and `worker` figures."""
    config = await sandbox.post("/_control/config",
                                json={"resend_rate_limit_per_s": RESEND_LIMIT_PER_S})
    config.raise_for_status()
    started = time.perf_counter()
    with system.workers_paused():  # the backlog builds up in full before the drain
        orders = await create_orders(web, SLUG, count)
    refs = [order["id"] for order in orders]
    submitted_s = time.perf_counter() - started
    before = await _limits(sandbox)
    conn = await asyncpg.connect(system.database_url)
    try:
        resumed_wall = datetime.now().astimezone()
        probe = CpuProbe(system.process_pids()).start()
        drain_started = time.perf_counter()
        while True:
            row = await conn.fetchrow(QUERY, refs)
            if (row["sent"] + row["failed"] >= count
                    or time.perf_counter() - drain_started > drain_limit_s(count)):
                break
            await asyncio.sleep(0.25)
        await asyncio.sleep(0.5)  # the last batch's Resend webhooks reach the web process
        usage = probe.stop()
    finally:
        await conn.close()
    after = await _limits(sandbox)
    last: datetime | None = row["last_sent"]
    span = (last - resumed_wall).total_seconds() if last else 0.0
    sent = int(row["sent"])
    first: datetime | None = row["first_sent"]
    email = {
        "emails": count, "sent": sent, "failed": int(row["failed"]),
        "per_s": round(sent / span, 1) if span > 0 else 0.0,
        "seconds": round(span, 2),
        "first_send_s": round((first - resumed_wall).total_seconds(), 2) if first else 0.0,
        "orders_submitted_s": round(submitted_s, 2),
        "resend_limit_per_s": RESEND_LIMIT_PER_S,
        "resend_requests": after["accepted"] - before["accepted"],
        "rate_limited": after["rate_limited"] - before["rate_limited"],
        "web_cpu_ms_per_email": usage.per_event_ms("web", sent),
        "cpu_pct": usage.pct(), "machine_busy_pct": usage.machine_busy_pct,
        # Resend's limit caps the rate, unless the machine was too busy to reach it.
        "bounded_by": (usage.bound() if usage.machine_busy_pct > BUSY_PCT
                       else "Resend's limit (2 requests/s, 100 per batch)"),
    }
    worker_s = sum(seconds for name, seconds in usage.seconds.items()
                   if name.startswith("worker"))
    worker = {"cpu_ms_per_email": round(worker_s * 1000 / sent, 3) if sent else 0.0,
              "cpu_s": round(worker_s, 3), "emails": sent, "bounded_by": usage.bound()}
    return email, worker
