"""Migration 2026-12-04T09 (fulfilment modes) forwards, backwards and forwards again on a
database of its own: existing restaurants keep every mode, a restaurant offers at least one
mode and only modes Orderpass knows, backwards drops the column and leaves paid orders be."""

from __future__ import annotations

import asyncpg
import pytest

from tests.helpers.migrations import columns_of, connected_at, migrate, old_order, old_restaurant

BEFORE = "2026-12-03T13:00:00:000000"
THIS = "2026-12-04T09:00:00:000000"
ALL = ["pickup", "delivery", "dine_in"]


async def test_forwards_backwards_forwards(scratch: str) -> None:
    async with connected_at(scratch, BEFORE) as connection:
        restaurant = await old_restaurant(connection)
        await old_order(connection, restaurant, delivery_address="Torstr. 5")

        migrate(scratch, "forwards", THIS)
        assert "fulfillment_modes" in await columns_of(connection, "restaurant")
        assert await connection.fetchval("SELECT fulfillment_modes FROM restaurant") == ALL
        new = await connection.fetchval("INSERT INTO restaurant (slug, name, currency) "
                                        "VALUES ('n', 'N', 'eur') RETURNING fulfillment_modes")
        assert new == ALL
        for modes in ([], ["drone"], ["pickup", "drone"], ["pickup", None]):
            with pytest.raises(asyncpg.CheckViolationError):
                await connection.execute("UPDATE restaurant SET fulfillment_modes = $1", modes)
        with pytest.raises(asyncpg.NotNullViolationError):
            await connection.execute("UPDATE restaurant SET fulfillment_modes = NULL")
        await connection.execute("UPDATE restaurant SET fulfillment_modes = '{pickup}'")
        assert await connection.fetchval(
            "SELECT fulfillment FROM paid_order WHERE public_id = 'TEMP-old'") == "delivery"

        migrate(scratch, "backwards", THIS)
        assert "fulfillment_modes" not in await columns_of(connection, "restaurant")
        assert await connection.fetchval("SELECT fulfillment FROM paid_order") == "delivery"

        migrate(scratch, "forwards", THIS)
        assert await connection.fetchval(
            "SELECT fulfillment_modes FROM restaurant WHERE slug = 'r'") == ALL
