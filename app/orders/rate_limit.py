"""Order submissions per client address, counted in Redis so the limit holds across every
web process. The JSON API and the HTML checkout share one budget."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address

from app.infra.rate_limit import CountingRateLimitMiddleware
from app.settings import get_settings


def _client(request: Request[Any, Any, Any]) -> str:
    return "orders:" + get_remote_address(request)  # its own counters, apart from logins


def order_rate_limit() -> RateLimitConfig:
    return RateLimitConfig(
        rate_limit=("minute", get_settings().order_rate_limit_per_minute),
        store="rate_limit", identifier_for_request=_client,
        middleware_class=CountingRateLimitMiddleware)
