"""Daily funnel counters (`funnel_daily`): one row per restaurant per day, bumped atomically."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.piccolo_conf import DB

COUNTERS = frozenset({"submitted", "link_created", "link_failed", "email_sent", "paid", "expired"})


async def bump(restaurant_id: int, counter: str, by: int = 1, *, day: date | None = None) -> None:
    """Add `by` to today's `counter` for a restaurant (an upsert, so concurrent bumps add up).

    Committed without waiting for the WAL flush: these are analytics counters on the hot
    intake path, where an fsync per bump (with every order of the restaurant queueing on
    the same row lock meanwhile) would cap throughput. A crash can lose the last few
    increments; it cannot corrupt or double them."""
    if counter not in COUNTERS:  # the name is interpolated into SQL: only known columns pass
        raise ValueError(f"unknown funnel counter: {counter!r}")
    when = day or datetime.now(UTC).date()
    async with DB.transaction() as transaction:
        await transaction.connection.execute("SET LOCAL synchronous_commit TO OFF")
        await transaction.connection.execute(
            f"INSERT INTO funnel_daily (restaurant, day, {counter}) VALUES ($1, $2, $3) "  # noqa: S608
            f"ON CONFLICT (restaurant, day) DO UPDATE "
            f"SET {counter} = funnel_daily.{counter} + EXCLUDED.{counter}",
            restaurant_id, when, by)
