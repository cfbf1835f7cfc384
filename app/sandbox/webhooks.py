"""Webhook delivery: a persistent queue, Stripe and Svix (Resend) signing, retries, faults.

Events are queued in SQLite; one worker per service delivers them in order with httpx,
retrying non-2xx answers and timeouts on `config.webhook_retry_schedule_s`. Faults set through
the control API drop, duplicate, reorder or delay the next deliveries.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from svix.webhooks import Webhook as SvixWebhook

from app.sandbox.config import SandboxConfig
from app.sandbox.store import Store

SERVICES = ("stripe", "resend")
REORDER_FLUSH_S = 2.0  # a reorder window that never fills is flushed after this long
DUE_CHUNK = 200  # due jobs read at a time by a service's sender


def stripe_signature(payload: str, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header value that `stripe.Webhook.construct_event` accepts."""
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def svix_headers(payload: str, secret: str, msg_id: str, timestamp: int) -> dict[str, str]:
    """`svix-id`, `svix-timestamp`, `svix-signature` as Resend (via Svix) sends them."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return {
        "svix-id": msg_id,
        "svix-timestamp": str(timestamp),
        "svix-signature": SvixWebhook(secret).sign(msg_id, moment, payload),
    }


def new_stripe_secret() -> str:
    return f"whsec_{secrets.token_hex(16)}"


def new_svix_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass
class WebhookFaults:
    """Counters for the next n deliveries; `delay_ms` applies while `delay_count` > 0 (or always
    when `delay_count` is None)."""

    drop: int = 0
    duplicate: int = 0
    reorder: int = 0
    delay_ms: int = 0
    delay_count: int | None = None
    held: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    held_since: dict[str, float] = field(default_factory=dict)

    def take_delay(self) -> float:
        if not self.delay_ms:
            return 0.0
        if self.delay_count is not None:
            if self.delay_count <= 0:
                return 0.0
            self.delay_count -= 1
        return self.delay_ms / 1000


class WebhookDispatcher:
    def __init__(
        self,
        store: Store,
        config: SandboxConfig,
        on_delivered: Callable[[str, str], None],
    ) -> None:
        self.store = store
        self.config = config
        self.faults = WebhookFaults()
        self._on_delivered = on_delivered
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None

    # -- public ----------------------------------------------------------------------------
    def target(self, service: str) -> tuple[str, str]:
        if service == "stripe":
            return self.config.stripe_webhook_url, self.config.stripe_webhook_secret
        return self.config.resend_webhook_url, self.config.resend_webhook_secret

    def enqueue(self, service: str, event_id: str, event_type: str, body: str) -> bool:
        """Queue one event; returns False (nothing queued) when no endpoint is configured."""
        if not self.target(service)[0]:
            return False
        self.store.add_job(service, event_id, event_type, body, time.time())
        self._wake.set()
        return True

    def reset(self) -> None:
        self.faults = WebhookFaults()

    async def start(self) -> None:
        self._client = httpx.AsyncClient()
        self.store.release_parked(time.time())
        self._tasks = [asyncio.create_task(self._worker(s)) for s in SERVICES]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()

    # -- worker ----------------------------------------------------------------------------
    async def _worker(self, service: str) -> None:
        while True:
            jobs = self.store.due_jobs(time.time(), service, DUE_CHUNK)
            for job in jobs:
                await self._handle(job)
            await self._flush_stale_reorder(service)
            if len(jobs) == DUE_CHUNK:
                continue  # more are due: no pause
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.05)

    async def _handle(self, job: dict[str, Any]) -> None:
        service = job["service"]
        faults = self.faults
        if faults.drop > 0:
            faults.drop -= 1
            self.store.update_job(job["seq"], attempt=job["attempt"] + 1, next_at=0, done=True)
            self._log(job, job["attempt"] + 1, None, "dropped by fault injection", "drop", 0.0)
            return
        if faults.reorder > 0:
            faults.reorder -= 1
            # Park it (never due) until the window fills, then deliver the window reversed.
            self.store.update_job(
                job["seq"], attempt=job["attempt"], next_at=float("inf"), done=False
            )
            faults.held.setdefault(service, []).append(job)
            faults.held_since.setdefault(service, time.time())
            if faults.reorder == 0:
                await self._flush_reorder(service)
            return
        await self._deliver(job)

    async def _flush_stale_reorder(self, service: str) -> None:
        since = self.faults.held_since.get(service)
        if since is not None and time.time() - since > REORDER_FLUSH_S:
            self.faults.reorder = 0
            await self._flush_reorder(service)

    async def _flush_reorder(self, service: str) -> None:
        held = self.faults.held.pop(service, [])
        self.faults.held_since.pop(service, None)
        for job in reversed(held):
            await self._deliver(job, fault="reorder")

    async def _deliver(self, job: dict[str, Any], fault: str | None = None) -> None:
        copies = 1
        if self.faults.duplicate > 0:
            self.faults.duplicate -= 1
            copies, fault = 2, "duplicate"
        delay = self.faults.take_delay()
        if delay:
            await asyncio.sleep(delay)
            fault = fault or "delay"
        attempt = job["attempt"] + 1
        ok = False
        for _ in range(copies):
            ok = await self._post(job, attempt, fault) or ok
        schedule = self.config.webhook_retry_schedule_s
        if ok:
            self.store.update_job(job["seq"], attempt=attempt, next_at=0, done=True)
            self._on_delivered(job["service"], job["event_id"])
        elif attempt <= len(schedule):
            next_at = time.time() + schedule[attempt - 1]
            self.store.update_job(job["seq"], attempt=attempt, next_at=next_at, done=False)
        else:
            self.store.update_job(job["seq"], attempt=attempt, next_at=0, done=True)
        self._wake.set()

    async def _post(self, job: dict[str, Any], attempt: int, fault: str | None) -> bool:
        url, secret = self.target(job["service"])
        body: str = job["body"]
        now = int(time.time())  # signatures use real time: receivers check a tolerance
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if job["service"] == "stripe":
            headers["User-Agent"] = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
            headers["Stripe-Signature"] = stripe_signature(body, secret, now)
        else:
            headers["User-Agent"] = "Svix-Webhooks/1.0 (sandbox)"
            headers.update(svix_headers(body, secret, job["event_id"], now))
        started = time.time()
        status: int | None = None
        error: str | None = None
        assert self._client is not None
        try:
            response = await self._client.post(
                url, content=body.encode(), headers=headers, timeout=self.config.webhook_timeout_s
            )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"non-2xx response: {status}"
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        self._log(job, attempt, status, error, fault, started, target=url)
        return error is None

    def _log(
        self,
        job: dict[str, Any],
        attempt: int,
        status: int | None,
        error: str | None,
        fault: str | None,
        started: float,
        target: str | None = None,
    ) -> None:
        self.store.log_delivery(
            {
                "service": job["service"],
                "event_id": job["event_id"],
                "type": job["event_type"],
                "target": target or self.target(job["service"])[0],
                "attempt": attempt,
                "status_code": status,
                "error": error,
                "fault": fault,
                "started_at": started or time.time(),
                "finished_at": time.time(),
            }
        )
