"""Migration 2026-12-01T20 (opening hours, closures, scheduled orders) forwards, backwards and
forwards again on a database of its own: restaurants from before have no hours (always open),
7 days of scheduling and no slot limit; orders from before are ASAP; a closure ending before
it starts and hours that are not a list are refused; backwards drops the table and columns."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[3]
BEFORE = "2026-12-01T17:00:00:000000"
THIS = "2026-12-01T20:00:00:000000"
STEP = """
import asyncio, sys
from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.forwards import run_forwards

async def main(direction, target):
    if direction == "forwards":
        result = await run_forwards(app_name="orderpass", migration_id=target)
    else:
        result = await run_backwards(app_name="orderpass", migration_id=target,
                                     auto_agree=True)
    if not result.success:
        sys.exit(result.message)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""
NEW_COLUMNS = {
    "restaurant": {"weekly_hours", "slot_capacity", "schedule_days"},
    "paid_order": {"scheduled_for", "released_at"},
}


@pytest.fixture
async def scratch() -> AsyncIterator[str]:
    url = os.environ["DATABASE_URL"]
    name = f"orderpass_migration_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(urlsplit(url)._replace(path="/" + name))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _migrate(url: str, direction: str, target: str) -> None:
    result = subprocess.run([sys.executable, "-c", STEP, direction, target], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": url}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


async def _columns(connection: asyncpg.Connection, table: str) -> set[str]:
    rows = await connection.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1", table)
    return {row["column_name"] for row in rows}


async def _tables(connection: asyncpg.Connection) -> set[str]:
    rows = await connection.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    return {row["table_name"] for row in rows}


async def test_forwards_backwards_forwards(scratch: str) -> None:
    _migrate(scratch, "forwards", BEFORE)
    connection = await asyncpg.connect(scratch)
    try:
        restaurant = await connection.fetchval(
            "INSERT INTO restaurant (slug, name, currency) VALUES ('r', 'R', 'eur') RETURNING id")
        await connection.execute(
            "INSERT INTO paid_order (public_id, restaurant, ticket_number, "
            "stripe_checkout_session_id, status, customer_name, customer_email, fulfillment, "
            "currency, total_amount, amount_charged, currency_charged, submitted_at, paid_at) "
            "VALUES ('TEMP-old', $1, 1, 'cs_old', 'paid', 'Ada', 'a@b.c', 'pickup', 'eur', "
            "1300, 1300, 'eur', now(), now())", restaurant)

        _migrate(scratch, "forwards", THIS)
        for table, columns in NEW_COLUMNS.items():
            assert columns <= await _columns(connection, table), table
        assert "restaurant_closure" in await _tables(connection)
        assert tuple(await connection.fetchrow(
            "SELECT weekly_hours::text, slot_capacity, schedule_days FROM restaurant")) == (
            "[]", 0, 7)
        assert tuple(await connection.fetchrow(
            "SELECT scheduled_for, released_at FROM paid_order")) == (None, None)
        await connection.execute(
            "INSERT INTO restaurant_closure (restaurant, starts_on, ends_on, reason) "
            "VALUES ($1, '2026-12-24', '2026-12-26', 'holiday')", restaurant)
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute(
                "INSERT INTO restaurant_closure (restaurant, starts_on, ends_on) "
                "VALUES ($1, '2026-12-24', '2026-12-23')", restaurant)
        for statement in ("UPDATE restaurant SET weekly_hours = '{}'::jsonb",
                          "UPDATE restaurant SET slot_capacity = -1",
                          "UPDATE restaurant SET schedule_days = 61"):
            with pytest.raises(asyncpg.CheckViolationError):
                await connection.execute(statement)
        await connection.execute(
            "UPDATE paid_order SET scheduled_for = now() + interval '1 hour'")

        _migrate(scratch, "backwards", THIS)
        for table, columns in NEW_COLUMNS.items():
            assert not columns & await _columns(connection, table), table
        assert "restaurant_closure" not in await _tables(connection)
        assert await connection.fetchval("SELECT count(*) FROM paid_order") == 1

        _migrate(scratch, "forwards", THIS)
        assert await connection.fetchval("SELECT schedule_days FROM restaurant") == 7
    finally:
        await connection.close()
