"""Migration 2026-12-01T19 (menu editor) forwards, backwards and forwards again on a database
of its own: existing items get category rows in their menu order, order lines get no options;
the constraints refuse what the editor refuses; backwards drops every new table and column."""

from __future__ import annotations

import asyncpg
import pytest

from tests.helpers.migrations import columns_of, connected_at, migrate, old_order, old_restaurant

BEFORE = "2026-12-01T17:00:00:000000"
THIS = "2026-12-01T19:00:00:000000"
TABLES = ("menu_category", "menu_photo", "modifier_group", "modifier_option")


async def _tables(connection: asyncpg.Connection) -> set[str]:
    rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows}


async def test_forwards_backwards_forwards(scratch: str) -> None:
    async with connected_at(scratch, BEFORE) as connection:
        restaurant = await old_restaurant(connection)
        for position, (category, name) in enumerate(
                [("Mains", "Soup"), ("Starters", "Bread"), ("Mains", "Stew")]):
            await connection.execute(
                "INSERT INTO menu_item (restaurant, category, name, price_amount, "
                "position) VALUES ($1, $2, $3, 650, $4)", restaurant, category, name,
                position)
        order = await old_order(connection, restaurant)
        await connection.execute(
            "INSERT INTO order_item (paid_order, name, unit_amount, quantity, net_amount, "
            "gross_amount) VALUES ($1, 'Soup', 650, 2, 1300, 1300)", order)

        migrate(scratch, "forwards", THIS)
        assert set(TABLES) <= await _tables(connection)
        assert {"allergens", "photo_id"} <= await columns_of(connection, "menu_item")
        assert [tuple(row) for row in await connection.fetch(
            "SELECT name, position FROM menu_category ORDER BY position")] == [
            ("Mains", 0), ("Starters", 1)]
        assert await connection.fetchval("SELECT modifiers FROM order_item") == "[]"
        # A new item's category gets its row (placed last); a rename follows to items.
        await connection.execute(
            "INSERT INTO menu_item (restaurant, category, name, price_amount) "
            "VALUES ($1, 'Drinks', 'Tea', 300)", restaurant)
        assert await connection.fetchval(
            "SELECT position FROM menu_category WHERE name = 'Drinks'") == 2
        await connection.execute("UPDATE menu_category SET name = 'Hot' WHERE name = 'Mains'")
        assert await connection.fetchval(
            "SELECT count(*) FROM menu_item WHERE category = 'Hot'") == 2
        with pytest.raises(asyncpg.ForeignKeyViolationError):  # not while it has items
            await connection.execute("DELETE FROM menu_category WHERE name = 'Hot'")
        item = await connection.fetchval("SELECT id FROM menu_item WHERE name = 'Soup'")
        for statement in (
                "INSERT INTO modifier_group (menu_item, name, min_choices, max_choices) "
                "VALUES ($1, 'Size', 2, 1)",
                "INSERT INTO modifier_group (menu_item, name, required, min_choices) "
                "VALUES ($1, 'Size', true, 0)"):
            with pytest.raises(asyncpg.CheckViolationError):
                await connection.execute(statement, item)
        group = await connection.fetchval(
            "INSERT INTO modifier_group (menu_item, name, required, min_choices) "
            "VALUES ($1, 'Size', true, 1) RETURNING id", item)
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute("INSERT INTO modifier_option (modifier_group, name, "
                                     "price_delta) VALUES ($1, 'S', -1)", group)

        migrate(scratch, "backwards", THIS)
        assert not set(TABLES) & await _tables(connection)
        assert "modifiers" not in await columns_of(connection, "order_item")
        assert not {"allergens", "photo_id"} & await columns_of(connection, "menu_item")
        assert await connection.fetchval("SELECT count(*) FROM menu_item") == 4

        migrate(scratch, "forwards", THIS)
        assert await connection.fetchval("SELECT count(*) FROM menu_category") == 3
