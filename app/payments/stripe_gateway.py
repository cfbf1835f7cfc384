"""The only place that talks to Stripe: Checkout Sessions (payment links), PaymentIntents,
refunds and events, through the official SDK with timeouts, bounded retries (same
idempotency key on every attempt) and a log line per call carrying the order id."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import stripe
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from app.infra.logging import get_logger
from app.orders.models import TempOrder
from app.settings import Settings, get_settings

log = get_logger("orderpass.stripe")
T = TypeVar("T")
SNAPSHOT_LIMIT = 500  # Stripe caps each metadata value at 500 characters


class PaymentProviderError(Exception):
    """Stripe could not do what we asked, after the retries we allow."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def is_transient(error: BaseException) -> bool:
    """Worth retrying with the same idempotency key: network, rate limit, Stripe 5xx."""
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    if isinstance(error, stripe.StripeError):
        return error.http_status is None or error.http_status >= 500 or error.http_status == 409
    return False


def order_snapshot(order: TempOrder) -> str:
    """What we need to rebuild the order from Stripe if Redis lost it, within 500 chars.

    Line names, prices and quantities come back from Stripe's line items; the snapshot adds
    what Stripe does not keep: menu ids, per-line notes and fulfilment details."""
    snapshot: dict[str, Any] = {
        "f": order.fulfillment, "n": order.customer.name, "p": order.customer.phone,
        "a": order.delivery_address, "t": order.table_label, "o": order.notes,
        "c": int(order.created_at.timestamp()),
        "i": [[line.menu_item_id, line.quantity, line.notes] for line in order.lines],
    }
    if order.allergy or any(line.allergy for line in order.lines):  # never shed below
        snapshot["y"] = [order.allergy, [line.allergy for line in order.lines]]
    encoded = json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False)
    # Shed free text, longest first, until it fits; prices never depend on it.
    while len(encoded) > SNAPSHOT_LIMIT:
        if snapshot["o"]:
            snapshot["o"] = snapshot["o"][: len(snapshot["o"]) // 2]
        elif any(item[2] for item in snapshot["i"]):
            longest = max(snapshot["i"], key=lambda item: len(item[2]))
            longest[2] = longest[2][: len(longest[2]) // 2]
        elif snapshot["a"]:
            snapshot["a"] = snapshot["a"][: len(snapshot["a"]) // 2]
        else:
            snapshot["i"] = [[item[0], item[1], ""] for item in snapshot["i"]][:40]
            encoded = json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False)
            break
        encoded = json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False)
    return encoded


def metadata_of(obj: Any) -> dict[str, str]:
    """A Stripe object's metadata as a plain dict (StripeObject is not a dict in v16)."""
    metadata = getattr(obj, "metadata", None)
    if metadata is None:
        return {}
    return {str(key): str(value) for key, value in metadata.to_dict().items()}


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

    async def _call(self, what: str, order_ref: str, call: Callable[[], Awaitable[T]]) -> T:
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.max_seconds),
            wait=wait_random_exponential(multiplier=0.2, max=2.0),
            reraise=True,
        )
        attempt = 0
        try:
            async for attempt_state in retrying:
                with attempt_state:
                    attempt = attempt_state.retry_state.attempt_number
                    result = await call()
                    log.info("stripe call", call=what, order_id=order_ref, attempt=attempt)
                    return result
        except stripe.StripeError as error:
            log.warning("stripe call failed", call=what, order_id=order_ref, attempt=attempt,
                        status=error.http_status, error=str(error.user_message or error)[:300])
            raise PaymentProviderError(f"{what}: {error.user_message or error}",
                                       transient=is_transient(error)) from error
        raise AssertionError("unreachable")  # pragma: no cover

    # -- Checkout Sessions (payment links) ----------------------------------------------

    async def create_checkout_session(self, order: TempOrder, expires_at: datetime,
                                      *, idempotency_key: str) -> PaymentLink:
        status_url = f"{self.public_base_url}/orders/{order.id}"
        params: dict[str, Any] = {
            "mode": "payment",
            "currency": order.currency,
            "customer_email": order.customer.email,
            "client_reference_id": order.id,
            "expires_at": int(expires_at.timestamp()),
            "success_url": status_url + "?checkout=success&session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": status_url + "?checkout=cancelled",
            "metadata": {"temp_order_id": order.id, "restaurant": order.restaurant_slug,
                         "snapshot": order_snapshot(order)},
            "payment_intent_data": {
                "capture_method": "manual" if order.capture_mode == "manual" else "automatic",
                "metadata": {"temp_order_id": order.id, "restaurant": order.restaurant_slug},
            },
            "line_items": [
                {"quantity": line.quantity,
                 "price_data": {"currency": order.currency, "unit_amount": line.unit_amount,
                                "product_data": {"name": line.name}}}
                for line in order.lines
            ],
        }
        # A raw request (same SDK: auth, idempotency key, error mapping): turning the whole
        # session into StripeObjects cost half of this call's CPU, for three fields we read.
        response = await self._call(
            "checkout.sessions.create", order.id,
            lambda: self.client.raw_request_async(
                "post", "/v1/checkout/sessions", idempotency_key=idempotency_key, **params))
        return PaymentLink(id=response.data["id"], url=response.data["url"],
                           expires_at=int(response.data["expires_at"]))

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
                                     limit: int = 100) -> stripe.ListObject[
                                         stripe.checkout.Session]:
        params: dict[str, Any] = {"limit": limit, "created": {"gte": created_gte}}
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
        return await self._call(
            "payment_intents.cancel", order_ref,
            lambda: self.client.v1.payment_intents.cancel_async(
                payment_intent_id, options={"idempotency_key": idempotency_key}))

    async def refund_payment_intent(self, payment_intent_id: str, *,
                                    idempotency_key: str, order_ref: str = ""
                                    ) -> stripe.Refund:
        return await self._call(
            "refunds.create", order_ref,
            lambda: self.client.v1.refunds.create_async(
                params={"payment_intent": payment_intent_id},
                options={"idempotency_key": idempotency_key}))

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
