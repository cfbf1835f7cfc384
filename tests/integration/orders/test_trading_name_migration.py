"""Migration 2026-12-06T10 (the restaurant's name at payment) forwards, backwards and forwards
again on a database of its own: an order paid before it keeps '' (its emails name the
restaurant as it is now), backwards drops the column and keeps the order."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.helpers.migrations import columns_of, connected_at, migrate, scratch_database

BEFORE = "2026-12-06T09:00:00:000000"
THIS = "2026-12-06T10:00:00:000000"


@pytest.fixture
async def scratch() -> AsyncIterator[str]:
    async with scratch_database() as url:
        yield url


async def test_forwards_backwards_forwards(scratch: str) -> None:
    async with connected_at(scratch, BEFORE) as connection:
        restaurant = await connection.fetchval(
            "INSERT INTO restaurant (slug, name, currency) VALUES ('r', 'R', 'eur') RETURNING id")
        await connection.execute(
            "INSERT INTO paid_order (public_id, restaurant, ticket_number, "
            "stripe_checkout_session_id, status, customer_name, customer_email, fulfillment, "
            "currency, total_amount, amount_charged, currency_charged, submitted_at, paid_at) "
            "VALUES ('TEMP-old', $1, 1, 'cs_old', 'paid', 'Ada', 'a@b.c', 'pickup', "
            "'eur', 1400, 1400, 'eur', now(), now())", restaurant)

        migrate(scratch, "forwards", THIS)
        assert await connection.fetchval("SELECT seller_trading_name FROM paid_order") == ""

        migrate(scratch, "backwards", THIS)
        assert "seller_trading_name" not in await columns_of(connection, "paid_order")
        assert await connection.fetchval("SELECT count(*) FROM paid_order") == 1

        migrate(scratch, "forwards", THIS)
        assert "seller_trading_name" in await columns_of(connection, "paid_order")
