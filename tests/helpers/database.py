"""Fresh, seeded state for each integration test: truncate everything, flush Redis, seed."""

from __future__ import annotations

import asyncpg

from app.piccolo_app import APP_CONFIG
from app.piccolo_conf import DB
from app.restaurants.seed import seed_demo

TABLES = ", ".join(table._meta.tablename for table in APP_CONFIG.table_classes)


async def reset_state(redis: object) -> None:
    await _truncate_all()
    await redis.flushdb()  # type: ignore[attr-defined]
    await seed_demo("demo")


async def _truncate_all(attempts: int = 5) -> None:
    """TRUNCATE locks table after table, while the session's worker may be inside a job
    that locks rows of two of them in the other order (CI: the cron's sweep): Postgres
    then breaks the deadlock by failing one of the two. Ours simply goes again."""
    for attempt in range(1, attempts + 1):
        try:
            await DB.run_ddl(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
            return
        except asyncpg.exceptions.DeadlockDetectedError:
            if attempt == attempts:
                raise
