"""Daily funnel counters (`funnel_daily`): one row per restaurant per day, bumped atomically."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

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
    when = day or datetime.now(UTC).date()
    await db.execute(_upsert((counter, *also), "$1", "$2", "$3", f" FROM {db.ASYNC_COMMIT}"),
                     restaurant_id, when, by)


def bump_cte(counter: str, first: int, *, also: tuple[str, ...] = ()) -> str:
    """`bump` as a CTE (`funnel_bump`) of the caller's statement, which then shares its round
    trip (the paid order's follow-up: the outbox marked done and "paid" counted in one
    statement; a new order's email row with "link_created" and "submitted"); the caller's
    statement should commit without waiting for the flush, as `bump` does. Parameters
    `$first`… are `bump_parameters`."""
    restaurant, day, by = (f"${first + offset}" for offset in range(3))
    upsert = _upsert((counter, *also), f"{restaurant}::integer", f"{day}::date",
                     f"{by}::integer", "")
    return f"funnel_bump AS ({upsert})"


def bump_parameters(restaurant_id: int, by: int = 1, *, day: date | None = None) -> list[Any]:
    return [restaurant_id, day or datetime.now(UTC).date(), by]


def _upsert(counters: tuple[str, ...], restaurant: str, day: str, by: str, source: str) -> str:
    unknown = [name for name in counters if name not in COUNTERS]
    if unknown:  # names are interpolated into SQL: only known columns pass
        raise ValueError(f"unknown funnel counter: {unknown[0]!r}")
    columns = ", ".join(counters)
    values = ", ".join(by for _ in counters)
    updates = ", ".join(f"{name} = funnel_daily.{name} + EXCLUDED.{name}" for name in counters)
    return (f"INSERT INTO funnel_daily (restaurant, day, {columns}) "
            f"SELECT {restaurant}, {day}, {values}{source} "
            f"ON CONFLICT (restaurant, day) DO UPDATE SET {updates}")
