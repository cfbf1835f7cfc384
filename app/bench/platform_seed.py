"""Seeding the platform section: N restaurants, each with the demo restaurant's menu and a
kitchen login, in a few bulk SQL statements (one INSERT … SELECT per table over
generate_series), not N ORM round trips.

Rows are cloned from the demo seed (`demo`, `kitchen@demo.test`) column by column, as
information_schema lists them: columns other branches add later are copied along with
their values, and only the identity, the names and the links are replaced."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from argon2 import PasswordHasher

PREFIX = "platform-"
SOURCE_SLUG = "demo"
# The bench's own logins: Argon2id as everywhere, with its smallest cost. Verification reads
# the cost from the hash, so 1,000 logins take a second, not a minute of the web process.
_CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
# The sources of the bulk inserts (constants only; the count is a parameter): N new
# restaurants cloned from the demo one, and the platform restaurants with no rows yet in
# {table}. PREFIX and SOURCE_SLUG are spelled out in them.
NEW_RESTAURANTS = ("restaurant r, generate_series(1, $1::int) n WHERE r.slug = 'demo' AND "
                   "NOT EXISTS (SELECT 1 FROM restaurant x WHERE x.slug = 'platform-' || n)")
TARGETS = ("restaurant t WHERE t.slug LIKE 'platform-%' AND NOT EXISTS "
           "(SELECT 1 FROM {table} x WHERE x.restaurant = t.id)")


@dataclass(frozen=True)
class SeededRestaurant:
    id: int
    slug: str
    item_ids: list[int]

    @property
    def login(self) -> str:
        return f"kitchen@{self.slug}.test"


async def _columns(conn: asyncpg.Connection, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = $1 AND is_identity = 'NO' AND "
        "coalesce(column_default, '') NOT LIKE 'nextval(%' ORDER BY ordinal_position", table)
    return [row["column_name"] for row in rows]


def _clone(table: str, columns: list[str], replaced: dict[str, str], source: str,
           alias: str) -> str:
    """INSERT INTO table (columns) SELECT <alias.column or its replacement> FROM source."""
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join(replaced.get(name, f'{alias}."{name}"') for name in columns)
    return f"INSERT INTO {table} ({names}) SELECT {values} FROM {source}"  # noqa: S608


async def seed_restaurants(database_url: str, count: int, password: str
                           ) -> list[SeededRestaurant]:
    """`count` restaurants `platform-1…N` (created if missing), each with the demo menu and
    the login `kitchen@platform-<n>.test` / `password`."""
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            restaurant = await _columns(conn, "restaurant")
            await conn.execute(_clone(
                "restaurant", restaurant,
                {"slug": f"'{PREFIX}' || n", "name": "'Platform ' || n",
                 "last_ticket_number": "0", "created_at": "now()"},
                NEW_RESTAURANTS, "r"), count)
            menu = await _columns(conn, "menu_item")
            await conn.execute(_clone(
                "menu_item", menu, {"restaurant": "t.id"},
                f"menu_item m JOIN restaurant r ON r.id = m.restaurant AND r.slug = "
                f"'{SOURCE_SLUG}' CROSS JOIN " + TARGETS.format(table="menu_item"), "m"))
            staff = await _columns(conn, "staff_user")
            await conn.execute(_clone(
                "staff_user", staff,
                {"email": "'kitchen@' || t.slug || '.test'", "password_hash": "$1",
                 "restaurant": "t.id", "created_at": "now()"},
                f"staff_user u CROSS JOIN {TARGETS.format(table='staff_user')} AND "
                f"u.email = 'kitchen@{SOURCE_SLUG}.test'", "u"), _CHEAP.hash(password))
        rows = await conn.fetch(
            "SELECT r.id, r.slug, array_agg(m.id ORDER BY m.position, m.id) "
            "FILTER (WHERE m.available) AS items FROM restaurant r "
            "JOIN menu_item m ON m.restaurant = r.id WHERE r.slug LIKE $1 || '%' "
            "GROUP BY r.id, r.slug", PREFIX)
    finally:
        await conn.close()
    seeded = [SeededRestaurant(row["id"], row["slug"], list(row["items"] or []))
              for row in rows]
    seeded.sort(key=lambda r: int(r.slug.removeprefix(PREFIX)))
    return seeded[:count]
