"""A dependency that cannot be reached is a 503 with `Retry-After`, never a 500: Redis or
Postgres down or restarting, a Redis pool with no connection free (load shed), Postgres out
of connections. The client may retry; nothing it sent was half-written (services roll back,
intake abandons an order it could not finish: app/orders/intake.py)."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.types import ExceptionHandlersMap
from redis.exceptions import BusyLoadingError, OutOfMemoryError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.infra import error_pages

RETRY_AFTER_S = 5
DEPENDENCY_ERRORS: tuple[type[Exception], ...] = (
    RedisConnectionError,  # refused, reset, or no pooled connection free in time
    RedisTimeoutError,
    BusyLoadingError,  # Redis is loading its data after a restart
    OutOfMemoryError,  # maxmemory reached with noeviction: writes refused
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # Postgres shutting down or starting up
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,  # e.g. a pooled connection closed under us
    # A connection that broke mid-query as Postgres shut down ("cannot switch to state …;
    # another operation is in progress"): the server went away, not a bug of the request.
    asyncpg.InternalClientError,
    OSError,  # connection refused/reset while a pool opens a connection
    TimeoutError,
)


def dependency_name(error: BaseException) -> str:
    module = type(error).__module__
    return "Redis" if module.startswith("redis") else "Postgres" if module.startswith(
        "asyncpg") else "A service we depend on"


def is_dependency_error(error: BaseException) -> bool:
    return isinstance(error, DEPENDENCY_ERRORS)


def dependency_unavailable(request: Request[Any, Any, Any],
                           error: Exception) -> Response[Any]:
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if error_pages.wants_page(request):  # a person in a browser: a page saying so
        return error_pages.error_page(request, 503, "", headers)
    return Response(unavailable_body(error), status_code=503, headers=headers)


def unavailable_body(error: BaseException) -> dict[str, Any]:
    """The JSON of a 503 for `error` (here, and in the raw webhook routes)."""
    return {"status_code": 503,
            "detail": f"{dependency_name(error)} is unavailable right now; try again shortly"}


def exception_handlers() -> ExceptionHandlersMap:
    return dict.fromkeys(DEPENDENCY_ERRORS, dependency_unavailable)
