"""ASGI middleware: request latency histogram per route template and status class, and a
Redis count of webhook answers per minute (total / rejected 4xx / failed 5xx) that every
process (the alert evaluator in the worker included) can read, whatever process answered."""

from __future__ import annotations

import asyncio
import time

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from app.infra.logging import get_logger
from app.platform.metrics import REQUEST_LATENCY

log = get_logger("orderpass.request_metrics")
WEBHOOK_KEY = "orderpass:ops:webhooks:{provider}:{minute}"  # hash: total, rejected, failed
WEBHOOK_KEY_TTL_S = 2 * 3600
REDIS_TIMEOUT_S = 0.5
SKIP = ("/metrics", "/static")


def _route(scope: Scope) -> str:
    """The route template (`/orders/{ref:str}`), never the raw path: bounded label values."""
    template = scope.get("path_template")
    return str(template) if template else "unmatched"


def _redis(scope: Scope) -> Redis | None:
    app = scope.get("app")
    state = getattr(app, "state", None)
    return getattr(state, "redis", None) if state is not None else None


# One command per webhook answer (HINCRBY total, HINCRBY its outcome, EXPIRE): as a
# three-command pipeline it cost the web as much CPU as handling a Resend webhook did
# (py-spy over `orderpass bench email`: 17 % of samples against the handler's 19 %).
_COUNT = """
redis.call('HINCRBY', KEYS[1], 'total', 1)
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""
_count_script: AsyncScript | None = None


async def count_webhook(redis: Redis, provider: str, status: int) -> None:
    global _count_script
    key = WEBHOOK_KEY.format(provider=provider, minute=int(time.time() // 60))
    # 409 is our "not yet, send it again" (a Resend event racing our own "sent" update,
    # app/notifications/webhooks.py): a retry asked for, not a delivery refused.
    field = ("failed" if status >= 500 else "retry" if status == 409
             else "rejected" if status >= 400 else "ok")
    try:
        if _count_script is None:
            _count_script = redis.register_script(_COUNT)
        # a timeout around the await, not wait_for: that ran it as a task of its own
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            await _count_script(keys=[key], args=[field, WEBHOOK_KEY_TTL_S], client=redis)
    except Exception as error:  # metrics never break a webhook
        log.warning("webhook count not recorded", provider=provider, error=str(error)[:200])


async def webhook_http_counts(redis: Redis, hours: float = 1,
                              providers: tuple[str, ...] = ("stripe", "resend")
                              ) -> dict[str, int]:
    """Webhook answers over the last `hours`, summed over providers."""
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
                    provider = path.split("/")[2] or "unknown"
                    await count_webhook(redis, provider, status)  # response already sent

    return middleware

