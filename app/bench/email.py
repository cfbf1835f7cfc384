"""Email: K confirmation emails (one per order created through the API) sent by the worker(s)
to the sandbox under Resend's 2 requests/s limit; emails/s from the first order submitted to
the last email's `sent_at`. Only `/emails/batch` can beat 2 emails/s."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

import asyncpg
import httpx

from app.bench.client import create_orders

SLUG = "demo-2"
QUERY = """
SELECT count(*) FILTER (WHERE status NOT IN ('queued', 'failed')) AS sent,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       max(sent_at) AS last_sent, count(*) AS rows
FROM email_message WHERE kind = 'order_confirmation' AND order_ref = ANY($1::text[])
"""


async def queued_emails(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM email_message WHERE status = 'queued'"))
    finally:
        await conn.close()


async def wait_email_quiet(database_url: str, limit_s: float) -> float:
    """Wait (up to `limit_s`) until no email is queued; returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        if await queued_emails(database_url) == 0:
            break
        await asyncio.sleep(0.5)
    return round(time.perf_counter() - started, 1)


async def run_email(web: httpx.AsyncClient, sandbox: httpx.AsyncClient, database_url: str,
                    count: int, limit_s: float = 90) -> dict[str, Any]:
    config = await sandbox.post("/_control/config", json={"resend_rate_limit_per_s": 2})
    config.raise_for_status()
    started_wall = datetime.now().astimezone()
    started = time.perf_counter()
    orders = await create_orders(web, SLUG, count)
    refs = [order["id"] for order in orders]
    submitted_s = time.perf_counter() - started
    conn = await asyncpg.connect(database_url)
    try:
        while True:
            row = await conn.fetchrow(QUERY, refs)
            if row["sent"] + row["failed"] >= count or time.perf_counter() - started > limit_s:
                break
            await asyncio.sleep(0.25)
    finally:
        await conn.close()
    last: datetime | None = row["last_sent"]
    span = (last - started_wall).total_seconds() if last else 0.0
    sent = int(row["sent"])
    return {"emails": count, "sent": sent, "failed": int(row["failed"]),
            "per_s": round(sent / span, 1) if span > 0 else 0.0,
            "seconds": round(span, 2), "orders_submitted_s": round(submitted_s, 2),
            "resend_limit_per_s": 2}
