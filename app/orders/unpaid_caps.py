"""Caps on open unpaid orders per client address, and on payment-link emails per email
address.

Every order holds a temp order in Redis until its link expires, whether or not anyone ever
pays it, and its payment link is emailed to the address typed in: without caps one client
could fill Redis's memory, or a stranger's mailbox (our domain's reputation with it). The
per-client cap refuses the order (429). The per-email cap refuses nothing, so whoever typed
an address in cannot lock its owner out of ordering: past it the order is taken and its
link answered to the submitter as usual, but it is not emailed (`count_unpaid` says so).
An order counts from submission until its link expires, unless it is paid or closed sooner
(checked only when a cap is reached, so the common case is one Redis round trip); an order
that was not emailed does not count against its address.

Redis: a sorted set per address, `orderpass:unpaid:{ip|email}:<address>`, member the temp
id, score the moment the order stops counting (its link's expiry).
"""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from app.orders.models import OrderStatus
from app.orders.temp_store import LINK_EMAIL_TAIL, NO_LINK_EMAIL_TAIL, TempOrderStore

KEY = "orderpass:unpaid:{kind}:{value}"

# KEYS: per-ip set, per-email set[, a key to store]. ARGV: now, until, temp id, ip cap, email
# cap (0 = none)[, the value to store (a temp order), its TTL in seconds, the tail it ends
# with, the tail that says "not emailed"]. Returns 1 (ip cap reached: a refused order writes
# nothing), else the order is counted (and the value stored) and it returns 0 (counted for
# its email address too) or 2 (email cap reached: not counted there, the order is not to be
# emailed, and the value is stored with its tail swapped to say so). A repeat for the same
# temp id is not refused by its own earlier count.
_RESERVE = """
local now, caps = tonumber(ARGV[1]), {tonumber(ARGV[4]), tonumber(ARGV[5])}
if KEYS[3] and string.sub(ARGV[6], -#ARGV[8]) ~= ARGV[8] then
    return redis.error_reply('the value to store does not end with its link_email tail')
end
for i = 1, 2 do
    redis.call('zremrangebyscore', KEYS[i], '-inf', now)
end
if caps[1] > 0 and not redis.call('zscore', KEYS[1], ARGV[3])
        and redis.call('zcard', KEYS[1]) >= caps[1] then
    return 1
end
local quiet = caps[2] > 0 and not redis.call('zscore', KEYS[2], ARGV[3])
    and redis.call('zcard', KEYS[2]) >= caps[2]
local counted = quiet and 1 or 2
for i = 1, counted do
    redis.call('zadd', KEYS[i], ARGV[2], ARGV[3])
    redis.call('expireat', KEYS[i], math.ceil(tonumber(ARGV[2])) + 60)
end
if KEYS[3] then
    local value = ARGV[6]
    if quiet then
        value = string.sub(value, 1, -#ARGV[8] - 1) .. ARGV[9]
    end
    redis.call('set', KEYS[3], value, 'EX', ARGV[7])
end
if quiet then
    return 2
end
return 0
"""


class TooManyUnpaid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


async def _forget_settled(redis: Redis, store: TempOrderStore, key: str) -> None:
    """Drop the orders of `key` that were paid, closed or have gone."""
    members = [m.decode() if isinstance(m, bytes) else str(m)
               for m in await redis.zrange(key, 0, -1)]
    settled = []
    for temp_id in members:
        order = await store.get(temp_id)
        if order is None or order.status != OrderStatus.AWAITING_PAYMENT:
            settled.append(temp_id)
    if settled:
        await redis.zrem(key, *settled)


def _keys(client: str, email: str) -> list[str]:
    return [KEY.format(kind="ip", value=client), KEY.format(kind="email", value=email.lower())]


async def count_unpaid(redis: Redis, store: TempOrderStore, temp_id: str, *, client: str,
                       email: str, until: float, per_client: int, per_email: int,
                       write: tuple[str, bytes, int] | None = None) -> bool:
    """Count the new order `temp_id` against the caps, or raise TooManyUnpaid (per client).
    Returns whether its payment link may be emailed: False when `per_email` open orders of
    that address were emailed already (the order is taken all the same).

    `write` (key, value, TTL in seconds): set that key too, in the same call, only if the
    order is counted (intake stores the new order with its count: one round trip). The value
    is the temp order as stored (`TempOrderStore.stored_form`); when False is returned it is
    stored saying so (`link_email` false), so whoever reads it later honours the cap."""
    keys = _keys(client, email)
    args: list[Any] = [time.time(), until, temp_id, per_client, per_email]
    if write is not None:
        keys.append(write[0])
        args += [write[1], write[2], LINK_EMAIL_TAIL, NO_LINK_EMAIL_TAIL]
    global _script
    if _script is None:
        _script = redis.register_script(_RESERVE)
    refused = int(await _script(keys=keys, args=args, client=redis))
    forgotten: set[int] = set()
    while refused and refused not in forgotten:  # each cap's settled orders dropped once
        forgotten.add(refused)
        await _forget_settled(redis, store, keys[refused - 1])
        refused = int(await _script(keys=keys, args=args, client=redis))
    if refused == 1:
        # A guest Wi-Fi is one address for everyone on it: the diner told may have none open.
        raise TooManyUnpaid("client", f"{per_client} unpaid orders are already open from "
                            "your network (a shared Wi-Fi counts as one): try again in a few "
                            "minutes, or order over mobile data")
    return refused != 2


async def uncount(redis: Redis, temp_id: str, *, client: str, email: str,
                  delete: str | None = None) -> None:
    """Undo `count_unpaid` for an order refused after it was counted (a full slot): its
    entries, and the key stored with it (`delete`), in one round trip."""
    async with redis.pipeline(transaction=True) as pipe:
        for key in _keys(client, email):
            pipe.zrem(key, temp_id)
        if delete is not None:
            pipe.delete(delete)
        await pipe.execute()


_script: AsyncScript | None = None
