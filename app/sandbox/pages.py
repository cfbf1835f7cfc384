"""HTML pages: the hosted checkout page (`/pay/{id}`) and the mailbox (`/mail`)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.sandbox.state import sandbox_of
from app.sandbox.stripe.errors import StripeError
from app.sandbox.stripe.minimums import ZERO_DECIMAL

# The mailbox may show only inline styles and images; the message iframe has no scripts.
MAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; "
    "frame-src 'self' about:; base-uri 'none'; form-action 'none'"
)


def money(amount: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    return f"{amount / 100:.2f} {currency.upper()}"


def _fill(url: str, session_id: FromPath[str]) -> str:
    return url.replace("{CHECKOUT_SESSION_ID}", session_id)


def _pay_page(
    request: Request[Any, Any, Any], session_id: str, error: str | None = None
) -> Template:
    sandbox = sandbox_of(request)
    try:
        session = sandbox.stripe.get_session(session_id)
        items = sandbox.stripe.line_items_of(session_id)
    except StripeError as exc:
        raise NotFoundException("No such checkout session") from exc
    return Template(
        template_name="pay.html",
        context={
            "session": session,
            "items": [
                {
                    **li,
                    "unit": money(li["price"]["unit_amount"], li["currency"]),
                    "total": money(li["amount_total"], li["currency"]),
                }
                for li in items
            ],
            "total": money(session["amount_total"], session["currency"]),
            "error": error,
        },
        status_code=402 if error else 200,
    )


@get("/pay/{session_id:str}")
async def pay_page(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Template:
    return _pay_page(request, session_id)


@post("/pay/{session_id:str}", status_code=303)
async def pay_submit(request: Request[Any, Any, Any], session_id: FromPath[str]) -> Response[Any]:
    sandbox = sandbox_of(request)
    outcome = str((await request.form()).get("outcome", ""))
    try:
        session = sandbox.stripe.get_session(session_id)
    except StripeError as exc:
        raise NotFoundException("No such checkout session") from exc
    if outcome == "cancel":
        if not session["cancel_url"]:
            return _pay_page(request, session_id)
        return Redirect(_fill(session["cancel_url"], session_id), status_code=303)
    try:
        session = sandbox.stripe.pay(session_id, outcome)
    except StripeError:
        return _pay_page(request, session_id)
    if outcome == "declined":
        return _pay_page(request, session_id, error="Your card was declined. Try another card.")
    return Redirect(_fill(session["success_url"], session_id), status_code=303)


@get("/mail")
async def mailbox(
    request: Request[Any, Any, Any],
    id: FromQuery[str | None] = None,
    to: FromQuery[str | None] = None,
) -> Template:
    messages = sandbox_of(request).resend.messages(to)
    selected = next((m for m in messages if m["id"] == id), None)
    if id and selected is None:
        raise NotFoundException("No such message")
    return Template(
        template_name="mail.html",
        context={"messages": messages, "selected": selected, "to": to or ""},
        headers={"Content-Security-Policy": MAIL_CSP},
    )


@get("/mail/api/messages")
async def mailbox_api(
    request: Request[Any, Any, Any], to: FromQuery[str | None] = None
) -> dict[str, Any]:
    return {"data": sandbox_of(request).resend.messages(to)}


@get("/")
async def index() -> Redirect:
    return Redirect("/mail")


pages_router = Router(path="/", route_handlers=[pay_page, pay_submit, mailbox, mailbox_api, index])
