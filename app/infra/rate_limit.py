"""Litestar's fixed-window rate limit, kept as one counter per window and checked and counted
in one atomic Redis call.

The stock middleware stored every request's timestamp in the window and read, decoded,
re-encoded and wrote that whole list on each request (O(requests in the window) of CPU and
Redis traffic per request), in two round trips that were atomic only within one process (an
in-process lock). Here a Lua script reads the window's count, refuses when the limit is
reached, else adds one (the window's expiry is set by its first request): one round trip,
atomic across every web process. Same windows, limits, `RateLimit-*` headers and 429s
(orders, logins, password resets); a refused request is not counted, as before. A window
stored in an older form (JSON) counts from zero once."""

from __future__ import annotations

from time import time
from typing import Any, cast

from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import (
    DURATION_VALUES,
    CacheObject,
    RateLimitMiddleware,
)
from litestar.serialization import decode_json, encode_json
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.types import Receive, Scope, Send
from redis.commands.core import AsyncScript

# KEYS[1] the window's counter. ARGV: the limit, the window in ms.
# Returns {count including this request (or the count that refused it), ms left, counted 0/1}.
_HIT = """
local raw = redis.call('GET', KEYS[1])
local count = tonumber(raw)
if raw and not count then
    redis.call('DEL', KEYS[1])  -- an older form of the window: start a new one
    count = 0
end
count = count or 0
local left = redis.call('PTTL', KEYS[1])
if count >= tonumber(ARGV[1]) then
    return {count, left, 0}
end
count = redis.call('INCR', KEYS[1])
if count == 1 or left < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    left = tonumber(ARGV[2])
end
return {count, left, 1}
"""


class CountingRateLimitMiddleware(RateLimitMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        store = self.config.get_store_from_app(app)
        if not isinstance(store, RedisStore):  # e.g. a memory store: the stock two steps
            await super().__call__(scope, receive, send)
            return
        request = app.request_class(scope)
        if await self.should_check_request(request=request):
            # The store's own key (its namespace) and client: the same key its get/set use.
            key = store._make_key(self.cache_key_from_request(request))
            window_ms = DURATION_VALUES[self.unit] * 1000
            global _script
            if _script is None:
                _script = store._redis.register_script(_HIT)
            count, left_ms, counted = await _script(
                keys=[key], args=[self.max_requests, window_ms],
                client=store._redis)
            # Only the history's length is read (limit check, remaining-requests header).
            cache_object = CacheObject(history=cast(list[int], range(int(count))),
                                       reset=int(time()) + max(0, -(-int(left_ms) // 1000)))
            if not counted:
                # Retry-After as well: HTTP's own word for when to come back, which clients
                # and proxies read (RateLimit-Reset is a draft header few of them know).
                headers = (self.create_response_headers(cache_object=cache_object)
                           if self.config.set_rate_limit_headers else {})
                headers["Retry-After"] = str(max(1, cache_object.reset - int(time())))
                raise TooManyRequestsException(headers=headers)
            if self.config.set_rate_limit_headers:
                send = self.create_send_wrapper(send=send, cache_object=cache_object)
        await self.app(scope, receive, send)

    # The stock two steps, for stores other than Redis (a count, not a list of timestamps).

    async def retrieve_cached_history(self, key: str, store: Store) -> CacheObject:
        duration = DURATION_VALUES[self.unit]
        now = int(time())
        cached = await store.get(key)
        if cached:
            value: dict[str, Any] = decode_json(value=cached)
            count, reset = value.get("count"), value.get("reset")
            if isinstance(count, int) and isinstance(reset, int) and reset > now:
                return CacheObject(history=cast(list[int], range(count)), reset=reset)
        return CacheObject(history=[], reset=now + duration)

    async def set_cached_history(self, key: str, cache_object: CacheObject, store: Store
                                 ) -> None:
        count = len(cache_object.history) + 1
        cache_object.history = cast(list[int], range(count))  # the headers count this one
        await store.set(key, encode_json({"count": count, "reset": cache_object.reset}),
                        expires_in=DURATION_VALUES[self.unit])


_script: AsyncScript | None = None
