"""Running migrations to a given id on a scratch database of its own (a subprocess each, as
`orderpass migrate` runs them), for the forwards/backwards/forwards tests."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
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


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """The URL of a new empty database beside the test one, dropped afterwards."""
    url = os.environ["DATABASE_URL"]
    name = f"orderpass_migration_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        # as the test database (tests/helpers/infra.py): no commit waits for the disk
        await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        yield urlunsplit(urlsplit(url)._replace(path="/" + name))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def connected_at(url: str, target: str) -> AsyncIterator[asyncpg.Connection]:
    """The scratch database migrated forwards to `target` (the schema before the migration
    under test), and a connection to it for the test's own inserts and checks."""
    migrate(url, "forwards", target)
    connection = await asyncpg.connect(url)
    try:
        yield connection
    finally:
        await connection.close()


def migrate(url: str, direction: str, target: str) -> None:
    result = subprocess.run([sys.executable, "-c", STEP, direction, target], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": url}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


async def old_restaurant(connection: asyncpg.Connection) -> int:
    """A restaurant as the first migration knew it: slug, name and currency."""
    return int(await connection.fetchval(
        "INSERT INTO restaurant (slug, name, currency) VALUES ('r', 'R', 'eur') RETURNING id"))


async def old_order(connection: asyncpg.Connection, restaurant: int, *, status: str = "paid",
                    amount: int = 1300, delivery_address: str = "") -> int:
    """A paid order in the columns every migration since the first has kept: a pickup for
    `amount` cents, or a delivery to `delivery_address`."""
    return int(await connection.fetchval(
        "INSERT INTO paid_order (public_id, restaurant, ticket_number, "
        "stripe_checkout_session_id, status, customer_name, customer_email, fulfillment, "
        "delivery_address, currency, total_amount, amount_charged, currency_charged, "
        "submitted_at, paid_at) VALUES ('TEMP-old', $1, 1, 'cs_old', $2, 'Ada', 'a@b.c', $3, "
        "$4, 'eur', $5, $5, 'eur', now(), now()) RETURNING id", restaurant, status,
        "delivery" if delivery_address else "pickup", delivery_address, amount))


async def columns_of(connection: asyncpg.Connection, table: str) -> set[str]:
    rows = await connection.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1", table)
    return {row["column_name"] for row in rows}


async def tables_of(connection: asyncpg.Connection) -> set[str]:
    rows = await connection.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    return {row["table_name"] for row in rows}
