"""Scheduled orders reach the kitchen board at `scheduled_for - prep - RELEASE_LEAD_MINUTES`:
until then a paid scheduled order is listed under "Scheduled", not an active ticket.

The worker's sweep (`workers/kitchen_jobs.py`, every 15 s) stamps `released_at` on the orders
due and, in the same transaction, writes an outbox row per order (`kitchen:<ref>:released`)
announcing it on the restaurant's channel; after commit it is delivered at once, and the
outbox relay re-delivers it if this process dies in between. A sweep that dies before its
commit leaves the orders unreleased for the next sweep. So a release reaches every open
screen live, once, whatever restarts."""

from __future__ import annotations

from datetime import UTC, datetime

from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.piccolo_conf import DB
from app.platform import outbox

log = get_logger("orderpass.release")
BATCH = 200
# Minutes before slot - prep that a booked order reaches the board. Released at slot - prep
# exactly, the sweep's lag (up to 15 s) and the cook's glance before Accept made the kitchen
# promise a minute after the slot the diner booked (an outside try: "ready 20:01" for 20:00).
RELEASE_LEAD_MINUTES = 3

# Released: the order's slot minus its prep minutes and the lead has come. Any status: a
# scheduled order rejected or refunded before its time leaves the "Scheduled" list as well.
_RELEASE = """
UPDATE paid_order SET released_at = $1, updated_at = $1
WHERE id IN (
    SELECT id FROM paid_order
    WHERE scheduled_for IS NOT NULL AND released_at IS NULL
      AND scheduled_for - make_interval(mins => coalesce(prep_minutes, 0) + $3) <= $1
    ORDER BY scheduled_for LIMIT $2 FOR UPDATE SKIP LOCKED)
RETURNING public_id, restaurant
"""


async def release_due(redis: ArqRedis, now: datetime | None = None) -> list[str]:
    """Put every scheduled order whose time has come on its kitchen board; returns refs."""
    moment = now or datetime.now(UTC)
    async with DB.transaction() as transaction:
        rows = await transaction.connection.fetch(_RELEASE, moment, BATCH,
                                                 RELEASE_LEAD_MINUTES)
        promises = [outbox.kitchen_event(int(row["restaurant"]), str(row["public_id"]),
                                         "order.released", tag="released") for row in rows]
        await outbox.add(transaction.connection, promises)
    if promises:
        await outbox.deliver_now(redis, promises)
        log.info("scheduled orders released to the kitchen",
                 orders=[row["public_id"] for row in rows])
    return [str(row["public_id"]) for row in rows]
