"""Operational alerts, evaluated every minute by a worker cron (and by a web process when no
worker has for 2.5 minutes: `watch_forever`): webhook failures, email
failure rate, open discrepancies, outbox dead letters, stale worker heartbeats,
payment-link failures, refunds that keep failing and Redis near its maxmemory. A firing
alert is logged at error level and sent to OPS_ALERT_EMAIL (Resend, the customers'
gateway; SMTP relay as fallback) and/or OPS_ALERT_WEBHOOK_URL (JSON POST, timeout,
retries). A Redis key per alert keeps state: an alert is sent when it starts, repeated at
most once per cool-down while it lasts, and followed by a "resolved" notice."""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from redis.asyncio import Redis
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from app.infra.logging import get_logger
from app.ops import heartbeat, system
from app.ops.alert_state import STATE_KEY
from app.ops.heartbeat import FORGET_AFTER_S, HEARTBEAT_KEY, STALE_AFTER_S
from app.platform.metrics import ALERTS_FIRED
from app.settings import Settings, get_settings

log = get_logger("orderpass.alerts")
WEBHOOK_ATTEMPTS = 3
# When the alerts were last evaluated, by the worker's cron (every minute) or a web process.
# Past OVERDUE_S no worker is running the cron (none alive, or one hung): a web process
# evaluates them, one at a time (WEB_LOCK_KEY), so a worker outage is told while it lasts.
# Not under "orderpass:alerts:", which holds one key per firing alert.
EVALUATED_KEY = "orderpass:alert-evaluation:at"
WEB_LOCK_KEY = "orderpass:alert-evaluation:web"
OVERDUE_S = 150.0


@dataclass(frozen=True)
class Check:
    name: str
    firing: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    name: str
    state: str  # firing | repeat | resolved
    summary: str
    details: dict[str, Any]
    since: float

    def payload(self) -> dict[str, Any]:
        return {"source": "orderpass", "alert": self.name, "state": self.state,
                "summary": self.summary, "details": self.details,
                "since": datetime.fromtimestamp(self.since, UTC).isoformat(),
                "at": datetime.now(UTC).isoformat()}


# -- conditions ---------------------------------------------------------------------------

# Webhook failures that stopped this long ago are over: a Postgres or Redis blip answered 503s
# that Stripe then retried and delivered, and the alert stayed firing for the rest of the hour
# (an outside try). Refusals that go on (a wrong secret) keep it firing.
WEBHOOKS_QUIET_H = 10 / 60


async def _webhooks(redis: Redis, settings: Settings) -> Check:
    rate = await system.webhook_error_rate(redis)
    errors = rate["rejected"] + rate["failed"]
    recent = await system.webhook_error_rate(redis, hours=WEBHOOKS_QUIET_H)
    still = recent["rejected"] + recent["failed"]
    return Check("webhook_failures", errors >= settings.alert_webhook_failures_per_hour
                 and still > 0,
                 f"{errors} webhook requests rejected or failed in the last hour, {still} in "
                 f"the last 10 minutes (threshold {settings.alert_webhook_failures_per_hour} "
                 "an hour)", rate | {"last_10_minutes": still})


async def _email(redis: Redis, settings: Settings) -> Check:
    rate = await system.email_error_rate()
    firing = (rate["total"] >= settings.alert_email_min_volume
              and rate["rate"] >= settings.alert_email_failure_rate)
    return Check("email_failures", firing,
                 f"{rate['failed']} of {rate['total']} emails failed or bounced in the last "
                 f"hour ({rate['rate']:.0%}; threshold {settings.alert_email_failure_rate:.0%})",
                 rate)


async def _discrepancies(redis: Redis, settings: Settings) -> Check:
    count = await system.open_discrepancies()
    return Check("open_discrepancies", count > 0,
                 f"{count} open discrepancies with Stripe need a human (admin → discrepancies)",
                 {"open": count})


async def _outbox(redis: Redis, settings: Settings) -> Check:
    backlog = await system.outbox_backlog()
    return Check("outbox_dead_letters", backlog["dead"] > 0,
                 f"{backlog['dead']} outbox rows dead-lettered (kitchen publish or email "
                 f"never delivered); {backlog['pending']} pending", backlog)


async def _heartbeats(redis: Redis, settings: Settings) -> Check:
    now = time.time()
    rows = await redis.zrangebyscore(HEARTBEAT_KEY, now - 3600, "+inf", withscores=True)
    ages = {(name.decode() if isinstance(name, bytes) else str(name)): round(now - score, 1)
            for name, score in rows}
    stale = {name: age for name, age in ages.items()
             if age > STALE_AFTER_S or heartbeat.gone(name)}
    live = len(ages) - len(stale)
    # With workers alive, a dead one's heartbeat (a crash, most likely replaced) is worth one
    # notice, then resolves once FORGET_AFTER_S old; with none alive it fires, naming them all.
    if live:
        stale = {name: age for name, age in stale.items() if age <= FORGET_AFTER_S}
    return Check("worker_heartbeat_stale", bool(stale) or live == 0,
                 f"{live} live workers; stale: {', '.join(stale) or 'none'}",
                 {"live": live, "stale": stale})


async def _links(redis: Redis, settings: Settings) -> Check:
    failed = await system.link_failures_today()
    return Check("payment_link_failures", failed >= settings.alert_link_failures_today,
                 f"{failed} payment links could not be created today "
                 f"(threshold {settings.alert_link_failures_today})", {"failed_today": failed})


async def _refunds(redis: Redis, settings: Settings) -> Check:
    refunds = await system.refunds_failing()
    return Check("refunds_failing", refunds["overdue"] > 0,
                 f"{refunds['overdue']} rejected orders still not refunded 30 minutes on "
                 f"(refund or void keeps failing; {refunds['failing']} failing in all): "
                 "see admin → discrepancies and the worker log", refunds)


async def _redis_memory(redis: Redis, settings: Settings) -> Check:
    # Full under noeviction, Redis refuses writes: intake 503s and the worker stalls.
    memory = await system.redis_memory(redis)
    return Check("redis_memory_high", memory.get("ok") is False,
                 f"Redis uses {memory.get('used_pct', '?')}% of its maxmemory "
                 f"({memory['used_mb']} of {memory['max_mb']} MB, threshold "
                 f"{system.REDIS_MEMORY_ALARM_RATIO:.0%}): raise maxmemory or find what grew",
                 memory)


CHECKS: list[Callable[[Redis, Settings], Awaitable[Check]]] = [
    _webhooks, _email, _discrepancies, _outbox, _heartbeats, _links, _refunds, _redis_memory]


# -- delivery -----------------------------------------------------------------------------

async def post_webhook(url: str, notice: Notice, timeout_s: float) -> None:
    """POST the alert as JSON; retried on network errors and 5xx, then raised."""
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        async for attempt in AsyncRetrying(
                stop=stop_after_attempt(WEBHOOK_ATTEMPTS),
                wait=wait_exponential(multiplier=0.5, max=4),
                retry=retry_if_exception_type(httpx.HTTPError), reraise=True):
            with attempt:
                response = await client.post(url, json=notice.payload())
                if response.status_code >= 500:
                    response.raise_for_status()
                log.info("alert webhook sent", alert=notice.name, state=notice.state,
                         status=response.status_code,
                         attempt=attempt.retry_state.attempt_number)


async def send_email(address: str, notice: Notice, settings: Settings) -> None:
    """Through Resend (the customers' gateway); the SMTP relay if Resend fails."""
    from app.notifications import gateway
    from app.notifications.compose import RenderedEmail
    from app.notifications.smtp import build_message, send_smtp

    subject = f"[orderpass] {notice.state.upper()}: {notice.name}"
    text = f"{notice.summary}\n\n{json.dumps(notice.details, indent=2, default=str)}\n"
    rendered = RenderedEmail(subject=subject, text=text,
                             html=f"<pre>{html.escape(text)}</pre>")
    key = f"alert/{notice.name}/{notice.state}/{int(notice.since)}/{int(time.time() // 60)}"
    try:
        await gateway.send_one({"from": settings.email_from, "to": [address],
                                "subject": subject, "text": text, "html": rendered.html},
                               key, settings)
        log.info("alert email sent", alert=notice.name, state=notice.state, transport="resend")
        return
    except Exception as error:
        if not settings.smtp_relay_url:
            raise
        log.warning("alert email via Resend failed; trying SMTP", alert=notice.name,
                    error=str(error)[:200])
    message = build_message(rendered, sender=settings.email_from, recipient=address,
                            idempotency_key=key)
    await send_smtp(settings.smtp_relay_url, message, settings.smtp_timeout_seconds)
    log.info("alert email sent", alert=notice.name, state=notice.state, transport="smtp")


async def notify(notice: Notice, settings: Settings) -> None:
    """Log at error level (warning when resolved) and send to every configured target;
    delivery failures are logged, never raised (the next evaluation carries on)."""
    level = 30 if notice.state == "resolved" else 40
    log.log(level, "ops alert", alert=notice.name, state=notice.state, summary=notice.summary)
    ALERTS_FIRED.labels(alert=notice.name, state=notice.state).inc()
    if settings.ops_alert_webhook_url:
        try:
            await post_webhook(settings.ops_alert_webhook_url, notice,
                               settings.ops_alert_webhook_timeout_seconds)
        except Exception as error:
            log.error("alert webhook failed", alert=notice.name, error=str(error)[:300])
    if settings.ops_alert_email:
        try:
            await send_email(settings.ops_alert_email, notice, settings)
        except Exception as error:
            log.error("alert email failed", alert=notice.name, error=str(error)[:300])


# -- evaluation ---------------------------------------------------------------------------

async def _transition(redis: Redis, check: Check, cooldown_s: float) -> Notice | None:
    key = STATE_KEY.format(name=check.name)
    now = time.time()
    if not check.firing:
        raw = await redis.getdel(key)  # exactly one evaluator sees the clearing
        if raw is None:
            return None
        state = json.loads(raw)
        return Notice(check.name, "resolved", f"resolved: {check.summary}", check.details,
                      float(state["since"]))
    state = {"since": now, "notified_at": now, "summary": check.summary}
    if await redis.set(key, json.dumps(state), nx=True):
        return Notice(check.name, "firing", check.summary, check.details, now)
    raw = await redis.get(key)
    previous = json.loads(raw) if raw else state
    if now - float(previous["notified_at"]) < cooldown_s:
        return None
    previous.update(notified_at=now, summary=check.summary)
    await redis.set(key, json.dumps(previous))
    return Notice(check.name, "repeat", check.summary, check.details,
                  float(previous["since"]))


async def evaluate_alerts(redis: Redis, settings: Settings | None = None) -> list[Notice]:
    """Run every check; send what started, what still fires after the cool-down and what
    cleared. A check that cannot be read is skipped (neither fires nor resolves)."""
    settings = settings or get_settings()
    cooldown_s = settings.ops_alert_cooldown_minutes * 60
    notices = []
    for check_of in CHECKS:
        try:
            check = await system.timed(check_of(redis, settings), 5.0)
        except Exception as error:
            log.warning("alert check failed", check=check_of.__name__, error=repr(error)[:300])
            continue
        notice = await _transition(redis, check, cooldown_s)
        if notice is not None:
            await notify(notice, settings)
            notices.append(notice)
    await redis.set(EVALUATED_KEY, str(time.time()))
    return notices


async def evaluate_if_overdue(redis: Redis, settings: Settings | None = None) -> list[Notice]:
    """A web process's look: evaluate the alerts when no one has for OVERDUE_S."""
    raw = await redis.get(EVALUATED_KEY)
    waited = time.time() - (float(raw) if raw else 0.0)
    if waited < OVERDUE_S or not await redis.set(WEB_LOCK_KEY, "1", nx=True,
                                                  ex=int(OVERDUE_S / 3)):
        return []
    log.warning("alerts evaluated by a web process: no worker has evaluated them lately",
                waited_s=round(waited) if raw else None)
    return await evaluate_alerts(redis, settings)


async def watch_forever(redis: Redis, period_s: float) -> None:
    """The web's watch over the worker's alert cron (a lifespan task)."""
    while True:
        await asyncio.sleep(period_s)
        try:
            await evaluate_if_overdue(redis)
        except Exception as error:  # Redis away: the next look tries again
            log.warning("alert watch failed", error=repr(error)[:300])
