"""Migration 2026-12-06T11:30 (the allergens an option adds) forwards, backwards and forwards
again on a database of its own: existing options add none, only the 14 EU codes are taken,
backwards drops the column and keeps the options and paid orders."""

from __future__ import annotations

import asyncpg
import pytest

from tests.helpers.migrations import columns_of, connected_at, migrate, old_order, old_restaurant

BEFORE = "2026-12-06T10:00:00:000000"
THIS = "2026-12-06T11:30:00:000000"


async def test_forwards_backwards_forwards(scratch: str) -> None:
    async with connected_at(scratch, BEFORE) as connection:
        restaurant = await old_restaurant(connection)
        await old_order(connection, restaurant)
        item = await connection.fetchval(
            "INSERT INTO menu_item (restaurant, category, name, price_amount) "
            "VALUES ($1, 'Pasta', 'Penne', 900) RETURNING id", restaurant)
        group = await connection.fetchval(
            "INSERT INTO modifier_group (menu_item, name) VALUES ($1, 'Extras') RETURNING id",
            item)
        await connection.execute("INSERT INTO modifier_option (modifier_group, name, "
                                 "price_delta) VALUES ($1, 'Pesto', 100)", group)

        migrate(scratch, "forwards", THIS)
        assert "allergens" in await columns_of(connection, "modifier_option")
        assert await connection.fetchval("SELECT allergens FROM modifier_option") == []
        await connection.execute("UPDATE modifier_option SET allergens = '{nuts,milk}'")
        for codes in (["almonds"], ["nuts", None]):
            with pytest.raises(asyncpg.CheckViolationError):
                await connection.execute("UPDATE modifier_option SET allergens = $1", codes)
        with pytest.raises(asyncpg.NotNullViolationError):
            await connection.execute("UPDATE modifier_option SET allergens = NULL")
        assert await connection.fetchval("SELECT allergens FROM modifier_option") == [
            "nuts", "milk"]

        migrate(scratch, "backwards", THIS)
        assert "allergens" not in await columns_of(connection, "modifier_option")
        assert await connection.fetchval("SELECT name FROM modifier_option") == "Pesto"
        assert await connection.fetchval("SELECT count(*) FROM paid_order") == 1

        migrate(scratch, "forwards", THIS)
        assert await connection.fetchval("SELECT allergens FROM modifier_option") == []
