"""Settings read once from the environment (and `.env`), validated at start-up."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

STRIPE_MIN_LINK_MINUTES = 30  # Stripe refuses expires_at sooner than 30 min ...
STRIPE_MAX_LINK_MINUTES = 24 * 60  # ... or later than 24 h after creation.
SANDBOX_STRIPE_KEY = "sk_test_orderpass_sandbox"
SANDBOX_RESEND_KEY = "re_test_orderpass_sandbox"
KITCHEN_HEARTBEAT_DEFAULT_S = 5.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # Infrastructure. Empty means "use the embedded servers of `orderpass dev`".
    database_url: str = ""
    redis_url: str = ""
    data_dir: Path = Field(default=Path(".orderpass"), alias="ORDERPASS_DATA_DIR")
    # Per Redis pool and process (app/infra/redis.py): a ceiling, how long a request waits
    # for a free connection before its 503, and how long an idle one above the floor stays.
    # Every Postgres statement and connect is bounded (app/piccolo_conf.py): a Postgres that
    # hangs (a frozen VM, a lost network path) is a 503 after about the statement limit (the
    # timed-out statement's connection is cut, not released), not a request held forever.
    db_command_timeout_seconds: float = Field(default=10.0, gt=0)
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    redis_max_connections: int = Field(default=50, ge=2)
    redis_pool_timeout_seconds: float = Field(default=1.0, gt=0)
    redis_pool_idle_seconds: float = Field(default=30.0, gt=0)
    # A Redis that hangs (frozen, its network path lost) is bounded like Postgres: every
    # command of the web's and the CLI's clients has this long to be answered, then the
    # request gets its 503. Refused or reset connections (a restart) are still retried for
    # a few seconds; a timeout is not (app/infra/redis.py).
    redis_command_timeout_seconds: float = Field(default=3.0, gt=0)
    # The worker's own limit (arq's poll loop, its jobs, its heartbeat): longer, since no one
    # waits on a page for it; without one a connection whose network path was lost without a
    # reset held the worker until TCP gave up (many minutes). A timed-out command is retried
    # on a new connection (app/infra/redis.py `redis_settings`).
    redis_worker_command_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long a job a worker started stays its own without the worker renewing it (every
    # third of it): a worker killed mid-job (OOM, a node lost) leaves its jobs to the next
    # worker after this, not after arq's longest job timeout + 10 s (ten minutes here).
    worker_job_lease_seconds: float = Field(default=30.0, ge=1)
    # First part of every live-feed pub/sub channel name (app/live/feed.py). Redis pub/sub
    # ignores the database number in REDIS_URL, so two deployments sharing one Redis server
    # (or the test suite's parallel workers on a standalone one) need prefixes of their own.
    redis_channel_prefix: str = Field(default="orderpass", pattern=r"^[A-Za-z0-9_.-]+$")

    # Unset outside production: shared through the data dir (app/infra/dev_secrets.py).
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    public_base_url: str = "http://127.0.0.1:8000"
    environment: Literal["dev", "test", "production"] = Field(
        default="dev", alias="ORDERPASS_ENV"
    )
    log_level: str = "INFO"
    # Open SSE streams hold a web process this long on shutdown before they are cut.
    web_graceful_shutdown_seconds: int = Field(default=10, ge=0)
    # Slow clients (app/infra/http_protocol.py): request headers must arrive within this,
    # this many connections may wait for theirs at once, and a process serves at most
    # WEB_LIMIT_CONCURRENCY connections (idle SSE streams count; more get a 503).
    web_header_timeout_seconds: float = Field(default=10.0, gt=0)
    web_max_pending_headers: int = Field(default=1000, ge=1)
    web_limit_concurrency: int = Field(default=10000, ge=1)
    web_keep_alive_seconds: int = Field(default=5, ge=1)
    log_json: bool = False

    # Stripe: sk_test_ keys with STRIPE_API_BASE pointing at the sandbox in dev and tests.
    stripe_secret_key: str = SANDBOX_STRIPE_KEY
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    stripe_timeout_seconds: float = 5.0

    # Resend (and an optional SMTP relay used when Resend keeps failing).
    resend_api_key: str = SANDBOX_RESEND_KEY
    resend_api_url: str = ""
    resend_webhook_secret: str = ""
    resend_requests_per_second: float = 2.0
    resend_timeout_seconds: float = 10.0
    # Fall back to SMTP after this many consecutive Resend outage errors, or for an email
    # still unsent this many minutes after it was queued (needs SMTP_RELAY_URL).
    email_fallback_after_failures: int = 3
    email_fallback_after_minutes: float = 10.0
    smtp_timeout_seconds: float = 10.0
    email_from: str = "Orderpass <orders@orderpass.test>"
    # Emails one address may get per hour (app/notifications/recipient_cap.py); 0: no cap.
    emails_per_recipient_per_hour: int = Field(default=20, ge=0)
    smtp_relay_url: str = ""

    payment_link_ttl_minutes: int = 60
    temp_order_ttl_hours: int = 96  # outlives Stripe's 3-day webhook retry window
    archive_after_days: int = 30
    # Retention (app/platform/retention.py): webhook evidence, delivered outbox rows.
    webhook_delivery_retention_days: int = Field(default=30, ge=1)
    outbox_retention_days: int = Field(default=7, ge=1)
    # When set, GET /metrics answers only `Authorization: Bearer <token>` (the scraper).
    metrics_token: str = ""
    order_rate_limit_per_minute: int = 20
    login_rate_limit_per_minute: int = 10
    login_failures_per_account: int = Field(default=10, ge=0)  # per 15 min; 0: no lock
    # Open unpaid orders (app/orders/unpaid_caps.py); 0 turns a cap off.
    unpaid_orders_per_ip: int = Field(default=25, ge=0)
    unpaid_orders_per_email: int = Field(default=5, ge=0)
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0)  # keeps proxies from idling SSE out
    # A kitchen screen's heartbeat (unset: 5 s, or SSE_HEARTBEAT_SECONDS if shorter). The
    # screen calls itself down after 2.5 silent heartbeats; at 15 s a stalled tablet showed
    # a green "Live" for up to 37 s while a new order was missing (an outside try).
    kitchen_heartbeat_seconds: float | None = Field(default=None, gt=0)
    # How often the web process lets a full collection examine its whole heap, reclaiming
    # frozen objects that died in cycles (app/infra/gc_tuning.py): one longer pause then.
    gc_thaw_minutes: float = Field(default=15.0, gt=0)

    demo_password: str = Field(default="demo", alias="ORDERPASS_DEMO_PASSWORD")
    port: int = Field(default=8000, alias="ORDERPASS_PORT", ge=1, le=65535)
    sandbox_port: int = Field(default=12111, alias="ORDERPASS_SANDBOX_PORT", ge=1, le=65535)

    ops_alert_email: str = ""
    ops_alert_webhook_url: str = ""
    ops_alert_cooldown_minutes: float = Field(default=30.0, gt=0)
    # How often each web process looks whether the worker's alert cron has run lately, and
    # evaluates the alerts itself when it has not (app/ops/alerts.py `watch_forever`): with no
    # worker running, nothing else would say so. 0 turns the watch off.
    alerts_watchdog_seconds: float = Field(default=60.0, ge=0)
    ops_alert_webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    alert_webhook_failures_per_hour: int = 10  # 5xx or signature rejections
    alert_email_failure_rate: float = 0.2  # failed+bounced share of the last hour's emails
    alert_email_min_volume: int = 5  # below this many emails an hour, rates are noise
    alert_link_failures_today: int = 5
    temp_order_cleanup_hours: float = Field(default=24.0, gt=0)
    reconcile_window_hours: int = Field(default=72, gt=0)
    # A paid session this young is the webhook's to record (it usually lands in seconds);
    # reconciliation creates its order on a later run if it is still missing then.
    reconcile_grace_seconds: int = Field(default=300, ge=0)

    # Staff accounts (app/accounts): invitation and password-reset links, reset requests.
    invitation_ttl_hours: int = Field(default=72, ge=1, le=30 * 24)
    password_reset_ttl_minutes: int = Field(default=60, ge=5, le=24 * 60)
    password_reset_requests_per_minute: int = Field(default=10, ge=1)  # per client address
    password_reset_emails_per_hour: int = Field(default=3, ge=1)  # per account

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if value and not value.startswith(("postgres://", "postgresql://")):
            raise ValueError("must start with postgresql:// (e.g. postgresql://user@host/db)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis:// or rediss:// (e.g. redis://host:6379/0)")
        return value

    @field_validator("payment_link_ttl_minutes")
    @classmethod
    def _positive_ttl(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be a positive number of minutes")
        return value

    @field_validator("stripe_secret_key")
    @classmethod
    def _stripe_key(cls, value: str) -> str:
        if not value.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
            raise ValueError("must be a Stripe secret key (sk_test_… or sk_live_…)")
        return value

    @property
    def wants_sandbox(self) -> bool:
        """True unless real provider keys are configured without a sandbox base URL."""
        real_stripe = self.stripe_secret_key != SANDBOX_STRIPE_KEY and not self.stripe_api_base
        real_resend = self.resend_api_key != SANDBOX_RESEND_KEY and not self.resend_api_url
        return not (real_stripe and real_resend)

    @property
    def payment_link_minutes(self) -> int:
        """The configured link lifetime, clamped to what Stripe accepts."""
        return max(STRIPE_MIN_LINK_MINUTES, min(STRIPE_MAX_LINK_MINUTES,
                                                self.payment_link_ttl_minutes))

    @property
    def kitchen_heartbeat_s(self) -> float:
        return self.kitchen_heartbeat_seconds or min(self.sse_heartbeat_seconds,
                                                     KITCHEN_HEARTBEAT_DEFAULT_S)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


class SettingsError(SystemExit):
    """Raised with one readable line per bad setting; exits without a traceback."""


def describe_errors(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"]).upper() or "settings"
        lines.append(f"invalid setting {name}: {problem['msg']}")
    return "\n".join(lines)


# What production must be given, never generate: a generated SECRET_KEY differs per process
# (with `--workers 2` a session signed by one worker is refused by the other), an open
# /metrics shows every restaurant's orders, an unset webhook secret refuses every webhook.
PRODUCTION_REQUIRED = {
    "SECRET_KEY": ("secret_key", "signs sessions and CSRF tokens; the same in every process"),
    "METRICS_TOKEN": ("metrics_token", "the bearer token /metrics asks its scraper for"),
    "STRIPE_WEBHOOK_SECRET": ("stripe_webhook_secret", "verifies Stripe's webhooks"),
    "RESEND_WEBHOOK_SECRET": ("resend_webhook_secret", "verifies Resend's webhooks"),
}


def production_problems(settings: Settings) -> list[str]:
    """One line per setting production cannot run without."""
    return [f"missing setting {name}: required with ORDERPASS_ENV=production ({why})"
            for name, (field, why) in PRODUCTION_REQUIRED.items()
            if field not in settings.model_fields_set or not str(getattr(settings, field)).strip()]


def _dev_defaults(settings: Settings) -> Settings:
    """Outside production, what the environment leaves unset comes from the data dir: the
    secrets every process there shares (generated once), and the sandbox of a running
    `orderpass dev`, so `orderpass reconcile|web|worker` beside it talk to its sandbox
    (never to api.stripe.com with the sandbox's key) and verify its webhooks."""
    from app.infra.dev_secrets import dev_secrets, running_dev

    shared = dev_secrets(settings.data_dir)
    updates: dict[str, str] = {}
    for name, field in (("SECRET_KEY", "secret_key"),
                        ("STRIPE_WEBHOOK_SECRET", "stripe_webhook_secret"),
                        ("RESEND_WEBHOOK_SECRET", "resend_webhook_secret")):
        if field not in settings.model_fields_set and shared.get(name):
            updates[field] = shared[name]
    sandbox = running_dev(settings.data_dir).get("sandbox_url", "")
    if sandbox and settings.stripe_secret_key == SANDBOX_STRIPE_KEY \
            and not settings.stripe_api_base:
        updates["stripe_api_base"] = sandbox
    if sandbox and settings.resend_api_key == SANDBOX_RESEND_KEY \
            and not settings.resend_api_url:
        updates["resend_api_url"] = sandbox
    return settings.model_copy(update=updates) if updates else settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as error:
        raise SettingsError(describe_errors(error)) from None
    if settings.is_production:
        if problems := production_problems(settings):
            raise SettingsError("\n".join(problems))
        return settings
    return _dev_defaults(settings)


def reset_settings_cache() -> None:
    get_settings.cache_clear()
