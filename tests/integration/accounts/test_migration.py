"""Migration 2026-12-01T14 forwards and backwards on a database of its own (so the suite's
database is untouched): existing 'staff' logins become 'kitchen', versions start at 1, the
new tables appear; backwards restores the old schema (every restaurant role back to 'staff')
and forwards runs again."""

from __future__ import annotations

import asyncpg
import pytest

from tests.helpers.migrations import connected_at, migrate, old_restaurant, tables_of

BEFORE = "2026-11-27T14:00:00:000000"
THIS = "2026-12-01T14:00:00:000000"


async def _tables(connection: asyncpg.Connection) -> set[str]:
    rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}


async def test_forwards_backwards_forwards(scratch: str) -> None:
    async with connected_at(scratch, BEFORE) as connection:
        restaurant = await old_restaurant(connection)
        await connection.execute(
            "INSERT INTO staff_user (email, password_hash, role, restaurant) VALUES "
            "('cook@r.test', 'h', 'staff', $1), ('admin@r.test', 'h', 'admin', NULL)",
            restaurant)

        migrate(scratch, "forwards", THIS)
        rows = await connection.fetch(
            "SELECT email, role, session_version FROM staff_user ORDER BY email")
        assert [tuple(row) for row in rows] == [("admin@r.test", "admin", 1),
                                                ("cook@r.test", "kitchen", 1)]
        assert {"staff_invitation", "password_reset"} <= await tables_of(connection)
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

        migrate(scratch, "backwards", THIS)
        rows = await connection.fetch("SELECT email, role FROM staff_user ORDER BY email")
        assert [tuple(row) for row in rows] == [("admin@r.test", "admin"),
                                                ("cook@r.test", "staff"),
                                                ("owner@r.test", "staff")]
        assert not {"staff_invitation", "password_reset"} & await tables_of(connection)
        columns = await connection.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'staff_user'")
        assert "session_version" not in {row["column_name"] for row in columns}
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute("UPDATE staff_user SET role = 'kitchen'")

        migrate(scratch, "forwards", THIS)
        assert await connection.fetchval(
            "SELECT count(*) FROM staff_user WHERE role = 'kitchen'") == 2
