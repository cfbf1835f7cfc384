"""Migration 2026-12-01T20 (opening hours, closures, scheduled orders) forwards, backwards and
forwards again on a database of its own: restaurants from before have no hours (always open),
7 days of scheduling and no slot limit; orders from before are ASAP; a closure ending before
it starts and hours that are not a list are refused; backwards drops the table and columns."""

from __future__ import annotations

import asyncpg
import pytest

from tests.helpers.migrations import (
    columns_of,
    connected_at,
    migrate,
    old_order,
    old_restaurant,
    tables_of,
)

BEFORE = "2026-12-01T17:00:00:000000"
THIS = "2026-12-01T20:00:00:000000"
NEW_COLUMNS = {
    "restaurant": {"weekly_hours", "slot_capacity", "schedule_days"},
    "paid_order": {"scheduled_for", "released_at"},
}


async def test_forwards_backwards_forwards(scratch: str) -> None:
    async with connected_at(scratch, BEFORE) as connection:
        restaurant = await old_restaurant(connection)
        await old_order(connection, restaurant)

        migrate(scratch, "forwards", THIS)
        for table, columns in NEW_COLUMNS.items():
            assert columns <= await columns_of(connection, table), table
        assert "restaurant_closure" in await tables_of(connection)
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

        migrate(scratch, "backwards", THIS)
        for table, columns in NEW_COLUMNS.items():
            assert not columns & await columns_of(connection, table), table
        assert "restaurant_closure" not in await tables_of(connection)
        assert await connection.fetchval("SELECT count(*) FROM paid_order") == 1

        migrate(scratch, "forwards", THIS)
        assert await connection.fetchval("SELECT schedule_days FROM restaurant") == 7
