"""Fresh, seeded state for each integration test: truncate everything, flush Redis, seed."""

from __future__ import annotations

from app.piccolo_app import APP_CONFIG
from app.piccolo_conf import DB
from app.restaurants.seed import seed_demo

TABLES = ", ".join(table._meta.tablename for table in APP_CONFIG.table_classes)


async def reset_state(redis: object) -> None:
    await DB.run_ddl(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    await redis.flushdb()  # type: ignore[attr-defined]
    await seed_demo("demo")
