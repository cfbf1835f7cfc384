"""Operational readings shared by the admin system page (`system_snapshot`), `/metrics`
(scrape-time gauges) and the alert evaluator: health, queue depth, outbox backlog, webhook
and email error rates, payment→kitchen latency. Every reading has a short timeout and
reports a failure instead of raising, so a page or a scrape never dies with a dependency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from piccolo.querystring import QueryString
from redis.asyncio import Redis

from app.infra.logging import get_logger
from app.ops.alert_state import firing_alerts
from app.ops.health import readiness, worker_heartbeat
from app.piccolo_conf import DB
from app.settings import get_settings

log = get_logger("orderpass.ops.system")
T = TypeVar("T")
READ_TIMEOUT_S = 2.0
ARQ_QUEUE = "arq:queue"  # arq's default queue: a sorted set of job ids by run time (ms)
QUEUE_DEPTH_OK = 1000  # due jobs: more is a backlog the worker is not keeping up with
QUEUE_WAIT_OK_S = 120.0  # a due job waiting longer: the worker is down or stuck
EMAIL_STATUSES = ("queued", "sent", "delivered", "delayed", "bounced", "complained", "failed",
                  "skipped")


async def timed(coro: Awaitable[T], limit_s: float = READ_TIMEOUT_S) -> T:
    return await asyncio.wait_for(coro, limit_s)


async def _one(sql: str, *args: Any) -> dict[str, Any]:
    rows = await DB.run_querystring(QueryString(sql, *args))
    return dict(rows[0]) if rows else {}


async def queue_depth(redis: Redis) -> dict[str, Any]:
    """The arq queue as on-call reads it: `depth`, jobs due now (waiting or running);
    `later`, jobs deferred to a time to come (each unpaid link's expiry, a booked order's
    reminders), which are not a backlog however many there are; `oldest_due_s`, how long the
    oldest due job has waited (0 when none): a worker behind or down shows here first."""
    now_ms = time.time() * 1000
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zcount(ARQ_QUEUE, "-inf", now_ms)
        pipe.zcard(ARQ_QUEUE)
        pipe.zrange(ARQ_QUEUE, 0, 0, withscores=True)
        due, every, oldest = await pipe.execute()
    waited = (now_ms - oldest[0][1]) / 1000 if due and oldest else 0.0
    return {"depth": int(due), "later": int(every) - int(due),
            "oldest_due_s": round(max(0.0, waited), 1)}


async def outbox_backlog() -> dict[str, int]:
    row = await _one(
        "SELECT count(*) FILTER (WHERE status = 'pending') AS pending, "
        "count(*) FILTER (WHERE status = 'pending' AND next_attempt_at < now() "
        "- interval '5 minutes') AS overdue, "
        "count(*) FILTER (WHERE status = 'dead') AS dead FROM outbox WHERE status <> 'done'")
    return {key: int(value or 0) for key, value in row.items()}


async def email_status_counts(hours: float = 24) -> dict[str, int]:
    """Emails created in the last `hours`, by status (every status present, zeros too)."""
    rows = await DB.run_querystring(QueryString(
        "SELECT status, count(*) AS n FROM email_message "
        "WHERE created_at > now() - make_interval(secs => {}) GROUP BY status", hours * 3600))
    counts = dict.fromkeys(EMAIL_STATUSES, 0)
    counts.update({row["status"]: int(row["n"]) for row in rows})
    return counts


async def email_error_rate(hours: float = 1) -> dict[str, Any]:
    """Failed/bounced/complained share of emails updated in the last `hours` (emails
    skipped on purpose are neither failures nor part of the volume)."""
    row = await _one(
        "SELECT count(*) AS total, count(*) FILTER (WHERE status IN "
        "('failed', 'bounced', 'complained')) AS failed FROM email_message "
        "WHERE updated_at > now() - make_interval(secs => {}) AND status <> 'skipped'",
        hours * 3600)
    total, failed = int(row.get("total") or 0), int(row.get("failed") or 0)
    return {"total": total, "failed": failed, "rate": round(failed / total, 4) if total else 0.0}


async def webhook_error_rate(redis: Redis | None = None, hours: float = 1) -> dict[str, Any]:
    """Webhook requests in the last `hours` that were rejected (4xx) or failed (5xx): the
    HTTP answers counted by app/ops/request_metrics.py in Redis (every web process), plus
    deliveries recorded in `webhook_delivery` with a bad signature or an error."""
    from app.notifications.webhooks import RACE_ONLY

    row = await _one(  # only a constant is interpolated
        "SELECT count(*) AS total, count(*) FILTER (WHERE NOT signature_valid) AS rejected, "  # noqa: S608
        "count(*) FILTER (WHERE signature_valid AND error <> '' AND NOT processed "
        f"AND NOT {RACE_ONLY}) AS failed "
        "FROM webhook_delivery d WHERE received_at > now() - make_interval(secs => {})",
        hours * 3600)
    from app.ops.request_metrics import webhook_http_counts

    http = await webhook_http_counts(redis, hours) if redis is not None else {}
    total = max(int(row.get("total") or 0), http.get("total", 0))
    rejected = max(int(row.get("rejected") or 0), http.get("rejected", 0))
    failed = max(int(row.get("failed") or 0), http.get("failed", 0))
    return {"total": total, "rejected": rejected, "failed": failed,
            "rate": round((rejected + failed) / total, 4) if total else 0.0}


async def refunds_failing(after_minutes: float = 30) -> dict[str, int]:
    """Rejected orders whose refund (or void) has failed and is still not done
    `after_minutes` after the rejection: the retries (auto-reject cron) keep failing."""
    from app.orders.lifecycle import REFUND_FAILED

    row = await _one(
        "SELECT count(*) AS failing, count(*) FILTER (WHERE rejected_at < now() "
        "- make_interval(secs => {})) AS overdue FROM paid_order "
        "WHERE status = 'rejected' AND review_reason LIKE {}",
        after_minutes * 60, REFUND_FAILED + "%")
    return {key: int(value or 0) for key, value in row.items()}


REDIS_MEMORY_ALARM_RATIO = 0.8


async def redis_memory(redis: Redis) -> dict[str, Any]:
    """Redis's memory against its `maxmemory`. With `noeviction` (temp orders and jobs must
    not be evicted) a full Redis refuses writes: intake answers 503, the worker stalls.
    `ok` is None (no verdict) when no maxmemory is set (dev's embedded Valkey)."""
    info = await redis.info("memory")
    used, limit = int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))
    facts: dict[str, Any] = {"used_mb": round(used / 2**20, 1),
                             "max_mb": round(limit / 2**20, 1) if limit else "unlimited",
                             "policy": info.get("maxmemory_policy", "")}
    if limit:
        facts["ok"] = used < REDIS_MEMORY_ALARM_RATIO * limit
        facts["used_pct"] = round(100 * used / limit, 1)
    return facts


async def link_failures_today() -> int:
    """Payment-link creation failures today (funnel_daily has day granularity)."""
    row = await _one("SELECT coalesce(sum(link_failed), 0) AS n FROM funnel_daily "
                     "WHERE day = (now() AT TIME ZONE 'UTC')::date")
    return int(row.get("n") or 0)


async def open_discrepancies() -> int:
    row = await _one("SELECT count(*) AS n FROM discrepancy WHERE status = 'open'")
    return int(row.get("n") or 0)


async def payment_to_kitchen_latency(hours: float = 1) -> dict[str, Any]:
    """p50/p95/p99 seconds from `paid_at` to `kitchen_shown_at` over the last `hours`."""
    row = await _one(
        "SELECT count(*) AS orders, "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM "
        "kitchen_shown_at - paid_at)) AS p50, "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM "
        "kitchen_shown_at - paid_at)) AS p95, "
        "percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM "
        "kitchen_shown_at - paid_at)) AS p99, "
        "count(*) FILTER (WHERE kitchen_shown_at IS NULL) AS not_shown "
        "FROM paid_order WHERE paid_at > now() - make_interval(secs => {})", hours * 3600)
    result: dict[str, Any] = {"orders": int(row.get("orders") or 0),
                              "not_shown": int(row.get("not_shown") or 0)}
    for key in ("p50", "p95", "p99"):
        value = row.get(key)
        result[f"{key}_s"] = round(float(value), 3) if value is not None else None
    return result


async def _reading(name: str, coro: Awaitable[Any], ok: Any = None) -> dict[str, Any]:
    """One component: its facts, with `ok` decided by the predicate if one is given."""
    try:
        value = await timed(coro)
    except Exception as error:  # a snapshot reports, never raises
        log.warning("system reading failed", reading=name, error=str(error)[:200])
        return {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    facts = value if isinstance(value, dict) else {"value": value}
    return {"ok": bool(ok(value)), **facts} if ok is not None else dict(facts)


async def _providers() -> dict[str, Any]:
    settings = get_settings()
    stripe_target = settings.stripe_api_base or "api.stripe.com"
    resend_target = settings.resend_api_url or "api.resend.com"
    return {"stripe": stripe_target, "resend": resend_target,
            "mode": "sandbox" if settings.stripe_api_base else "live providers",
            "stripe_key": "test" if "_test_" in settings.stripe_secret_key else "live"}


async def system_snapshot(redis: Redis) -> dict[str, Any]:
    """Everything the on-call page shows, as {component: {"ok": bool?, fact: value…}}."""
    settings = get_settings()
    ready = await readiness(redis)
    readings = await asyncio.gather(
        _reading("queue", queue_depth(redis),
                 lambda queue: queue["depth"] < QUEUE_DEPTH_OK
                 and queue["oldest_due_s"] < QUEUE_WAIT_OK_S),
        _reading("outbox", outbox_backlog(),
                 lambda backlog: backlog["dead"] == 0 and backlog["overdue"] == 0),
        _reading("webhooks_1h", webhook_error_rate(redis),
                 lambda w: w["rejected"] + w["failed"] < settings.alert_webhook_failures_per_hour),
        _reading("email_1h", email_error_rate(),
                 lambda e: e["total"] < settings.alert_email_min_volume
                 or e["rate"] < settings.alert_email_failure_rate),
        _reading("payment_links_today", link_failures_today(),
                 lambda failed: failed < settings.alert_link_failures_today),
        _reading("discrepancies", open_discrepancies(), lambda n: n == 0),
        _reading("refunds", refunds_failing(), lambda refunds: refunds["overdue"] == 0),
        _reading("redis_memory", redis_memory(redis)),
        _reading("payment_to_kitchen_1h", payment_to_kitchen_latency()),
        _reading("providers", _providers()),
    )
    names = ("queue", "outbox", "webhooks_1h", "email_1h", "payment_links_today",
             "discrepancies", "refunds", "redis_memory", "payment_to_kitchen_1h", "providers")
    snapshot: dict[str, Any] = dict(ready.checks)
    snapshot["worker"] = await worker_heartbeat(redis)
    snapshot.update(zip(names, readings, strict=True))
    if "value" in snapshot["discrepancies"]:
        snapshot["discrepancies"]["open"] = snapshot["discrepancies"].pop("value")
    try:
        firing = await timed(firing_alerts(redis))
        snapshot["alerts"] = {"ok": not firing, "firing": sorted(firing)}
    except Exception as error:
        snapshot["alerts"] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    if "value" in snapshot["payment_links_today"]:
        snapshot["payment_links_today"]["failed"] = snapshot["payment_links_today"].pop("value")
    return snapshot
