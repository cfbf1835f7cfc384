"""Stripe's HTTP surface at `/v1/…`: auth, faults, idempotency, form decoding, error envelopes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from app.sandbox.ids import stripe_id
from app.sandbox.state import SandboxState, sandbox_of
from app.sandbox.stripe.errors import IDEMPOTENCY_MISMATCH, StripeError
from app.sandbox.stripe.forms import decode_form, decode_pairs

IDEMPOTENCY_TTL_S = 24 * 60 * 60
ERROR_BY_STATUS = {
    500: StripeError("An unknown error occurred", status=500, type="api_error"),
    429: StripeError(
        "Too many requests hit the API too quickly. We recommend an exponential backoff of "
        "your requests.",
        status=429,
        code="rate_limit",
    ),
    504: StripeError("The request timed out.", status=504, type="api_error"),
}


def _json(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response[bytes]:
    return Response(
        content=json.dumps(body, indent=2).encode(),
        status_code=status,
        media_type="application/json",
        headers={
            "Request-Id": stripe_id("req"),
            "Stripe-Version": "2025-08-27.basil",
            **(headers or {}),
        },
    )


def error_response(exc: StripeError) -> Response[bytes]:
    request_id = stripe_id("req")
    return Response(
        content=json.dumps(exc.envelope(request_id), indent=2).encode(),
        status_code=exc.status,
        media_type="application/json",
        headers={"Request-Id": request_id},
    )


def stripe_exception_handler(_request: Request[Any, Any, Any], exc: StripeError) -> Response[bytes]:
    return error_response(exc)


async def guard(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    """Faults first (they stand for the network and Stripe's edge), then the API key."""
    sandbox = sandbox_of(request)
    status = await sandbox.api_faults.apply("stripe")
    if status is not None:
        return error_response(ERROR_BY_STATUS[status])
    auth = request.headers.get("authorization", "")
    if not auth:
        return error_response(
            StripeError(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth "
                "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
                status=401,
            )
        )
    key = auth.removeprefix("Bearer ").strip()
    if not key.startswith("sk_test_") or len(key) <= len("sk_test_"):
        shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
        return error_response(
            StripeError(f"Invalid API Key provided: {shown}", status=401, code="api_key_invalid")
        )
    return None


def _query(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return decode_pairs(parse_qsl(request.url.query, keep_blank_values=True))


async def _mutate(
    request: Request[Any, Any, Any], run: Callable[[SandboxState, dict[str, Any]], dict[str, Any]]
) -> Response[bytes]:
    """Run a POST with Stripe's idempotency semantics (same key + params → replay)."""
    sandbox = sandbox_of(request)
    params = decode_form(await request.body())
    params.pop("expand", None)
    key = request.headers.get("idempotency-key")
    if not key:
        return _json(run(sandbox, params))
    fingerprint = hashlib.sha256(
        f"{request.method} {request.url.path}\n{json.dumps(params, sort_keys=True)}".encode()
    ).hexdigest()
    found = sandbox.store.idempotent_get("stripe", key)
    if found and sandbox.clock.now() - found[3] < IDEMPOTENCY_TTL_S:
        if found[0] != fingerprint:
            raise StripeError(IDEMPOTENCY_MISMATCH.format(key=key), type="idempotency_error")
        return _json(
            json.loads(found[2]), found[1], {"Idempotent-Replayed": "true", "Idempotency-Key": key}
        )
    result = run(sandbox, params)
    sandbox.store.idempotent_put(
        "stripe", key, fingerprint, 200, json.dumps(result), sandbox.clock.now()
    )
    return _json(result, headers={"Idempotency-Key": key})


@post("/checkout/sessions", status_code=200)
async def create_session(request: Request[Any, Any, Any]) -> Response[bytes]:
    return await _mutate(request, lambda sb, p: sb.stripe.create_session(p))


@get("/checkout/sessions")
async def list_sessions(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _json(sandbox_of(request).stripe.list_sessions(_query(request)))


@get("/checkout/sessions/{session_id:str}")
async def retrieve_session(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    return _json(sandbox_of(request).stripe.get_session(session_id))


@get("/checkout/sessions/{session_id:str}/line_items")
async def session_line_items(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    return _json(sandbox_of(request).stripe.list_line_items(session_id, _query(request)))


@post("/checkout/sessions/{session_id:str}/expire", status_code=200)
async def expire_session(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    return await _mutate(request, lambda sb, _p: sb.stripe.expire_session(session_id))


@get("/payment_intents/{intent_id:str}")
async def retrieve_intent(
    request: Request[Any, Any, Any], intent_id: FromPath[str]
) -> Response[bytes]:
    return _json(sandbox_of(request).stripe.get_payment_intent(intent_id))


@post("/payment_intents/{intent_id:str}/capture", status_code=200)
async def capture_intent(
    request: Request[Any, Any, Any], intent_id: FromPath[str]
) -> Response[bytes]:
    return await _mutate(request, lambda sb, p: sb.stripe.capture(intent_id, p))


@post("/payment_intents/{intent_id:str}/cancel", status_code=200)
async def cancel_intent(
    request: Request[Any, Any, Any], intent_id: FromPath[str]
) -> Response[bytes]:
    return await _mutate(request, lambda sb, p: sb.stripe.cancel(intent_id, p))


@post("/refunds", status_code=200)
async def create_refund(request: Request[Any, Any, Any]) -> Response[bytes]:
    return await _mutate(request, lambda sb, p: sb.stripe.create_refund(p))


@get("/refunds/{refund_id:str}")
async def retrieve_refund(
    request: Request[Any, Any, Any], refund_id: FromPath[str]
) -> Response[bytes]:
    return _json(sandbox_of(request).stripe.get_refund(refund_id))


@get("/charges/{charge_id:str}")
async def retrieve_charge(
    request: Request[Any, Any, Any], charge_id: FromPath[str]
) -> Response[bytes]:
    return _json(sandbox_of(request).stripe.get_charge(charge_id))


@get("/events")
async def list_events(request: Request[Any, Any, Any]) -> Response[bytes]:
    return _json(sandbox_of(request).stripe.list_events(_query(request)))


@get("/events/{event_id:str}")
async def retrieve_event(
    request: Request[Any, Any, Any], event_id: FromPath[str]
) -> Response[bytes]:
    return _json(sandbox_of(request).stripe.get_event(event_id))


def unrecognized_url(method: str, path: str) -> Response[bytes]:
    return error_response(StripeError(f"Unrecognized request URL ({method}: {path}).", status=404))


stripe_router = Router(
    path="/v1",
    route_handlers=[
        create_session,
        list_sessions,
        retrieve_session,
        session_line_items,
        expire_session,
        retrieve_intent,
        capture_intent,
        cancel_intent,
        create_refund,
        retrieve_refund,
        retrieve_charge,
        list_events,
        retrieve_event,
    ],
    before_request=guard,
    exception_handlers={StripeError: stripe_exception_handler},
)
