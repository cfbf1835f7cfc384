"""Uniform 4xx bodies: `{"status_code", "detail", "extra": [{"key", "message"}]}` where
`key` names the offending field as the client wrote it (`items[0].quantity`)."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import Scope

from app.infra.logging import get_logger

_log = get_logger("orderpass.http")

_MISSING = re.compile(r"Object missing required field `([^`]+)`(?: - at `\$\.?([^`]*)`)?")


def _field_key(problem: dict[str, Any]) -> dict[str, Any]:
    message = str(problem.get("message", ""))
    missing = _MISSING.search(message)
    if missing and problem.get("key") in (None, "data", ""):
        name, parent = missing.group(1), missing.group(2)
        return {**problem, "key": f"{parent}.{name}" if parent else name}
    return problem


class ErrorOut(msgspec.Struct):
    """Every 4xx/5xx JSON body Litestar and our handlers produce."""

    status_code: int
    detail: str
    extra: Any = None


def error_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI `responses=` for the error statuses a handler answers with."""
    return {code: ResponseSpec(data_container=ErrorOut, generate_examples=False,
                               description=HTTPStatus(code).phrase) for code in codes}


def validation_error_handler(request: Request[Any, Any, Any],
                             error: ValidationException) -> Response[dict[str, Any]]:
    extra = error.extra if isinstance(error.extra, list) else []
    problems = [_field_key(problem) if isinstance(problem, dict) else problem
                for problem in extra]
    return Response({"status_code": error.status_code, "detail": error.detail,
                     "extra": problems}, status_code=error.status_code)


async def log_exception(error: Exception, scope: Scope) -> None:
    """`after_exception` hook: every exception Litestar turns into an answer is logged with
    the request id (bound by app/infra/request_id.py): a refusal (4xx raised as an exception:
    CSRF, body too large, rate limit, validation) as one line with its real status, anything
    else (a 500) with its traceback."""
    from app.infra.unavailable import is_dependency_error

    status = error.status_code if isinstance(error, HTTPException) else 500
    path = scope.get("path", "")[:300]
    if is_dependency_error(error):  # answered 503 (app/infra/unavailable.py)
        _log.warning("dependency unavailable", status=503, path=path, error=repr(error)[:300])
    elif status < 500:
        _log.info("request refused", status=status, path=path,
                  detail=str(getattr(error, "detail", ""))[:300])
    else:
        _log.error("request failed", status=status, path=path, exc_info=error)
