"""Migration 2026-12-07T09:30 (going live) forwards, backwards and forwards again on a database
of its own: restaurants from before stay public (live since they were created, hours, VAT and
who runs the kitchen confirmed) and keep taking orders; a restaurant not live cannot be
accepting orders (a CHECK); a row inserted without the new columns is live; backwards drops
the columns."""

from __future__ import annotations

import asyncpg
import pytest

from tests.helpers.migrations import columns_of, connected_at, migrate, old_order, old_restaurant

BEFORE = "2026-12-06T10:00:00:000000"
THIS = "2026-12-07T09:30:00:000000"
NEW_COLUMNS = {"live_since", "hours_confirmed", "tax_confirmed", "kitchen_confirmed"}


async def test_forwards_backwards_forwards(scratch: str) -> None:
    async with connected_at(scratch, BEFORE) as connection:
        restaurant = await old_restaurant(connection)
        await old_order(connection, restaurant)

        migrate(scratch, "forwards", THIS)
        assert await columns_of(connection, "restaurant") >= NEW_COLUMNS
        row = await connection.fetchrow(
            "SELECT live_since = created_at AS since_created, hours_confirmed, tax_confirmed, "
            "kitchen_confirmed, accepting_orders FROM restaurant WHERE id = $1", restaurant)
        assert tuple(row) == (True, True, True, True, True)
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute("UPDATE restaurant SET live_since = NULL")
        await connection.execute(
            "UPDATE restaurant SET live_since = NULL, accepting_orders = false")
        fresh = await connection.fetchval(
            "INSERT INTO restaurant (slug, name, currency) VALUES ('s', 'S', 'eur') "
            "RETURNING live_since IS NOT NULL AND accepting_orders")
        assert fresh is True

        migrate(scratch, "backwards", THIS)
        assert not NEW_COLUMNS & await columns_of(connection, "restaurant")
        assert await connection.fetchval("SELECT count(*) FROM paid_order") == 1

        migrate(scratch, "forwards", THIS)
        assert await connection.fetchval(
            "SELECT bool_and(live_since IS NOT NULL) FROM restaurant") is True
