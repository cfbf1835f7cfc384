"""Migration 2026-12-01T17 (VAT and tips) forwards and backwards on a database of its own:
orders paid before it become untaxed (rate 0, net = gross, no tip), restaurants keep prices
including VAT at 0 % with tips on; a line whose net and tax do not add up to its gross is
refused; backwards drops every new column and forwards runs again."""

from __future__ import annotations

import asyncpg
import pytest

from tests.helpers.migrations import columns_of, connected_at, migrate, old_order, old_restaurant

BEFORE = "2026-12-01T14:00:00:000000"
THIS = "2026-12-01T17:00:00:000000"
NEW_COLUMNS = {
    "restaurant": {"tax_mode", "default_tax_rate", "tips_enabled", "legal_name",
                   "legal_address", "tax_id"},
    "menu_item": {"tax_rate"},
    "order_item": {"tax_rate", "net_amount", "tax_amount", "gross_amount"},
    "paid_order": {"tax_mode", "tip_amount", "net_amount", "tax_amount", "seller_legal_name",
                   "seller_address", "seller_tax_id"},
}


async def test_forwards_backwards_forwards(scratch: str) -> None:
    async with connected_at(scratch, BEFORE) as connection:
        restaurant = await old_restaurant(connection)
        await connection.execute(
            "INSERT INTO menu_item (restaurant, category, name, price_amount) "
            "VALUES ($1, 'Mains', 'Soup', 650)", restaurant)
        order = await old_order(connection, restaurant)
        await connection.execute(
            "INSERT INTO order_item (paid_order, name, unit_amount, quantity) "
            "VALUES ($1, 'Soup', 650, 2)", order)

        migrate(scratch, "forwards", THIS)
        for table, columns in NEW_COLUMNS.items():
            assert columns <= await columns_of(connection, table), table
        assert tuple(await connection.fetchrow(
            "SELECT tax_rate, net_amount, tax_amount, gross_amount FROM order_item")) == (
            0, 1300, 0, 1300)
        assert tuple(await connection.fetchrow(
            "SELECT tax_mode, tip_amount, net_amount, tax_amount FROM paid_order")) == (
            "included", 0, 1300, 0)
        assert tuple(await connection.fetchrow(
            "SELECT tax_mode, default_tax_rate, tips_enabled, legal_name FROM restaurant")) == (
            "included", 0, True, "")
        assert await connection.fetchval("SELECT tax_rate FROM menu_item") is None
        with pytest.raises(asyncpg.CheckViolationError):  # net + tax must make the gross
            await connection.execute(
                "INSERT INTO order_item (paid_order, name, unit_amount, quantity, tax_rate, "
                "net_amount, tax_amount, gross_amount) "
                "VALUES ($1, 'Bad', 100, 1, 1900, 84, 15, 100)", order)
        for statement in ("UPDATE restaurant SET tax_mode = 'never'",
                          "UPDATE restaurant SET default_tax_rate = 10001",
                          "UPDATE menu_item SET tax_rate = -1",
                          "UPDATE paid_order SET tip_amount = -1"):
            with pytest.raises(asyncpg.CheckViolationError):
                await connection.execute(statement)
        await connection.execute(
            "UPDATE restaurant SET tax_mode = 'added', default_tax_rate = 1900, "
            "legal_name = 'R GmbH'")

        migrate(scratch, "backwards", THIS)
        for table, columns in NEW_COLUMNS.items():
            assert not columns & await columns_of(connection, table), table
        assert await connection.fetchval("SELECT count(*) FROM order_item") == 1

        migrate(scratch, "forwards", THIS)
        assert await connection.fetchval("SELECT net_amount FROM paid_order") == 1300
