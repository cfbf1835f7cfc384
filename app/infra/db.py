"""Postgres lifecycle: the Piccolo engine's connection pool, migrations, a readiness probe."""

from __future__ import annotations

import asyncio
import contextlib
import io
from typing import Any

import asyncpg
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

from app.piccolo_conf import DB


def engine() -> PostgresEngine:
    return DB


async def open_pool(max_size: int = 20) -> bool:
    """Open the pool unless one is already open (tests share theirs); True if we opened it."""
    if DB.pool is not None:
        return False
    await DB.start_connection_pool(min_size=1, max_size=max_size, reset=_keep_session)
    return True


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Skip asyncpg's per-release `RESET ALL; UNLISTEN *; …` round trip (an eighth of the
    web process's time at intake): our code never leaves session state behind (settings
    are `SET LOCAL`, no LISTEN, cursors or advisory locks); an open transaction is still
    rolled back by the pool itself."""


async def fetch(sql: str, *args: Any) -> list[asyncpg.Record]:
    """Raw SQL with `$n` parameters in one round trip, on the same connection Piccolo would
    use (the caller's transaction, else the pool, else a new connection)."""
    transaction = DB.current_transaction.get()
    if transaction is not None:
        return list(await transaction.connection.fetch(sql, *args))
    if DB.pool is not None:
        return list(await DB._run_in_pool(sql, args))
    return list(await DB._run_in_new_connection(sql, args))


# Joined into a single statement (`FROM … ASYNC_COMMIT`), this turns off the wait for the WAL
# flush for that statement's own (implicit) transaction: one round trip where BEGIN, SET
# LOCAL synchronous_commit, the statement and COMMIT took four. For writes whose loss in a
# Postgres crash (the last fraction of a second) costs nothing real: counters, bookkeeping.
ASYNC_COMMIT = "(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"


async def execute(sql: str, *args: Any) -> None:
    """A statement with `$n` parameters in one round trip (see `fetch`)."""
    await fetch(sql, *args)


async def run_script(sql: str) -> None:
    """Run a multi-statement script (migrations) atomically, on a connection of its own
    (asyncpg's simple-query path), without the statement limit: an index built on a large
    table may rightly take minutes."""
    connection = await asyncpg.connect(**{**DB.config, "command_timeout": None})
    try:
        async with connection.transaction():
            await connection.execute(sql)
    finally:
        await connection.close()


def script_migration(migration_id: str, description: str, forwards_sql: str,
                     backwards_sql: str) -> MigrationManager:
    """A Piccolo migration that runs one SQL script forwards and another backwards."""
    manager = MigrationManager(migration_id=migration_id, app_name="orderpass",
                               description=description)

    async def run_forwards() -> None:
        await run_script(forwards_sql)

    async def run_backwards() -> None:
        await run_script(backwards_sql)

    manager.add_raw(run_forwards)
    manager.add_raw_backwards(run_backwards)
    return manager


CLOSE_POOL_S = 5.0


async def close_pool() -> None:
    """Close the pool gracefully, or cut its connections after CLOSE_POOL_S: a connection
    still waiting on a statement Postgres never answered (a freeze earlier) held a worker's
    shutdown until its supervisor's kill, 20 s later (an outside try)."""
    pool = DB.pool
    if pool is None:
        return
    try:
        await asyncio.wait_for(pool.close(), CLOSE_POOL_S)
    except Exception:  # timed out, or the server is gone: nothing left to wait for
        pool.terminate()
    DB.pool = None


async def migrate() -> str:
    """Apply pending migrations; returns one line saying what was done, for the caller to
    print. Piccolo's own progress output is kept for a failure only: it counts every
    migration "already complete" before it lists the same ones "not yet run"."""
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.apps.migrations.tables import Migration

    async def recorded() -> int:  # migrations already run (no table yet on a new database)
        return await Migration.count() if await Migration.table_exists() else 0

    before = await recorded()
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{output.getvalue()}")
    applied = await recorded() - before
    if not applied:
        return f"database up to date: {_migrations(before)} already applied"
    if not before:
        return f"database ready: {_migrations(applied)} applied"
    return f"database ready: {_migrations(applied)} applied, {before} already in place"


def _migrations(count: int) -> str:
    return f"{count} migration{'' if count == 1 else 's'}"


async def ping() -> None:
    await DB.run_ddl("SELECT 1")
