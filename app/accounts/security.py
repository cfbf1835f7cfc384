"""Web security wiring for `create_app()`: Redis-backed stores, server-side sessions, CSRF and
the login rate limit. One Redis client per web process serves sessions and the rate limit,
so both hold across processes."""

from __future__ import annotations

from litestar.config.csrf import CSRFConfig
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.types import ExceptionHandlersMap
from redis.asyncio import Redis

from app.accounts.form_guard import CSRF_COOKIE, CSRF_EXEMPT
from app.accounts.guards import LoginRequired, login_required_handler
from app.accounts.session import RotatingSessionConfig
from app.settings import get_settings

SESSION_COOKIE = "orderpass_session"
SESSION_MAX_AGE_S = 7 * 24 * 3600  # a kitchen tablet stays logged in for a week of shifts
# Paths that never need a session (no Redis round trip for them).
NO_SESSION = ["^/static/", "^/healthz", "^/readyz", "^/metrics", "^/webhooks/", "^/schema"]


def stores(redis: Redis) -> dict[str, Store]:
    return {
        "sessions": RedisStore(redis, namespace="orderpass:sessions"),
        "rate_limit": RedisStore(redis, namespace="orderpass:ratelimit"),
    }


def session_config() -> RotatingSessionConfig:
    return RotatingSessionConfig(
        key=SESSION_COOKIE, store="sessions", max_age=SESSION_MAX_AGE_S, renew_on_access=True,
        httponly=True, samesite="lax", secure=get_settings().is_production,
        exclude=NO_SESSION,
    )


def csrf_config() -> CSRFConfig:
    settings = get_settings()
    return CSRFConfig(
        secret=settings.secret_key, cookie_name=CSRF_COOKIE, header_name="x-csrftoken",
        cookie_secure=settings.is_production, cookie_samesite="lax", exclude=CSRF_EXEMPT,
    )


def login_rate_limit() -> RateLimitConfig:
    """Per client address, shared by all web processes through the `rate_limit` store."""
    return RateLimitConfig(rate_limit=("minute", get_settings().login_rate_limit_per_minute),
                           store="rate_limit")


def exception_handlers() -> ExceptionHandlersMap:
    return {LoginRequired: login_required_handler}
