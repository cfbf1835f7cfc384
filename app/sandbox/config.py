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
    "manual_capture_payment_status",
    "resend_api_key",
)
MANUAL_CAPTURE_READINGS = ("paid", "unpaid")


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
    # A completed manual-capture Session reports `paid` (the card is authorised) or `unpaid`
    # (its PaymentIntent `requires_capture`): both readings of Stripe's docs, selectable.
    manual_capture_payment_status: str = "paid"
    # The only Resend API key accepted (others: 403 invalid_api_key); the app's sandbox default.
    resend_api_key: str = "re_test_orderpass_sandbox"

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
            elif name == "manual_capture_payment_status" and value not in MANUAL_CAPTURE_READINGS:
                raise ValueError("manual_capture_payment_status must be 'paid' or 'unpaid'")
            elif name == "resend_api_key" and not str(value).strip():
                raise ValueError("resend_api_key must not be empty")
            else:
                value = str(value)
            setattr(self, name, value)

    def runtime_view(self) -> dict[str, Any]:
        view = {name: getattr(self, name) for name in RUNTIME_FIELDS}
        view["webhook_retry_schedule_s"] = list(self.webhook_retry_schedule_s)
        return view
