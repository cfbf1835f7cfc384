"""Migration 2026-12-01T21 (languages) forwards, backwards and forwards again on a database of
its own: existing restaurants and paid orders become English, only languages Orderpass
speaks are stored, backwards drops both columns."""

from __future__ import annotations

import asyncpg
import pytest

from tests.helpers.migrations import columns_of, connected_at, migrate, old_order, old_restaurant

BEFORE = "2026-12-01T17:00:00:000000"
THIS = "2026-12-01T21:00:00:000000"


async def test_forwards_backwards_forwards(scratch: str) -> None:
    async with connected_at(scratch, BEFORE) as connection:
        restaurant = await old_restaurant(connection)
        await old_order(connection, restaurant)

        migrate(scratch, "forwards", THIS)
        assert "default_language" in await columns_of(connection, "restaurant")
        assert "language" in await columns_of(connection, "paid_order")
        assert await connection.fetchval("SELECT default_language FROM restaurant") == "en"
        assert await connection.fetchval("SELECT language FROM paid_order") == "en"
        for statement in ("UPDATE restaurant SET default_language = 'fr'",
                          "UPDATE paid_order SET language = 'xx'"):
            with pytest.raises(asyncpg.CheckViolationError):
                await connection.execute(statement)
        await connection.execute("UPDATE restaurant SET default_language = 'de'")
        await connection.execute("UPDATE paid_order SET language = 'de'")

        migrate(scratch, "backwards", THIS)
        assert "default_language" not in await columns_of(connection, "restaurant")
        assert "language" not in await columns_of(connection, "paid_order")
        assert await connection.fetchval("SELECT count(*) FROM paid_order") == 1

        migrate(scratch, "forwards", THIS)
        assert await connection.fetchval("SELECT language FROM paid_order") == "en"
