"""The control API at `/_control/…` (JSON): pay sessions, open and close disputes, produce
Resend delivery events, inject faults, read the delivery log, reset, change config at runtime
and advance the sandbox clock."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath

from app.sandbox.state import sandbox_of
from app.sandbox.stripe.errors import StripeError
from app.sandbox.stripe.routes import stripe_exception_handler
from app.sandbox.webhooks import WebhookFaults


async def _body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise ValidationException("expected a JSON object")
    return data


@post("/checkout/sessions/{session_id:str}/pay", status_code=200)
async def pay_session(request: Request[Any, Any, Any], session_id: FromPath[str]) -> dict[str, Any]:
    body = await _body(request)
    return sandbox_of(request).stripe.pay(session_id, str(body.get("outcome", "succeeded")))


@post("/charges/{charge_id:str}/dispute", status_code=200)
async def open_dispute(request: Request[Any, Any, Any], charge_id: FromPath[str]) -> dict[str, Any]:
    """The cardholder's bank disputes a charge (`charge.dispute.created`): a chargeback, or
    with `{"inquiry": true}` an inquiry before one (status `warning_needs_response`)."""
    body = await _body(request)
    return sandbox_of(request).stripe.open_dispute(
        charge_id, str(body.get("reason", "fraudulent")), inquiry=body.get("inquiry") is True)


@post("/refunds/{refund_id:str}/fail", status_code=200)
async def fail_refund(request: Request[Any, Any, Any], refund_id: FromPath[str]) -> dict[str, Any]:
    """The customer's bank returns a refund (`{"failure_reason": "expired_or_canceled_card"}`
    by default): `failed`, the money back in the balance, `refund.failed` sent."""
    body = await _body(request)
    return sandbox_of(request).stripe.fail_refund(
        refund_id, str(body.get("failure_reason", "expired_or_canceled_card")))


@post("/disputes/{dispute_id:str}/close", status_code=200)
async def close_dispute(
    request: Request[Any, Any, Any], dispute_id: FromPath[str]
) -> dict[str, Any]:
    """The dispute is decided, `{"status": "won" | "lost"}`, or an inquiry closed without a
    chargeback, `{"status": "warning_closed"}` (`charge.dispute.closed`)."""
    body = await _body(request)
    return sandbox_of(request).stripe.close_dispute(dispute_id, str(body.get("status", "")))


@post("/emails/{email_id:str}/events", status_code=200)
async def email_event(request: Request[Any, Any, Any], email_id: FromPath[str]) -> dict[str, Any]:
    """Resend reports something about a sent email: `{"type": "email.failed" |
    "email.suppressed" | "email.delivery_delayed" | "email.bounced" | …}`."""
    body = await _body(request)
    try:
        return sandbox_of(request).resend.report(email_id, str(body.get("type", "")))
    except LookupError as exc:
        raise NotFoundException(str(exc)) from exc
    except ValueError as exc:
        raise ValidationException(str(exc)) from exc


@post("/webhooks/faults", status_code=200)
async def webhook_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await _body(request)
    unknown = set(body) - {"drop", "duplicate", "reorder", "delay_ms", "count"}
    if unknown:
        raise ValidationException(f"unknown fault fields: {sorted(unknown)}")
    sandbox = sandbox_of(request)
    held = sandbox.webhooks.faults
    sandbox.webhooks.faults = WebhookFaults(
        drop=int(body.get("drop", 0)),
        duplicate=int(body.get("duplicate", 0)),
        reorder=int(body.get("reorder", 0)),
        delay_ms=int(body.get("delay_ms", 0)),
        delay_count=int(body["count"]) if "count" in body else None,
        held=held.held,
        held_since=held.held_since,
    )
    faults = sandbox.webhooks.faults
    return {
        "drop": faults.drop,
        "duplicate": faults.duplicate,
        "reorder": faults.reorder,
        "delay_ms": faults.delay_ms,
        "count": faults.delay_count,
    }


@get("/webhooks/deliveries")
async def deliveries(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {"data": sandbox_of(request).store.deliveries()}


@post("/api/faults", status_code=200)
async def api_faults(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await _body(request)
    sandbox = sandbox_of(request)
    try:
        sandbox.api_faults.configure(body)
    except (ValueError, TypeError) as exc:
        raise ValidationException(str(exc)) from exc
    return sandbox.api_faults.view()


@post("/reset", status_code=200)
async def reset(request: Request[Any, Any, Any]) -> dict[str, Any]:
    sandbox_of(request).reset()
    return {"reset": True}


@get("/config")
async def read_config(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return sandbox_of(request).config.runtime_view()


@post("/config", status_code=200)
async def write_config(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await _body(request)
    sandbox = sandbox_of(request)
    try:
        sandbox.config.apply(body)
    except (ValueError, TypeError) as exc:
        raise ValidationException(str(exc)) from exc
    sandbox.save_config()
    return sandbox.config.runtime_view()


@get("/clock")
async def read_clock(request: Request[Any, Any, Any]) -> dict[str, Any]:
    clock = sandbox_of(request).clock
    return {"now": clock.now(), "offset_s": clock.offset}


@post("/clock", status_code=200)
async def advance_clock(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await _body(request)
    sandbox = sandbox_of(request)
    try:
        seconds = float(body["advance_seconds"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationException("advance_seconds (number) is required") from exc
    sandbox.clock.advance(seconds)
    sandbox.tick()  # expire and settle right away: tests need not wait for the loop
    return {"now": sandbox.clock.now(), "offset_s": sandbox.clock.offset}


@get("/resend/limits")
async def resend_limits(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Resend's rate limit and how many requests it let through and refused (429)."""
    return sandbox_of(request).resend.limits_view()


def _control_error(request: Request[Any, Any, Any], exc: StripeError) -> Response[bytes]:
    return stripe_exception_handler(request, exc)


control_router = Router(
    path="/_control",
    route_handlers=[
        pay_session,
        open_dispute,
        close_dispute,
        fail_refund,
        email_event,
        webhook_faults,
        deliveries,
        api_faults,
        reset,
        read_config,
        write_config,
        read_clock,
        advance_clock,
        resend_limits,
    ],
    exception_handlers={StripeError: _control_error},
)
