"""Migration 2026-12-06T09 (the kitchen notice of an item refund) forwards, backwards and
forwards again on a database of its own: refunds recorded before it raise no notice (the
kitchen was never told of them, and a board opened after the upgrade must not flash old
refunds), backwards drops both columns and the index and keeps the refunds."""

from __future__ import annotations

import asyncpg

from tests.helpers.migrations import columns_of, connected_at, migrate, old_order, old_restaurant

BEFORE = "2026-12-05T09:00:00:000000"
THIS = "2026-12-06T09:00:00:000000"
NEW = {"kitchen_notice", "notice_acknowledged_at"}


async def _index(connection: asyncpg.Connection) -> bool:
    return bool(await connection.fetchval(
        "SELECT count(*) FROM pg_indexes WHERE indexname = 'order_refund_kitchen_notice_idx'"))


async def test_forwards_backwards_forwards(scratch: str) -> None:
    async with connected_at(scratch, BEFORE) as connection:
        restaurant = await old_restaurant(connection)
        order = await old_order(connection, restaurant, status="preparing", amount=1400)
        await connection.execute(
            "INSERT INTO order_refund (paid_order, stripe_refund_id, amount, source, lines, "
            "created_at) VALUES ($1, 're_old', 700, 'admin', "
            "'[{\"item\": 1, \"name\": \"Tiramisu\", \"quantity\": 1}]', now())", order)

        migrate(scratch, "forwards", THIS)
        assert await columns_of(connection, "order_refund") >= NEW
        assert await _index(connection)
        row = await connection.fetchrow(
            "SELECT kitchen_notice, notice_acknowledged_at FROM order_refund")
        assert (row["kitchen_notice"], row["notice_acknowledged_at"]) == (False, None)

        migrate(scratch, "backwards", THIS)
        assert not NEW & await columns_of(connection, "order_refund")
        assert not await _index(connection)
        assert await connection.fetchval("SELECT count(*) FROM order_refund") == 1

        migrate(scratch, "forwards", THIS)
        assert await columns_of(connection, "order_refund") >= NEW
