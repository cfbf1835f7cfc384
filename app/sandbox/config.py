"""SandboxConfig: where the sandbox keeps state, its public URL, webhook targets and timings."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

# Fields the control API (`POST /_control/config`) may change at runtime.
RUNTIME_FIELDS = (
    "stripe_webhook_url",
    "stripe_webhook_secret",
    "resend_webhook_url",
    "resend_webhook_secret",
    "webhook_retry_schedule_s",
    "webhook_timeout_s",
    "async_payment_delay_s",
    "resend_rate_limit_per_s",
)


@dataclass
class SandboxConfig:
    data_dir: Path
    public_url: str
    stripe_webhook_url: str = ""
    stripe_webhook_secret: str = ""
    resend_webhook_url: str = ""
    resend_webhook_secret: str = ""
    webhook_retry_schedule_s: tuple[float, ...] = (1, 2, 5, 10, 30)
    expiry_check_interval_s: float = 1.0
    # Extensions (all optional): per-attempt delivery timeout, how long a "delayed" payment
    # method takes to settle (sandbox clock), and Resend's per-second rate limit (0 = off).
    webhook_timeout_s: float = 10.0
    async_payment_delay_s: float = 5.0
    resend_rate_limit_per_s: float = 0.0

    def apply(self, changes: dict[str, Any]) -> None:
        """Set runtime-changeable fields; raises ValueError naming an unknown field."""
        known = {f.name for f in fields(self)}
        for name, value in changes.items():
            if name not in RUNTIME_FIELDS or name not in known:
                raise ValueError(f"unknown or read-only config field: {name}")
            if name == "webhook_retry_schedule_s":
                value = tuple(float(v) for v in value)
            elif name in ("webhook_timeout_s", "async_payment_delay_s", "resend_rate_limit_per_s"):
                value = float(value)
            else:
                value = str(value)
            setattr(self, name, value)

    def runtime_view(self) -> dict[str, Any]:
        view = {name: getattr(self, name) for name in RUNTIME_FIELDS}
        view["webhook_retry_schedule_s"] = list(self.webhook_retry_schedule_s)
        return view
