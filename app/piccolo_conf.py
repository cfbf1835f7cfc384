"""Piccolo's engine and app registry (`PICCOLO_CONF=app.piccolo_conf`)."""

from collections.abc import Sequence
from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from app.infra.urls import database_url
from app.settings import get_settings


class BoundedEngine(PostgresEngine):
    """Piccolo's engine, where a pooled statement past its limit cuts its connection. asyncpg
    answers the timeout at once but then holds the connection's release until Postgres
    confirms the statement's cancellation, which a server that hangs never does: a request
    waited twice the limit for its 503 (20 s by default). The pool opens a new connection
    in its place when one is next needed."""

    async def _run_in_pool(self, query: str, args: Sequence[Any] | None = None) -> Any:
        if not self.pool:
            raise ValueError("A pool isn't currently running.")
        async with self.pool.acquire() as connection:
            try:
                return await connection.fetch(query, *(args or ()))
            except TimeoutError:
                connection.terminate()
                raise


# asyncpg takes the config as is, for the pool and for every new connection: each statement
# and each connect has a limit (see Settings.db_command_timeout_seconds).
DB = BoundedEngine(config={
    "dsn": database_url(),
    "command_timeout": get_settings().db_command_timeout_seconds,
    "timeout": get_settings().db_connect_timeout_seconds,
})

APP_REGISTRY = AppRegistry(apps=["app.piccolo_app"])
