"""Uniform 4xx bodies: `{"status_code", "detail", "extra": [{"key", "message"}]}` where
`key` names the offending field as the client wrote it (`items[0].quantity`)."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec

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
