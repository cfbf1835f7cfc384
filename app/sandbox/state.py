"""SandboxState: the one object the routes share (config, store, clock, services, queues)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from litestar import Litestar, Request

from app.sandbox.clock import SandboxClock
from app.sandbox.config import SandboxConfig
from app.sandbox.faults import ApiFaults
from app.sandbox.resend.service import ResendService
from app.sandbox.store import Store
from app.sandbox.stripe.service import StripeService
from app.sandbox.webhooks import WebhookDispatcher, new_stripe_secret, new_svix_secret

STATE_KEY = "sandbox"


class SandboxState:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.store = Store(config.data_dir / "sandbox.sqlite3")
        self._load_runtime_config()
        self.clock = SandboxClock(self.store)
        self.api_faults = ApiFaults()
        self.webhooks = WebhookDispatcher(self.store, config, self._delivered)
        self.stripe = StripeService(
            self.store,
            self.clock,
            config.public_url,
            publish=lambda evt: self.webhooks.enqueue(
                "stripe", evt["id"], evt["type"], json.dumps(evt, indent=2)
            ),
            async_delay=lambda: self.config.async_payment_delay_s,
            manual_paid_status=lambda: self.config.manual_capture_payment_status,
        )
        self.stripe_in_progress: set[str] = set()  # idempotency keys executing right now
        self.resend = ResendService(self.store, self.clock, self.webhooks, lambda: self.config)
        self._loop_task: asyncio.Task[None] | None = None

    def _load_runtime_config(self) -> None:
        """Saved runtime changes win over start-up values; secrets are generated once."""
        saved = self.store.setting("runtime_config", {})
        explicit = {k: v for k, v in self.config.runtime_view().items() if v not in ("", None)}
        self.config.apply({**saved, **explicit})
        if not self.config.stripe_webhook_secret:
            self.config.stripe_webhook_secret = new_stripe_secret()
        if not self.config.resend_webhook_secret:
            self.config.resend_webhook_secret = new_svix_secret()
        self.save_config()

    def save_config(self) -> None:
        self.store.set_setting("runtime_config", self.config.runtime_view())

    def _delivered(self, service: str, event_id: str) -> None:
        if service == "stripe":
            self.stripe.mark_delivered(event_id)

    def tick(self) -> None:
        """Time-driven work: expire sessions, settle delayed payments and cancel lapsed card
        holds (sandbox clock)."""
        self.stripe.expire_due()
        self.stripe.settle_due()
        self.stripe.expire_holds()

    def reset(self) -> None:
        self.store.reset()
        self.clock.reset()
        self.api_faults.reset()
        self.webhooks.reset()
        self.save_config()

    async def _time_loop(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                self.tick()
            await asyncio.sleep(self.config.expiry_check_interval_s)

    async def start(self, _app: Litestar) -> None:
        await self.webhooks.start()
        self._loop_task = asyncio.create_task(self._time_loop())

    async def stop(self, _app: Litestar) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        await self.webhooks.stop()
        self.store.close()


def sandbox_of(request: Request[Any, Any, Any]) -> SandboxState:
    state: SandboxState = request.app.state[STATE_KEY]
    return state
