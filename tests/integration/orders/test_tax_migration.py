"""Migration 2026-12-01T17 (VAT and tips) forwards and backwards on a database of its own:
orders paid before it become untaxed (rate 0, net = gross, no tip), restaurants keep prices
including VAT at 0 % with tips on; a line whose net and tax do not add up to its gross is
refused; backwards drops every new column and forwards runs again."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[3]
BEFORE = "2026-12-01T14:00:00:000000"
THIS = "2026-12-01T17:00:00:000000"
STEP = """
import asyncio, sys
from piccolo.apps.migrations.commands.backwards import run_backwards
from piccolo.apps.migrations.commands.forwards import run_forwards

async def main(direction, target):
    if direction == "forwards":
        result = await run_forwards(app_name="orderpass", migration_id=target)
    else:
        result = await run_backwards(app_name="orderpass", migration_id=target,
                                     auto_agree=True)
    if not result.success:
        sys.exit(result.message)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""
NEW_COLUMNS = {
    "restaurant": {"tax_mode", "default_tax_rate", "tips_enabled", "legal_name",
                   "legal_address", "tax_id"},
    "menu_item": {"tax_rate"},
    "order_item": {"tax_rate", "net_amount", "tax_amount", "gross_amount"},
    "paid_order": {"tax_mode", "tip_amount", "net_amount", "tax_amount", "seller_legal_name",
                   "seller_address", "seller_tax_id"},
}


@pytest.fixture
async def scratch() -> AsyncIterator[str]:
    url = os.environ["DATABASE_URL"]
    name = f"orderpass_migration_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(urlsplit(url)._replace(path="/" + name))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _migrate(url: str, direction: str, target: str) -> None:
    result = subprocess.run([sys.executable, "-c", STEP, direction, target], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": url}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


async def _columns(connection: asyncpg.Connection, table: str) -> set[str]:
    rows = await connection.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1", table)
    return {row["column_name"] for row in rows}


async def test_forwards_backwards_forwards(scratch: str) -> None:
    _migrate(scratch, "forwards", BEFORE)
    connection = await asyncpg.connect(scratch)
    try:
        restaurant = await connection.fetchval(
            "INSERT INTO restaurant (slug, name, currency) VALUES ('r', 'R', 'eur') RETURNING id")
        await connection.execute(
            "INSERT INTO menu_item (restaurant, category, name, price_amount) "
            "VALUES ($1, 'Mains', 'Soup', 650)", restaurant)
        order = await connection.fetchval(
            "INSERT INTO paid_order (public_id, restaurant, ticket_number, "
            "stripe_checkout_session_id, status, customer_name, customer_email, fulfillment, "
            "currency, total_amount, amount_charged, currency_charged, submitted_at, paid_at) "
            "VALUES ('TEMP-old', $1, 1, 'cs_old', 'paid', 'Ada', 'a@b.c', 'pickup', 'eur', "
            "1300, 1300, 'eur', now(), now()) RETURNING id", restaurant)
        await connection.execute(
            "INSERT INTO order_item (paid_order, name, unit_amount, quantity) "
            "VALUES ($1, 'Soup', 650, 2)", order)

        _migrate(scratch, "forwards", THIS)
        for table, columns in NEW_COLUMNS.items():
            assert columns <= await _columns(connection, table), table
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

        _migrate(scratch, "backwards", THIS)
        for table, columns in NEW_COLUMNS.items():
            assert not columns & await _columns(connection, table), table
        assert await connection.fetchval("SELECT count(*) FROM order_item") == 1

        _migrate(scratch, "forwards", THIS)
        assert await connection.fetchval("SELECT net_amount FROM paid_order") == 1300
    finally:
        await connection.close()
