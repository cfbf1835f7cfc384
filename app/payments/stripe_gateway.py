"""The only place that talks to Stripe: Checkout Sessions (payment links), PaymentIntents,
refunds and events, through the official SDK with timeouts, bounded retries (same
idempotency key on every attempt) and a log line per call carrying the order id."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import stripe

from app.infra.logging import get_logger
from app.orders.models import TempOrder
from app.payments import snapshot
from app.settings import Settings, get_settings

log = get_logger("orderpass.stripe")
T = TypeVar("T")


def _skip_unlogged_sdk_lines() -> None:
    """The SDK formats its log lines for every request (logfmt, a regex per field, over the
    whole response body for its debug line) before its logger decides to drop them, and we
    keep the `stripe` logger at WARNING (app/infra/logging.py): 2-3 % of the web's CPU at
    intake for lines nobody sees. Its request module's two log functions now ask first;
    with the logger (or STRIPE_LOG / `stripe.log`) at that level, they log as before. These
    are the SDK's internals: a version without them keeps its own behaviour."""
    from stripe import _api_requestor, _util

    if not (all(hasattr(_api_requestor, name) for name in ("log_debug", "log_info"))
            and all(hasattr(_util, name) for name in ("log_debug", "log_info", "logger",
                                                      "_console_log_level"))):
        return

    def guarded(original: Callable[..., None], level: int) -> Callable[..., None]:
        def log_line(message: str, **params: Any) -> None:
            if _util.logger.isEnabledFor(level) or _util._console_log_level() is not None:
                original(message, **params)
        return log_line

    _api_requestor.log_debug = guarded(_util.log_debug, logging.DEBUG)
    _api_requestor.log_info = guarded(_util.log_info, logging.INFO)


_skip_unlogged_sdk_lines()


class PaymentProviderError(Exception):
    """Stripe could not do what we asked, after the retries we allow. `code` and `param` are
    Stripe's (e.g. `amount_too_small`, `expires_at`); `http_status` None for network errors."""

    def __init__(self, message: str, *, transient: bool, code: str = "", param: str = "",
                 http_status: int | None = None, error_type: str = "") -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code
        self.param = param
        self.http_status = http_status
        self.error_type = error_type

    def told(self) -> str:
        """The failure as an owner or on-call reads it: Stripe out of reach (try again; the
        idempotency key makes the retry the same request) told apart from Stripe's refusal
        (trying again changes nothing)."""
        if self.transient:
            return f"Stripe could not be reached ({self}); try again in a minute"
        return f"Stripe refused: {self}"


def is_transient(error: BaseException) -> bool:
    """Worth retrying with the same idempotency key: network, rate limit, Stripe 5xx."""
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    if isinstance(error, stripe.StripeError):
        return error.http_status is None or error.http_status >= 500 or error.http_status == 409
    return False


def already_canceled(error: stripe.StripeError) -> stripe.PaymentIntent | None:
    """The PaymentIntent when Stripe refused to cancel it because it is canceled already (a
    hold that lapsed after 7 days, one released in the dashboard, our own void whose answer
    was lost): 400 `payment_intent_unexpected_state`, the intent in the error. That is the
    outcome a cancel asks for, not a failure. None for any other error."""
    details = error.error
    intent = getattr(details, "payment_intent", None) if details is not None else None
    if (error.http_status == 400 and intent is not None
            and getattr(details, "code", None) == "payment_intent_unexpected_state"
            and getattr(intent, "status", None) == "canceled"):
        return intent
    return None


def provider_error(what: str, error: stripe.StripeError) -> PaymentProviderError:
    details = error.error
    return PaymentProviderError(
        f"{what}: {error.user_message or error}", transient=is_transient(error),
        code=str(getattr(details, "code", "") or error.code or ""),
        param=str(getattr(details, "param", "") or ""), http_status=error.http_status,
        error_type=str(getattr(details, "type", "") or ""))


def session_metadata(order: TempOrder) -> dict[str, str]:
    """The session's metadata: the order's id and restaurant, and its full snapshot."""
    return {"temp_order_id": order.id, "restaurant": order.restaurant_slug,
            **snapshot.encode(order)}


def metadata_of(obj: Any) -> dict[str, str]:
    """A Stripe object's metadata as a plain dict (StripeObject is not a dict in v16)."""
    metadata = getattr(obj, "metadata", None)
    if metadata is None:
        return {}
    return {str(key): str(value) for key, value in metadata.to_dict().items()}


def temp_order_ref(session: Any) -> str:
    """The temp order id a Checkout Session names: our metadata, else its reference ('' for
    one that names none; a field left out of an event's object is not an error here)."""
    return (metadata_of(session).get("temp_order_id")
            or getattr(session, "client_reference_id", None) or "")


TIP_LINE = "Tip"


def vat_line_name(rate: str) -> str:
    return f"VAT {rate}%"


def line_items(order: TempOrder) -> list[dict[str, Any]]:
    """The session's lines: the items at their menu prices; when tax is added at checkout,
    one "VAT <rate>%" line per rate carrying that rate's tax (computed per rate, so Stripe's
    total is ours to the cent: a gross unit price per item could not be, as a line's tax
    need not divide by its quantity); then the tip, a line of its own (no VAT). Rebuild
    (app/payments/rebuild.py) reads them back in this order."""
    def line(name: str, unit_amount: int, quantity: int = 1) -> dict[str, Any]:
        return {"quantity": quantity,
                "price_data": {"currency": order.currency, "unit_amount": unit_amount,
                               "product_data": {"name": name}}}

    items = [line(snapshot.line_name(item), item.unit_amount, item.quantity)
             for item in order.lines]
    totals = order.totals
    if totals.added:
        items += [line(vat_line_name(rate.label), rate.tax)
                  for rate in totals.taxed_rates if rate.tax]
    if order.tip_amount:
        items.append(line(TIP_LINE, order.tip_amount))
    return items


@dataclass(frozen=True)
class PaymentLink:
    """What intake keeps of a new Checkout Session."""

    id: str
    url: str
    expires_at: int  # Unix seconds


class StripeGateway:
    def __init__(self, settings: Settings, *, attempts: int = 3, max_seconds: float = 12.0):
        base = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
        # The SDK's aiohttp transport: a third less CPU per call than its httpx one, and a
        # payment link is created on every order (the intake benchmark's largest cost).
        self.http_client = stripe.AIOHTTPClient(timeout=settings.stripe_timeout_seconds)
        self.client = stripe.StripeClient(
            api_key=settings.stripe_secret_key,
            base_addresses=base,  # type: ignore[arg-type]
            http_client=self.http_client,
            max_network_retries=0,  # retries are ours (below), visible and logged
        )
        self.public_base_url = settings.public_base_url.rstrip("/")
        self.attempts = attempts
        self.max_seconds = max_seconds

    async def _call(self, what: str, order_ref: str, call: Callable[[], Awaitable[T]],
                    done: Callable[[stripe.StripeError], T | None] | None = None) -> T:
        """`call()`, retried with the same request (so the same idempotency key) while Stripe's
        answer is transient, up to `attempts` tries and `max_seconds`, with full-jitter
        exponential backoff (0.2 s, 0.4 s, … at most 2 s). A plain loop: tenacity's machinery
        cost more than the rest of this wrapper on every call, and nearly every call succeeds
        at its first try. `done(error)`: what a refusal that means the goal is reached already
        answers instead (an info line, not a warning); None for a real failure."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await call()
            except stripe.StripeError as error:
                reached = done(error) if done is not None else None
                if reached is not None:
                    log.info("stripe call refused: done already", call=what, order_id=order_ref,
                             attempt=attempt, status=error.http_status,
                             code=str(error.code or ""))
                    return reached
                if (is_transient(error) and attempt < self.attempts
                        and time.monotonic() - started < self.max_seconds):
                    backoff = min(2.0, 0.2 * 2 ** (attempt - 1))
                    await asyncio.sleep(random.uniform(0, backoff))
                    continue
                log.warning("stripe call failed", call=what, order_id=order_ref,
                            attempt=attempt, status=error.http_status,
                            error=str(error.user_message or error)[:300])
                raise provider_error(what, error) from error
            log.info("stripe call", call=what, order_id=order_ref, attempt=attempt)
            return result

    # -- Checkout Sessions (payment links) ----------------------------------------------

    async def create_checkout_session(self, order: TempOrder, expires_at: datetime,
                                      *, idempotency_key: str) -> PaymentLink:
        status_url = f"{self.public_base_url}/orders/{order.id}"
        try:
            metadata = session_metadata(order)
        except snapshot.SnapshotTooLarge as error:  # what Stripe would refuse: fail as it would
            raise PaymentProviderError(str(error), transient=False, code="metadata_too_large",
                                       param="metadata") from error
        params: dict[str, Any] = {
            "mode": "payment",
            "currency": order.currency,
            "customer_email": order.customer.email,
            "client_reference_id": order.id,
            "expires_at": int(expires_at.timestamp()),
            "success_url": status_url + "?checkout=success&session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": status_url + "?checkout=cancelled",
            "metadata": metadata,
            "payment_intent_data": {
                "capture_method": "manual" if order.capture_mode == "manual" else "automatic",
                "metadata": {"temp_order_id": order.id, "restaurant": order.restaurant_slug},
            },
            "line_items": line_items(order),
            # Stripe's hosted page in the diner's language (the line names stay as the
            # order's snapshot and a rebuild compare them).
            "locale": order.language,
        }
        # A raw request (same SDK: auth, idempotency key, error mapping): turning the whole
        # session into StripeObjects cost half of this call's CPU, for three fields we read.
        response = await self._call(
            "checkout.sessions.create", order.id,
            lambda: self.client.raw_request_async(
                "post", "/v1/checkout/sessions", idempotency_key=idempotency_key, **params))
        return PaymentLink(id=response.data["id"], url=response.data["url"],
                           expires_at=int(response.data["expires_at"]))

    async def find_open_sessions(self, order_ref: str, *, created_gte: int
                                 ) -> list[PaymentLink]:
        """Open sessions created at or after `created_gte` for the order (newest first):
        what a request whose answer was lost may have created."""
        found: list[PaymentLink] = []
        starting_after: str | None = None
        while True:
            page = await self.list_checkout_sessions(created_gte=created_gte,
                                                     starting_after=starting_after,
                                                     status="open")
            for session in page.data:
                if (temp_order_ref(session) == order_ref and session.status == "open"
                        and session.url):
                    found.append(PaymentLink(id=session.id, url=session.url,
                                             expires_at=int(session.expires_at)))
            if not page.has_more or not page.data:
                return found
            starting_after = page.data[-1].id

    async def retrieve_checkout_session(self, session_id: str, *,
                                        order_ref: str = "") -> stripe.checkout.Session:
        return await self._call(
            "checkout.sessions.retrieve", order_ref,
            lambda: self.client.v1.checkout.sessions.retrieve_async(session_id))

    async def list_line_items(self, session_id: str, *,
                              order_ref: str = "") -> list[stripe.LineItem]:
        items: list[stripe.LineItem] = []
        starting_after: str | None = None
        while True:
            page = await self._line_item_page(session_id, starting_after, order_ref)
            items.extend(page.data)
            if not page.has_more or not page.data:
                return items
            starting_after = page.data[-1].id

    async def _line_item_page(self, session_id: str, starting_after: str | None,
                              order_ref: str) -> stripe.ListObject[stripe.LineItem]:
        params: dict[str, Any] = {"limit": 100}
        if starting_after:
            params["starting_after"] = starting_after
        return await self._call(
            "checkout.sessions.line_items.list", order_ref,
            lambda: self.client.v1.checkout.sessions.line_items.list_async(
                session_id, params=params))  # type: ignore[arg-type]

    async def expire_checkout_session(self, session_id: str, *,
                                      order_ref: str) -> stripe.checkout.Session:
        return await self._call(
            "checkout.sessions.expire", order_ref,
            lambda: self.client.v1.checkout.sessions.expire_async(
                session_id, options={"idempotency_key": f"expire/{session_id}"}))

    async def list_checkout_sessions(self, *, created_gte: int,
                                     starting_after: str | None = None,
                                     limit: int = 100, status: str | None = None
                                     ) -> stripe.ListObject[stripe.checkout.Session]:
        params: dict[str, Any] = {"limit": limit, "created": {"gte": created_gte}}
        if status:
            params["status"] = status
        if starting_after:
            params["starting_after"] = starting_after
        return await self._call(
            "checkout.sessions.list", "",
            lambda: self.client.v1.checkout.sessions.list_async(
                params=params))  # type: ignore[arg-type]

    # -- PaymentIntents and refunds -------------------------------------------------------

    async def capture_payment_intent(self, payment_intent_id: str, *,
                                     idempotency_key: str, order_ref: str = ""
                                     ) -> stripe.PaymentIntent:
        return await self._call(
            "payment_intents.capture", order_ref,
            lambda: self.client.v1.payment_intents.capture_async(
                payment_intent_id, options={"idempotency_key": idempotency_key}))

    async def cancel_payment_intent(self, payment_intent_id: str, *,
                                    idempotency_key: str, order_ref: str = ""
                                    ) -> stripe.PaymentIntent:
        """The canceled intent; also when it was canceled already (`already_canceled`)."""
        return await self._call(
            "payment_intents.cancel", order_ref,
            lambda: self.client.v1.payment_intents.cancel_async(
                payment_intent_id, options={"idempotency_key": idempotency_key}),
            done=already_canceled)

    async def refund_payment_intent(self, payment_intent_id: str, *,
                                    idempotency_key: str, order_ref: str = "",
                                    amount: int | None = None) -> stripe.Refund:
        """Refund (all that remains, or `amount`); metadata names the key, so a refund made
        by a request whose answer was lost can be recognised among the intent's refunds."""
        params: dict[str, Any] = {"payment_intent": payment_intent_id,
                                  "metadata": {"orderpass_key": idempotency_key,
                                               "temp_order_id": order_ref}}
        if amount is not None:
            params["amount"] = amount
        return await self._call(
            "refunds.create", order_ref,
            lambda: self.client.v1.refunds.create_async(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key}))

    async def list_refunds(self, payment_intent_id: str, *,
                           order_ref: str = "") -> list[stripe.Refund]:
        """Every refund of the intent (newest first; an order has a handful at most)."""
        refunds: list[stripe.Refund] = []
        starting_after: str | None = None
        while True:
            page = await self._refund_page(payment_intent_id, starting_after, order_ref)
            refunds.extend(page.data)
            if not page.has_more or not page.data:
                return refunds
            starting_after = page.data[-1].id

    async def _refund_page(self, payment_intent_id: str, starting_after: str | None,
                           order_ref: str) -> stripe.ListObject[stripe.Refund]:
        params: dict[str, Any] = {"payment_intent": payment_intent_id, "limit": 100}
        if starting_after:
            params["starting_after"] = starting_after
        return await self._call(
            "refunds.list", order_ref,
            lambda: self.client.v1.refunds.list_async(params=params))  # type: ignore[arg-type]

    async def retrieve_dispute(self, dispute_id: str, *, order_ref: str = "") -> stripe.Dispute:
        return await self._call(
            "disputes.retrieve", order_ref,
            lambda: self.client.v1.disputes.retrieve_async(dispute_id))

    async def retrieve_charge(self, charge_id: str, *, order_ref: str = "") -> stripe.Charge:
        return await self._call(
            "charges.retrieve", order_ref,
            lambda: self.client.v1.charges.retrieve_async(charge_id))

    async def retrieve_payment_intent(self, payment_intent_id: str, *,
                                      order_ref: str = "") -> stripe.PaymentIntent:
        return await self._call(
            "payment_intents.retrieve", order_ref,
            lambda: self.client.v1.payment_intents.retrieve_async(payment_intent_id))

    async def retrieve_event(self, event_id: str) -> stripe.Event:
        """One event by id (admin replay: the stored event is Stripe's, not a request's)."""
        return await self._call(
            "events.retrieve", "",
            lambda: self.client.v1.events.retrieve_async(event_id))

    async def list_undelivered_events(self, *, created_gte: int,
                                      starting_after: str | None = None
                                      ) -> stripe.ListObject[stripe.Event]:
        params: dict[str, Any] = {"limit": 100, "delivery_success": False,
                                  "created": {"gte": created_gte}}
        if starting_after:
            params["starting_after"] = starting_after
        return await self._call(
            "events.list", "",
            lambda: self.client.v1.events.list_async(params=params))  # type: ignore[arg-type]


_gateway: tuple[asyncio.AbstractEventLoop | None, StripeGateway] | None = None


def get_gateway() -> StripeGateway:
    """The process's gateway for the running event loop (its HTTP session belongs to one
    loop; a process that runs a second loop, e.g. a CLI command, gets a fresh one)."""
    global _gateway
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if _gateway is None or _gateway[0] is not loop:
        _gateway = (loop, StripeGateway(get_settings()))
    return _gateway[1]


async def close_gateway() -> None:
    """Close the gateway's HTTP session (web and worker shutdown)."""
    global _gateway
    if _gateway is not None:
        gateway, _gateway = _gateway[1], None
        with contextlib.suppress(Exception):
            await gateway.http_client.close_async()


def reset_gateway() -> None:
    """Forget the gateway, e.g. after the settings changed (tests)."""
    global _gateway
    _gateway = None
