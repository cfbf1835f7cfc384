"""How many orders one slot takes: the restaurant's `slot_capacity`, counted over the paid
orders for that slot (not rejected, refunded or voided) and the pending ones.

A pending order holds its place from submission until it must be paid (`TempOrder.pay_by`:
the slot's start minus prep, which is also when its payment link is expired); a sorted set
per restaurant and slot in Redis holds them, scored by that moment. An order that is paid
counts once (a paid order still in the set is not counted twice); one abandoned or expired
frees its place when its hold runs out. Check and hold are one Lua call, so two diners
cannot take the last place together."""

from __future__ import annotations

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
    rows = await db.fetch(
        "SELECT public_id FROM paid_order WHERE restaurant = $1 AND scheduled_for = $2 "
        "AND status <> ALL($3::text[])", restaurant_id, slot, CLOSED)
    return [str(row["public_id"]) for row in rows]


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
    """Places still free (for tests and the checkout's slot list)."""
    paid = set(await paid_for_slot(restaurant_id, slot))
    pending = set(await redis.zrangebyscore(slot_key(restaurant_id, slot),
                                            datetime.now(UTC).timestamp(), "+inf"))
    held = {member.decode() if isinstance(member, bytes) else str(member) for member in pending}
    return max(0, capacity - len(paid | held))
