"""Uniform 4xx bodies: `{"status_code", "detail", "extra": [{"key", "message"}]}` where
`key` names the offending field as the client wrote it (`items[0].quantity`)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import ValidationException

_MISSING = re.compile(r"Object missing required field `([^`]+)`(?: - at `\$\.?([^`]*)`)?")


def _field_key(problem: dict[str, Any]) -> dict[str, Any]:
    message = str(problem.get("message", ""))
    missing = _MISSING.search(message)
    if missing and problem.get("key") in (None, "data", ""):
        name, parent = missing.group(1), missing.group(2)
        return {**problem, "key": f"{parent}.{name}" if parent else name}
    return problem


def validation_error_handler(request: Request[Any, Any, Any],
                             error: ValidationException) -> Response[dict[str, Any]]:
    extra = error.extra if isinstance(error.extra, list) else []
    problems = [_field_key(problem) if isinstance(problem, dict) else problem
                for problem in extra]
    return Response({"status_code": error.status_code, "detail": error.detail,
                     "extra": problems}, status_code=error.status_code)
