"""Migration 2026-12-01T14 forwards and backwards on a database of its own (so the suite's
database is untouched): existing 'staff' logins become 'kitchen', versions start at 1, the
new tables appear; backwards restores the old schema (every restaurant role back to 'staff')
and forwards runs again."""

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
BEFORE = "2026-11-27T14:00:00:000000"
THIS = "2026-12-01T14:00:00:000000"
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


async def _tables(connection: asyncpg.Connection) -> set[str]:
    rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}


async def test_forwards_backwards_forwards(scratch: str) -> None:
    _migrate(scratch, "forwards", BEFORE)
    connection = await asyncpg.connect(scratch)
    try:
        restaurant = await connection.fetchval(
            "INSERT INTO restaurant (slug, name, currency) VALUES ('r', 'R', 'eur') RETURNING id")
        await connection.execute(
            "INSERT INTO staff_user (email, password_hash, role, restaurant) VALUES "
            "('cook@r.test', 'h', 'staff', $1), ('admin@r.test', 'h', 'admin', NULL)",
            restaurant)

        _migrate(scratch, "forwards", THIS)
        rows = await connection.fetch(
            "SELECT email, role, session_version FROM staff_user ORDER BY email")
        assert [tuple(row) for row in rows] == [("admin@r.test", "admin", 1),
                                                ("cook@r.test", "kitchen", 1)]
        assert {"staff_invitation", "password_reset"} <= await _tables(connection)
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute("UPDATE staff_user SET role = 'staff'")
        owner = await connection.fetchval(
            "INSERT INTO staff_user (email, password_hash, role, restaurant) "
            "VALUES ('owner@r.test', 'h', 'owner', $1) RETURNING id", restaurant)
        await connection.execute(
            "INSERT INTO staff_invitation (restaurant, email, role, nonce, invited_by, "
            "expires_at) VALUES ($1, 'new@r.test', 'manager', 'n', $2, now())",
            restaurant, owner)
        with pytest.raises(asyncpg.UniqueViolationError):  # one open invitation per address
            await connection.execute(
                "INSERT INTO staff_invitation (restaurant, email, role, nonce, expires_at) "
                "VALUES ($1, 'new@r.test', 'kitchen', 'm', now())", restaurant)
        with pytest.raises(asyncpg.CheckViolationError):  # addresses are stored lower-case
            await connection.execute(
                "INSERT INTO staff_invitation (restaurant, email, role, nonce, expires_at) "
                "VALUES ($1, 'New@r.test', 'kitchen', 'm', now())", restaurant)
        await connection.execute("INSERT INTO password_reset (staff_user, nonce, expires_at) "
                                 "VALUES ($1, 'n', now())", owner)

        _migrate(scratch, "backwards", THIS)
        rows = await connection.fetch("SELECT email, role FROM staff_user ORDER BY email")
        assert [tuple(row) for row in rows] == [("admin@r.test", "admin"),
                                                ("cook@r.test", "staff"),
                                                ("owner@r.test", "staff")]
        assert not {"staff_invitation", "password_reset"} & await _tables(connection)
        columns = await connection.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'staff_user'")
        assert "session_version" not in {row["column_name"] for row in columns}
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute("UPDATE staff_user SET role = 'kitchen'")

        _migrate(scratch, "forwards", THIS)
        assert await connection.fetchval(
            "SELECT count(*) FROM staff_user WHERE role = 'kitchen'") == 2
    finally:
        await connection.close()
