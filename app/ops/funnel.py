"""Daily funnel counters (`funnel_daily`): one row per restaurant per day, bumped atomically."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.ops.tables import FunnelDaily

COUNTERS = frozenset({"submitted", "link_created", "link_failed", "email_sent", "paid", "expired"})


async def bump(restaurant_id: int, counter: str, by: int = 1, *, day: date | None = None) -> None:
    """Add `by` to today's `counter` for a restaurant (an upsert, so concurrent bumps add up)."""
    if counter not in COUNTERS:  # the name is interpolated into SQL: only known columns pass
        raise ValueError(f"unknown funnel counter: {counter!r}")
    when = day or datetime.now(UTC).date()
    await FunnelDaily.raw(
        f"INSERT INTO funnel_daily (restaurant, day, {counter}) VALUES ({{}}, {{}}, {{}}) "  # noqa: S608
        f"ON CONFLICT (restaurant, day) DO UPDATE "
        f"SET {counter} = funnel_daily.{counter} + EXCLUDED.{counter}",
        restaurant_id, when, by,
    )
