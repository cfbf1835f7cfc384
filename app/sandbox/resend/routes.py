"""Resend's HTTP surface: `POST /emails`, `POST /emails/batch`, `GET /emails/{id}`.

Only the configured API key is accepted (`resend_api_key`; others: 403 `invalid_api_key`, no
key: 401 `missing_api_key`). A fault set to strike after execution sends the email (its
idempotency key keeps the result) and then answers with the fault."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from app.sandbox.faults import Fault
from app.sandbox.resend.service import ResendError, rate_limited
from app.sandbox.state import sandbox_of

MAX_BATCH = 100
YIELD_EVERY = 5  # emails of a batch processed between two turns of the event loop


def error_response(exc: ResendError) -> Response[bytes]:
    return Response(
        content=json.dumps(exc.body()).encode(),
        status_code=exc.status,
        media_type="application/json",
        headers=exc.headers,
    )


def resend_exception_handler(_request: Request[Any, Any, Any], exc: ResendError) -> Response[bytes]:
    return error_response(exc)


def _json(body: Any) -> Response[bytes]:
    return Response(content=json.dumps(body).encode(), media_type="application/json")


def fault_error(status: int) -> ResendError:
    if status == 429:
        return rate_limited(2)
    return ResendError(
        status,
        "internal_server_error" if status == 500 else "gateway_timeout",
        "An unexpected error occurred." if status == 500 else "The request timed out.",
    )


async def _answer(request: Request[Any, Any, Any], body: Any) -> Response[bytes]:
    fault: Fault | None = getattr(request.state, "after_fault", None)
    if fault is not None:
        return error_response(fault_error(await fault.answer_status()))
    return _json(body)


async def guard(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    sandbox = sandbox_of(request)
    await sandbox.api_faults.delay("resend")
    fault = sandbox.api_faults.take("resend")
    request.state.after_fault = None
    if fault is not None:
        if not fault.after_execute:
            return error_response(fault_error(await fault.answer_status()))
        request.state.after_fault = fault
    auth = request.headers.get("authorization", "")
    key = auth.removeprefix("Bearer ").strip()
    if not key:
        return error_response(
            ResendError(
                401,
                "missing_api_key",
                "Missing API key in the authorization header. Include the following header "
                "in the request: Authorization: Bearer YOUR_API_KEY",
            )
        )
    if key != sandbox.config.resend_api_key:
        return error_response(ResendError(403, "invalid_api_key", "API key is invalid"))
    try:
        sandbox.resend.check_rate()
    except ResendError as exc:
        return error_response(exc)
    return None


async def _body(request: Request[Any, Any, Any]) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise ResendError(422, "validation_error", "Invalid JSON body.") from exc


@post("/", status_code=200)
async def send_email(request: Request[Any, Any, Any]) -> Response[bytes]:
    service = sandbox_of(request).resend
    payload = await _body(request)
    service.validate(payload)
    key = request.headers.get("idempotency-key")
    return await _answer(
        request, service.idempotent(key, "/emails", payload, lambda: service.send(payload))
    )


@post("/batch", status_code=200)
async def send_batch(request: Request[Any, Any, Any]) -> Response[bytes]:
    service = sandbox_of(request).resend
    payload = await _body(request)
    if not isinstance(payload, list) or not payload:
        raise ResendError(422, "validation_error", "The request body must be a non-empty array.")
    if len(payload) > MAX_BATCH:
        raise ResendError(
            422, "validation_error", f"Too many emails in batch. The maximum is {MAX_BATCH}."
        )
    permissive = request.headers.get("x-batch-validation", "strict") == "permissive"
    errors: list[dict[str, Any]] = []
    valid: list[dict[str, Any]] = []
    # A batch is long work; the event loop is let go every few emails, so that the next
    # request is counted (rate limit) when it arrives, as Resend counts it.
    for index, item in enumerate(payload):
        try:
            service.validate(item, where=f"emails[{index}]: ")
            valid.append(item)
        except ResendError as exc:
            if not permissive:
                raise
            errors.append({"index": index, "message": exc.message})
        if index % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)

    async def run() -> dict[str, Any]:
        data = []
        for index, item in enumerate(valid):
            data.append(service.send(item))
            if index % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
        result: dict[str, Any] = {"data": data}
        if permissive:
            result["errors"] = errors
        return result

    key = request.headers.get("idempotency-key")
    return await _answer(request, await service.idempotent_async(key, "/emails/batch",
                                                                 payload, run))


@get("/{email_id:str}")
async def retrieve_email(
    request: Request[Any, Any, Any], email_id: FromPath[str]
) -> Response[bytes]:
    return _json(sandbox_of(request).resend.get(email_id))


resend_router = Router(
    path="/emails",
    route_handlers=[send_email, send_batch, retrieve_email],
    before_request=guard,
    exception_handlers={ResendError: resend_exception_handler},
)
