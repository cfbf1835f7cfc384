"""Stripe's HTTP surface at `/v1/…`: auth, faults, idempotency, form decoding, error envelopes.

Idempotency as Stripe documents it: once a POST has started executing, its response is saved
under its `Idempotency-Key` for 24 h, errors included (a state error such as
`payment_intent_unexpected_state` or `charge_already_refunded`, and a 500), and every retry
with the same key and parameters gets exactly that response with `Idempotent-Replayed: true`.
A request that fails parameter validation saves nothing; nor does one that arrives while
another with the same key is still executing (409 `idempotency_error`); the same key with
other parameters is refused (400 `idempotency_error`)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import stripe
from litestar import Request, Response, Router, get, post
from litestar.params import FromPath

from app.sandbox.faults import Fault
from app.sandbox.ids import stripe_id
from app.sandbox.state import SandboxState, sandbox_of
from app.sandbox.stripe.errors import IDEMPOTENCY_MISMATCH, StripeError
from app.sandbox.stripe.forms import decode_form, decode_pairs

IDEMPOTENCY_TTL_S = 24 * 60 * 60
API_VERSION = stripe.api_version  # the version the installed SDK pins: the shapes we speak
IN_PROGRESS = (
    "There is currently another in-progress request using this idempotent key (that probably "
    "means you submitted twice, and the other request is still going through): {key}. Please "
    "try again later."
)
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
            "Stripe-Version": API_VERSION,
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
    """Faults first (they stand for the network and Stripe's edge), then the API key. A
    fault set to strike after execution is kept for the route (`_mutate`, `_read`)."""
    sandbox = sandbox_of(request)
    if request.method != "POST":  # a POST is slowed while it executes (see `_mutate`)
        await sandbox.api_faults.delay("stripe")
    fault = sandbox.api_faults.take("stripe")
    request.state.after_fault = None
    if fault is not None:
        if fault.after_execute:
            request.state.after_fault = fault
        else:
            return error_response(ERROR_BY_STATUS[await fault.answer_status()])
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
    key = _api_key(auth)
    if not key.startswith("sk_test_") or len(key) <= len("sk_test_"):
        shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
        return error_response(
            StripeError(f"Invalid API Key provided: {shown}", status=401, code="api_key_invalid")
        )
    return None


def _api_key(authorization: str) -> str:
    """The secret key of an Authorization header: a Bearer token, or Basic auth's user name
    with an empty password, as Stripe takes both (`curl -u sk_test_…:`)."""
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return authorization.removeprefix("Bearer ").strip()
    try:
        user = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return user.partition(":")[0]


def _query(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return decode_pairs(parse_qsl(request.url.query, keep_blank_values=True))


def _after_fault(request: Request[Any, Any, Any]) -> Fault | None:
    fault: Fault | None = getattr(request.state, "after_fault", None)
    return fault


async def _read(
    request: Request[Any, Any, Any], read: Callable[[SandboxState], dict[str, Any]]
) -> Response[bytes]:
    """A GET: nothing to save; an after-execution fault only replaces the answer."""
    response = _json(read(sandbox_of(request)))
    fault = _after_fault(request)
    if fault is not None:
        return error_response(ERROR_BY_STATUS[await fault.answer_status()])
    return response


def _executed(
    run: Callable[[SandboxState, dict[str, Any]], dict[str, Any]],
    sandbox: SandboxState,
    params: dict[str, Any],
) -> tuple[int, dict[str, Any]]:
    """(status, body) of a request that started executing; validation errors propagate."""
    try:
        return 200, run(sandbox, params)
    except StripeError as exc:
        if not exc.executed:
            raise
        return exc.status, exc.envelope(stripe_id("req"))


async def _mutate(
    request: Request[Any, Any, Any], run: Callable[[SandboxState, dict[str, Any]], dict[str, Any]]
) -> Response[bytes]:
    """Run a POST with Stripe's idempotency semantics (see the module doc)."""
    sandbox = sandbox_of(request)
    params = decode_form(await request.body())
    params.pop("expand", None)
    key = request.headers.get("idempotency-key")
    fault = _after_fault(request)
    if not key:
        await sandbox.api_faults.delay("stripe")
        status, body = _executed(run, sandbox, params)
        if fault is not None:
            return error_response(ERROR_BY_STATUS[await fault.answer_status()])
        return _json(body, status)
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
    if key in sandbox.stripe_in_progress:
        raise StripeError(IN_PROGRESS.format(key=key), status=409, type="idempotency_error")
    sandbox.stripe_in_progress.add(key)
    try:
        await sandbox.api_faults.delay("stripe")  # Stripe is slow while it executes
        status, body = _executed(run, sandbox, params)
        if fault is not None and fault.status != "timeout":
            # The request committed, then failed: Stripe saves the 500 as the key's result.
            status = int(fault.status)
            body = ERROR_BY_STATUS[status].envelope(stripe_id("req"))
        sandbox.store.idempotent_put(
            "stripe", key, fingerprint, status, json.dumps(body), sandbox.clock.now()
        )
    finally:
        sandbox.stripe_in_progress.discard(key)
    if fault is not None:  # the answer is lost (the saved result is what a retry gets)
        return error_response(ERROR_BY_STATUS[await fault.answer_status()])
    return _json(body, status, {"Idempotency-Key": key})


@post("/checkout/sessions", status_code=200)
async def create_session(request: Request[Any, Any, Any]) -> Response[bytes]:
    return await _mutate(request, lambda sb, p: sb.stripe.create_session(p))


@get("/checkout/sessions")
async def list_sessions(request: Request[Any, Any, Any]) -> Response[bytes]:
    return await _read(request, lambda sb: sb.stripe.list_sessions(_query(request)))


@get("/checkout/sessions/{session_id:str}")
async def retrieve_session(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    return await _read(request, lambda sb: sb.stripe.get_session(session_id))


@get("/checkout/sessions/{session_id:str}/line_items")
async def session_line_items(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    return await _read(request, lambda sb: sb.stripe.list_line_items(session_id, _query(request)))


@post("/checkout/sessions/{session_id:str}/expire", status_code=200)
async def expire_session(
    request: Request[Any, Any, Any], session_id: FromPath[str]
) -> Response[bytes]:
    return await _mutate(request, lambda sb, _p: sb.stripe.expire_session(session_id))


@get("/payment_intents/{intent_id:str}")
async def retrieve_intent(
    request: Request[Any, Any, Any], intent_id: FromPath[str]
) -> Response[bytes]:
    return await _read(request,
                       lambda sb: sb.stripe.read_payment_intent(intent_id, _query(request)))


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
    return await _read(request, lambda sb: sb.stripe.get_refund(refund_id))


@get("/refunds")
async def list_refunds(request: Request[Any, Any, Any]) -> Response[bytes]:
    return await _read(request, lambda sb: sb.stripe.list_refunds(_query(request)))


@get("/disputes/{dispute_id:str}")
async def retrieve_dispute(
    request: Request[Any, Any, Any], dispute_id: FromPath[str]
) -> Response[bytes]:
    return await _read(request, lambda sb: sb.stripe.get_dispute(dispute_id))


@get("/charges/{charge_id:str}")
async def retrieve_charge(
    request: Request[Any, Any, Any], charge_id: FromPath[str]
) -> Response[bytes]:
    return await _read(request, lambda sb: sb.stripe.get_charge(charge_id))


@get("/events")
async def list_events(request: Request[Any, Any, Any]) -> Response[bytes]:
    return await _read(request, lambda sb: sb.stripe.list_events(_query(request)))


@get("/events/{event_id:str}")
async def retrieve_event(
    request: Request[Any, Any, Any], event_id: FromPath[str]
) -> Response[bytes]:
    return await _read(request, lambda sb: sb.stripe.get_event(event_id))


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
        list_refunds,
        retrieve_refund,
        retrieve_dispute,
        retrieve_charge,
        list_events,
        retrieve_event,
    ],
    before_request=guard,
    exception_handlers={StripeError: stripe_exception_handler},
)
