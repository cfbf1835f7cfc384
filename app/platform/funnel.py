"""Daily funnel counters (`funnel_daily`): one row per restaurant per day, bumped atomically."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.infra import db

COUNTERS = frozenset({"submitted", "link_created", "link_failed", "email_sent", "paid", "expired"})


async def bump(restaurant_id: int, counter: str, by: int = 1, *, day: date | None = None,
               also: tuple[str, ...] = ()) -> None:
    """Add `by` to today's `counter` (and to each counter in `also`) for a restaurant: one
    upsert, so concurrent bumps add up.

    Committed without waiting for the WAL flush (`ASYNC_COMMIT`), in one round trip: these
    are analytics counters on the hot intake path, where an fsync per bump (with every order
    of the restaurant queueing on the same row lock meanwhile) would cap throughput. A crash
    can lose the last few increments; it cannot corrupt or double them."""
    counters = (counter, *also)
    unknown = [name for name in counters if name not in COUNTERS]
    if unknown:  # names are interpolated into SQL: only known columns pass
        raise ValueError(f"unknown funnel counter: {unknown[0]!r}")
    when = day or datetime.now(UTC).date()
    columns = ", ".join(counters)
    values = ", ".join("$3" for _ in counters)
    updates = ", ".join(f"{name} = funnel_daily.{name} + EXCLUDED.{name}" for name in counters)
    await db.execute(
        f"INSERT INTO funnel_daily (restaurant, day, {columns}) "  # noqa: S608
        f"SELECT $1, $2, {values} FROM {db.ASYNC_COMMIT} "
        f"ON CONFLICT (restaurant, day) DO UPDATE SET {updates}",
        restaurant_id, when, by)
