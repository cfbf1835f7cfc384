"""How many orders one slot takes: the restaurant's `slot_capacity`, counted over the paid
orders for that slot (not rejected, refunded or voided) and the pending ones.

A pending order holds its place from submission until it must be paid (`TempOrder.pay_by`:
the slot's start minus prep, which is also when its payment link is expired); a sorted set
per restaurant and slot in Redis holds them, scored by that moment. An order that is paid
counts once (a paid order still in the set is not counted twice); one abandoned or expired
frees its place when its hold runs out. Check and hold are one Lua call, so two diners
cannot take the last place together."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from redis.asyncio import Redis

from app.infra import db

KEEP_S = 2 * 24 * 3600  # the set outlives its slot a little, then Redis drops it
CLOSED = ["rejected", "refunded", "voided", "charged_back"]

# KEYS[1] the slot's set; ARGV: now, hold until, order id, capacity, ttl, then paid refs.
_RESERVE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 1 end
local count = redis.call('ZCARD', KEYS[1])
for i = 6, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then count = count + 1 end
end
if count >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def slot_key(restaurant_id: int, slot: datetime) -> str:
    return f"orderpass:slot:{restaurant_id}:{int(slot.timestamp())}"


async def paid_for_slot(restaurant_id: int, slot: datetime) -> list[str]:
    return sorted((await _paid_by_slot(restaurant_id, [slot])).get(slot, set()))


async def _paid_by_slot(restaurant_id: int, slots: Sequence[datetime]
                        ) -> dict[datetime, set[str]]:
    """The paid orders that hold a place, by slot: one query for any number of slots."""
    rows = await db.fetch(
        "SELECT scheduled_for, public_id FROM paid_order WHERE restaurant = $1 "
        "AND scheduled_for = ANY($2::timestamptz[]) AND status <> ALL($3::text[])",
        restaurant_id, list(slots), CLOSED)
    found: dict[datetime, set[str]] = {}
    for row in rows:
        found.setdefault(row["scheduled_for"], set()).add(str(row["public_id"]))
    return found


async def reserve(redis: Redis, restaurant_id: int, slot: datetime, order_id: str, *,
                  hold_until: datetime, capacity: int) -> bool:
    """Hold a place in the slot for `order_id`; False when the slot is full."""
    paid = await paid_for_slot(restaurant_id, slot)
    now = datetime.now(UTC)
    ttl = max(60, int((slot - now).total_seconds()) + KEEP_S)
    args = [str(now.timestamp()), str(hold_until.timestamp()), order_id, str(capacity),
            str(ttl), *paid]
    taken = await redis.eval(_RESERVE, 1, slot_key(restaurant_id, slot), *args)  # type: ignore[misc]
    return bool(taken)


async def places_left(redis: Redis, restaurant_id: int, slot: datetime, capacity: int) -> int:
    """Places still free in one slot."""
    return (await places_left_in(redis, restaurant_id, [slot], capacity))[slot]


async def places_left_in(redis: Redis, restaurant_id: int, slots: Sequence[datetime],
                         capacity: int) -> dict[datetime, int]:
    """Places still free in each slot, counted as `reserve` counts them: the paid orders
    and the holds not yet run out, an order in both once. One query and one pipeline."""
    if not slots:
        return {}
    paid = await _paid_by_slot(restaurant_id, slots)
    now = datetime.now(UTC).timestamp()
    pipe = redis.pipeline(transaction=False)
    for slot in slots:  # `reserve` drops holds scored up to now: the rest still count
        pipe.zrangebyscore(slot_key(restaurant_id, slot), f"({now}", "+inf")
    pending = await pipe.execute()
    left = {}
    for slot, members in zip(slots, pending, strict=True):
        held = {member.decode() if isinstance(member, bytes) else str(member)
                for member in members}
        left[slot] = max(0, capacity - len(paid.get(slot, set()) | held))
    return left


async def offered(redis: Redis, restaurant_id: int, capacity: int, slots: list[datetime],
                  limit: int | None = None) -> list[datetime]:
    """The slots a diner can still book, the first `limit` of them (None: all): the full
    ones left out (`capacity` 0: no limit). What the menu API and the checkout offer;
    intake's `reserve` has the last word."""
    if not capacity or not slots:
        return slots[:limit]
    step = len(slots) if limit is None else max(4 * limit, 32)
    kept: list[datetime] = []
    for start in range(0, len(slots), step):  # a short list need not count thousands
        chunk = slots[start:start + step]
        left = await places_left_in(redis, restaurant_id, chunk, capacity)
        kept += [slot for slot in chunk if left[slot] > 0]
        if limit is not None and len(kept) >= limit:
            break
    return kept[:limit]
