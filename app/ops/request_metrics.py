"""ASGI middleware: request latency histogram per route template and status class, and a
Redis count of webhook answers per minute (total / rejected 4xx / failed 5xx) that every
process (the alert evaluator in the worker included) can read, whatever process answered."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.asyncio import Redis

from app.infra.logging import get_logger
from app.platform.metrics import REQUEST_LATENCY

log = get_logger("orderpass.request_metrics")
WEBHOOK_KEY = "orderpass:ops:webhooks:{provider}:{minute}"  # hash: total, rejected, failed
WEBHOOK_KEY_TTL_S = 2 * 3600
REDIS_TIMEOUT_S = 0.5
SKIP = ("/metrics", "/static")


WEBHOOK_PATHS = frozenset({"/webhooks/stripe", "/webhooks/resend"})


def _route(scope: Scope) -> str:
    """The route template (`/orders/{ref:str}`), never the raw path: bounded label values.
    A webhook's own path keeps its name when the router refused the method (a probe's 405,
    which the router answers before naming the route)."""
    template = scope.get("path_template")
    if template:
        return str(template)
    path = scope.get("path", "").rstrip("/")
    return path if path in WEBHOOK_PATHS else "unmatched"


def _redis(scope: Scope) -> Redis | None:
    app = scope.get("app")
    state = getattr(app, "state", None)
    return getattr(state, "redis", None) if state is not None else None


# Webhook answers are counted in this process and written to Redis at most once every
# FLUSH_S, all of them in one pipelined round trip. A Redis command per answer (as a Lua
# script: a three-command pipeline cost more) was one more round trip per paid order and two
# per email (py-spy over `orderpass bench webhook`: 2.7 % of the web's samples). A count
# reaches Redis within FLUSH_S (the alert evaluator reads minutes); a process that dies
# loses at most that second's counts; one read in this process sees its own at once.
FLUSH_S = 1.0


def _field(status: int) -> str:
    # 409 is our "not yet, send it again" (a Resend event racing our own "sent" update,
    # app/notifications/webhooks.py): a retry asked for, not a delivery refused. 405 is
    # a GET or HEAD on a webhook's path: a probe, never a provider (both only POST), and
    # not worth the on-call page's "rejected" or the webhook_failures alert.
    return ("failed" if status >= 500 else "retry" if status == 409
            else "probe" if status == 405 else "rejected" if status >= 400 else "ok")


class _WebhookCounts:
    def __init__(self) -> None:
        self.pending: Counter[tuple[str, str]] = Counter()  # (key, field) → count
        self.redis: Redis | None = None
        self.timer: tuple[asyncio.AbstractEventLoop, asyncio.TimerHandle] | None = None
        self.flushing: set[asyncio.Task[None]] = set()

    def add(self, redis: Redis, provider: str, status: int) -> None:
        key = WEBHOOK_KEY.format(provider=provider, minute=int(time.time() // 60))
        field = _field(status)
        if field != "probe":  # not a delivery: out of the rate's denominator too
            self.pending[(key, "total")] += 1
        self.pending[(key, field)] += 1
        self.redis = redis
        loop = asyncio.get_running_loop()
        if self.timer is None or self.timer[0] is not loop or self.timer[1].cancelled():
            self.timer = (loop, loop.call_later(FLUSH_S, self._flush_soon))

    def _flush_soon(self) -> None:
        task = asyncio.get_running_loop().create_task(self.flush())
        self.flushing.add(task)
        task.add_done_callback(self.flushing.discard)

    async def flush(self) -> None:
        """Write what is pending now (a failure logs and drops it: metrics never break an
        answer, nor pile up while Redis is away)."""
        if self.timer is not None:
            self.timer[1].cancel()
            self.timer = None
        pending, self.pending = self.pending, Counter()
        if not pending or self.redis is None:
            return
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_S):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for (key, field), count in pending.items():
                        pipe.hincrby(key, field, count)
                    for key in {key for key, _name in pending}:
                        pipe.expire(key, WEBHOOK_KEY_TTL_S)
                    await pipe.execute()
        except Exception as error:
            log.warning("webhook counts not recorded", error=str(error)[:200],
                        answers=sum(count for (_key, field), count in pending.items()
                                    if field == "total"))


_counts = _WebhookCounts()


async def count_webhook(redis: Redis, provider: str, status: int) -> None:
    """Count one webhook answer and write it (and whatever else is pending) now."""
    _counts.add(redis, provider, status)
    await _counts.flush()


async def flush_webhook_counts() -> None:
    """Write this process's pending webhook counts now (shutdown)."""
    await _counts.flush()


async def webhook_http_counts(redis: Redis, hours: float = 1,
                              providers: tuple[str, ...] = ("stripe", "resend")
                              ) -> dict[str, int]:
    """Webhook answers over the last `hours`, summed over providers."""
    await _counts.flush()  # this process's own, not yet written
    now_minute = int(time.time() // 60)
    keys = [WEBHOOK_KEY.format(provider=provider, minute=minute) for provider in providers
            for minute in range(now_minute - int(hours * 60) + 1, now_minute + 1)]
    totals = {"total": 0, "rejected": 0, "failed": 0}
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hgetall(key)
        rows = await pipe.execute()
    for row in rows:
        for field in totals:
            value = row.get(field.encode()) if row else None
            totals[field] += int(value or 0)
    return totals


def request_metrics_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(SKIP):
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, send_with_status)
        finally:
            REQUEST_LATENCY.labels(method=scope.get("method", ""), route=_route(scope),
                                   status=f"{status // 100}xx").observe(
                time.perf_counter() - started)
            if path.startswith("/webhooks/"):
                redis = _redis(scope)
                if redis is not None:
                    _counts.add(redis, path.split("/")[2] or "unknown", status)

    return middleware

