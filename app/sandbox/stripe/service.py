"""The Stripe stand-in's behaviour: Checkout Sessions, PaymentIntents, refunds and events.

Mirrors Stripe's state machine (API version 2022-08-01 and later: a Session's PaymentIntent
is created when the customer confirms payment, not when the Session is created).

Manual capture: paying authorises the card; the PaymentIntent is `requires_capture`, and the
Session completes with `status="complete"` and, by default, `payment_status="paid"` (Checkout
treats a successful authorisation as paid; there is no later Checkout event when you capture).
Stripe's documentation can also be read as `"unpaid"` until capture: the config field
`manual_capture_payment_status` chooses the reading, so clients are tested against both.

Errors raised with `state_error` are found while executing (the object's state refuses the
request); the routes save those under the idempotency key, parameter errors they do not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from app.sandbox.clock import SandboxClock
from app.sandbox.ids import checkout_session_id, stripe_id
from app.sandbox.store import Store
from app.sandbox.stripe import objects
from app.sandbox.stripe.errors import StripeError, missing, state_error
from app.sandbox.stripe.forms import (
    check_known,
    coerce_bool,
    coerce_int,
    coerce_str_map,
    in_range,
    range_filter,
)
from app.sandbox.stripe.minimums import maximum_charge, minimum_charge, shown

Outcome = Literal["succeeded", "declined", "async_succeeded", "async_failed"]
OUTCOMES: tuple[str, ...] = ("succeeded", "declined", "async_succeeded", "async_failed")

MIN_EXPIRY_S = 30 * 60  # measured from the request's arrival, with no grace (as Stripe)
MAX_EXPIRY_S = 24 * 60 * 60
# Stripe cancels an uncaptured online card authorisation 7 days after it was made
# (`cancellation_reason="expired"`; "automatic" before API version 2025-03-31.basil); a
# capture after that is refused.
HOLD_LIFETIME_S = 7 * 24 * 60 * 60
SESSION_PARAMS = {
    "mode", "line_items", "currency", "customer_email", "client_reference_id", "metadata",
    "expires_at", "success_url", "cancel_url", "payment_intent_data", "payment_method_types",
    "locale", "expand", "submit_type", "ui_mode", "billing_address_collection",
}  # fmt: skip
PI_DATA_PARAMS = {
    "capture_method", "metadata", "description", "receipt_email", "statement_descriptor",
    "statement_descriptor_suffix", "setup_future_usage",
}  # fmt: skip
PRIVATE = "session_private"


class StripeService:
    def __init__(
        self,
        store: Store,
        clock: SandboxClock,
        public_url: str,
        publish: Callable[[dict[str, Any]], bool],
        async_delay: Callable[[], float],
        manual_paid_status: Callable[[], str] = lambda: "paid",
    ) -> None:
        self.store = store
        self.clock = clock
        self.public_url = public_url.rstrip("/")
        self._publish = publish  # queues an event for delivery; False if no endpoint
        self._async_delay = async_delay
        self._manual_paid_status = manual_paid_status  # "paid" | "unpaid" (see module doc)

    # -- helpers ---------------------------------------------------------------------------
    def _get(self, kind: str, obj_id: str, param: str) -> dict[str, Any]:
        obj = self.store.get(kind, obj_id)
        if obj is None:
            raise missing(kind, obj_id, param)
        return obj

    def emit(
        self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> None:
        evt = objects.event(
            event_type=event_type,
            obj=obj,
            created=self.clock.now_int(),
            pending_webhooks=0,
            previous_attributes=previous,
        )
        self.store.put("event", evt)
        if self._publish(evt):
            evt["pending_webhooks"] = 1
            self.store.put("event", evt)

    def mark_delivered(self, event_id: str) -> None:
        evt = self.store.get("event", event_id)
        if evt is not None:
            evt["pending_webhooks"] = 0
            self.store.put("event", evt)

    @staticmethod
    def paginate(items: list[dict[str, Any]], query: dict[str, Any], url: str) -> dict[str, Any]:
        limit = coerce_int(query.get("limit", 10), "limit")
        if not 1 <= limit <= 100:
            raise StripeError("Invalid limit: must be between 1 and 100", param="limit")
        ids = [item["id"] for item in items]
        if "starting_after" in query:
            cursor = query["starting_after"]
            if cursor not in ids:
                raise StripeError(
                    f"Invalid starting_after id: {cursor}", param="starting_after", status=400
                )
            items = items[ids.index(cursor) + 1 :]
        elif "ending_before" in query:
            cursor = query["ending_before"]
            if cursor not in ids:
                raise StripeError(
                    f"Invalid ending_before id: {cursor}", param="ending_before", status=400
                )
            items = items[: ids.index(cursor)][-limit:]
        return objects.list_object(url, items[:limit], has_more=len(items) > limit)

    # -- checkout sessions -----------------------------------------------------------------
    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        check_known(params, SESSION_PARAMS)
        mode = params.get("mode")
        if mode is None:
            raise StripeError("Missing required param: mode.", param="mode")
        if mode != "payment":
            raise StripeError(f"The sandbox supports mode=payment only (got {mode}).", param="mode")
        if params.get("ui_mode", "hosted_page") != "hosted_page":
            raise StripeError(
                f"Invalid ui_mode: {params['ui_mode']}. The sandbox supports hosted_page only.",
                param="ui_mode",
            )
        if not params.get("success_url"):
            raise StripeError(
                "You must provide a success_url when ui_mode is hosted.", param="success_url"
            )
        items = params.get("line_items")
        if not items:
            raise StripeError(
                "You must provide at least one line item in payment mode.", param="line_items"
            )
        if not isinstance(items, list):
            raise StripeError("Invalid array", param="line_items")
        now = self.clock.now_int()
        currency = str(params.get("currency") or "").lower()
        normalized: list[dict[str, Any]] = []
        for i, item in enumerate(items):
            normalized.append(self._line_item(item, i))
            item_currency = normalized[-1]["price_data"]["currency"]
            if currency and item_currency != currency:
                raise StripeError(
                    "All line items must have the same currency as the Checkout Session.",
                    param=f"line_items[{i}][price_data][currency]",
                )
            currency = item_currency
        expires_at = now + MAX_EXPIRY_S
        if "expires_at" in params:
            expires_at = coerce_int(params["expires_at"], "expires_at")
            if expires_at - now > MAX_EXPIRY_S:
                raise StripeError(
                    "The `expires_at` timestamp must be less than 24 hours from Checkout "
                    "Session creation.",
                    param="expires_at",
                )
            if expires_at - self.clock.now() < MIN_EXPIRY_S:
                raise StripeError(
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                    "Session creation.",
                    param="expires_at",
                )
        pi_data = params.get("payment_intent_data") or {}
        if not isinstance(pi_data, dict):
            raise StripeError("Invalid hash", param="payment_intent_data")
        check_known(pi_data, PI_DATA_PARAMS, "payment_intent_data")
        capture_method = pi_data.get("capture_method", "automatic")
        if capture_method not in ("automatic", "automatic_async", "manual"):
            raise StripeError(
                "Invalid payment_intent_data[capture_method]: must be one of automatic, "
                "automatic_async, or manual",
                param="payment_intent_data[capture_method]",
            )
        public = {
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "customer_email": params.get("customer_email"),
            "client_reference_id": params.get("client_reference_id"),
            "locale": params.get("locale"),
            "metadata": coerce_str_map(params.get("metadata", {}), "metadata"),
        }
        if public["client_reference_id"] and len(public["client_reference_id"]) > 200:
            raise StripeError(
                "Invalid client_reference_id: must be at most 200 characters",
                param="client_reference_id",
            )
        session_id = checkout_session_id()
        line_items = [objects.line_item(item, currency, now) for item in normalized]
        total = sum(li["amount_total"] for li in line_items)
        if total > maximum_charge(currency):
            raise StripeError(
                "The Checkout Session's total amount due must be no more than "
                f"{shown(maximum_charge(currency), currency)}",
                code="amount_too_large",
                param="line_items",
            )
        if total < minimum_charge(currency):
            raise StripeError(
                "The Checkout Session's total amount due must add up to at least "
                f"{shown(minimum_charge(currency), currency)}",
                code="amount_too_small",
                param="line_items",
            )
        session = objects.checkout_session(
            session_id=session_id,
            created=now,
            expires_at=expires_at,
            currency=currency,
            amount_total=total,
            params=public,
            url=f"{self.public_url}/pay/{session_id}",
        )
        self.store.put("checkout.session", session)
        self.store.put(
            PRIVATE,
            {
                "id": session_id,
                "line_items": line_items,
                "pi_data": {
                    "capture_method": capture_method,
                    "metadata": coerce_str_map(
                        pi_data.get("metadata", {}), "payment_intent_data[metadata]"
                    ),
                    "description": pi_data.get("description"),
                    "receipt_email": pi_data.get("receipt_email"),
                },
                "pending": None,
            },
        )
        return session

    def _line_item(self, item: Any, i: int) -> dict[str, Any]:
        base = f"line_items[{i}]"
        if not isinstance(item, dict):
            raise StripeError("Invalid hash", param=base)
        check_known(item, {"price_data", "quantity", "price", "adjustable_quantity"}, base)
        if "price" in item:
            raise StripeError(
                f"No such price: '{item['price']}'",
                status=400,
                code="resource_missing",
                param=f"{base}[price]",
            )
        pd = item.get("price_data")
        if not isinstance(pd, dict):
            raise StripeError(
                "You must specify either `price` or `price_data` for each line item.",
                param=base,
            )
        check_known(
            pd,
            {
                "currency",
                "unit_amount",
                "unit_amount_decimal",
                "product",
                "product_data",
                "tax_behavior",
            },
            f"{base}[price_data]",
        )
        if not pd.get("currency"):
            raise StripeError(
                "Missing required param: currency.", param=f"{base}[price_data][currency]"
            )
        if "unit_amount" not in pd:
            raise StripeError(
                "Missing required param: unit_amount.", param=f"{base}[price_data][unit_amount]"
            )
        unit_amount = coerce_int(pd["unit_amount"], f"{base}[price_data][unit_amount]")
        if unit_amount < 0:
            raise StripeError(
                "This value must be greater than or equal to 0.",
                param=f"{base}[price_data][unit_amount]",
            )
        product_data = pd.get("product_data") or {}
        if not pd.get("product") and not product_data.get("name"):
            raise StripeError(
                "Missing required param: product_data[name].",
                param=f"{base}[price_data][product_data][name]",
            )
        quantity = coerce_int(item.get("quantity", 1), f"{base}[quantity]")
        if quantity < 1:
            raise StripeError(
                "This value must be greater than or equal to 1.", param=f"{base}[quantity]"
            )
        return {
            "price_data": {
                "currency": str(pd["currency"]).lower(),
                "unit_amount": unit_amount,
                "product": pd.get("product"),
                "product_data": product_data,
            },
            "quantity": quantity,
        }

    def get_session(self, session_id: str) -> dict[str, Any]:
        return self._get("checkout.session", session_id, "session")

    def line_items_of(self, session_id: str) -> list[dict[str, Any]]:
        self.get_session(session_id)
        private = self._get(PRIVATE, session_id, "session")
        return list(private["line_items"])

    def list_line_items(self, session_id: str, query: dict[str, Any]) -> dict[str, Any]:
        check_known(query, {"limit", "starting_after", "ending_before", "expand"})
        url = f"/v1/checkout/sessions/{session_id}/line_items"
        return self.paginate(self.line_items_of(session_id), query, url)

    def list_sessions(self, query: dict[str, Any]) -> dict[str, Any]:
        check_known(
            query,
            {
                "limit",
                "starting_after",
                "ending_before",
                "created",
                "status",
                "payment_intent",
                "customer",
                "customer_details",
                "payment_link",
                "subscription",
                "expand",
            },
        )
        items = list(self.store.all("checkout.session"))
        if "created" in query:
            flt = range_filter(query["created"], "created")
            items = [s for s in items if in_range(s["created"], flt)]
        if "status" in query:
            if query["status"] not in ("open", "complete", "expired"):
                raise StripeError(
                    "Invalid status: must be one of open, complete, or expired", param="status"
                )
            items = [s for s in items if s["status"] == query["status"]]
        if "payment_intent" in query:
            items = [s for s in items if s["payment_intent"] == query["payment_intent"]]
        return self.paginate(items, query, "/v1/checkout/sessions")

    def expire_session(self, session_id: str) -> dict[str, Any]:
        session = self.get_session(session_id)
        if session["status"] != "open":
            raise state_error(
                f'Only Checkout Sessions with a status in ["open"] can be expired. This '
                f'Checkout Session has a status of "{session["status"]}".',
                param="session",
            )
        return self._expire(session)

    def _expire(self, session: dict[str, Any]) -> dict[str, Any]:
        session["status"] = "expired"
        session["url"] = None
        if session["payment_intent"]:
            pi = self._get("payment_intent", session["payment_intent"], "payment_intent")
            if pi["status"] not in ("succeeded", "canceled", "requires_capture"):
                pi.update(
                    status="canceled",
                    canceled_at=self.clock.now_int(),
                    cancellation_reason="abandoned",
                )
                self.store.put("payment_intent", pi)
                self.emit("payment_intent.canceled", pi)
        self.store.put("checkout.session", session)
        self.emit("checkout.session.expired", session)
        return session

    def expire_due(self) -> int:
        """Expire every open Session past `expires_at` on the sandbox clock."""
        due = self.store.open_expired("checkout.session", self.clock.now_int())
        for session in due:
            self._expire(session)
        return len(due)

    # -- paying ----------------------------------------------------------------------------
    def pay(self, session_id: str, outcome: str) -> dict[str, Any]:
        """What the hosted page does when the customer pays (or the control API says so)."""
        if outcome not in OUTCOMES:
            raise StripeError(f"Unknown outcome: {outcome}", param="outcome")
        session = self.get_session(session_id)
        if session["status"] != "open":
            raise StripeError(
                f"This Checkout Session is no longer open (status: {session['status']}).",
                code="checkout_session_not_open",
                param="session",
            )
        private = self._get(PRIVATE, session_id, "session")
        pi = self._ensure_payment_intent(session, private)
        now = self.clock.now_int()
        email = session["customer_email"] or "customer@sandbox.test"
        pi["payment_method"] = stripe_id("pm")
        if outcome == "declined":
            pi.update(
                status="requires_payment_method",
                last_payment_error={
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                    "message": "Your card was declined.",
                    "type": "card_error",
                },
            )
            self.store.put("payment_intent", pi)
            self.emit("payment_intent.payment_failed", pi)
            return session
        session["customer_details"] = objects.customer_details(email)
        session["status"] = "complete"
        session["url"] = None
        pi["last_payment_error"] = None
        if outcome == "succeeded":
            manual = pi["capture_method"] == "manual"
            ch = objects.charge(pi, created=now, captured=not manual, email=email)
            self.store.put("charge", ch)
            pi["latest_charge"] = ch["id"]
            if manual:
                pi.update(status="requires_capture", amount_capturable=pi["amount"])
            else:
                pi.update(status="succeeded", amount_received=pi["amount"])
            session["payment_status"] = "paid" if not manual else self._manual_paid_status()
            self.store.put("payment_intent", pi)
            self.store.put("checkout.session", session)
            self.emit("charge.succeeded", ch)
            if manual:
                self.emit("payment_intent.amount_capturable_updated", pi)
            else:
                self.emit("payment_intent.succeeded", pi)
            self.emit("checkout.session.completed", session)
            return session
        # Delayed payment method: complete now, settle later (on the sandbox clock).
        pi.update(status="processing", processing={"type": "card"})
        session["payment_status"] = "unpaid"
        private["pending"] = {
            "outcome": outcome,
            "settle_at": self.clock.now() + self._async_delay(),
        }
        self.store.put(PRIVATE, private)
        self.store.put("payment_intent", pi)
        self.store.put("checkout.session", session)
        self.emit("payment_intent.processing", pi)
        self.emit("checkout.session.completed", session)
        return session

    def _ensure_payment_intent(
        self, session: dict[str, Any], private: dict[str, Any]
    ) -> dict[str, Any]:
        if session["payment_intent"]:
            return self._get("payment_intent", session["payment_intent"], "payment_intent")
        data = private["pi_data"]
        pi = objects.payment_intent(
            created=self.clock.now_int(),
            amount=session["amount_total"],
            currency=session["currency"],
            capture_method=data["capture_method"],
            metadata=data["metadata"],
            description=data["description"],
            receipt_email=data["receipt_email"],
        )
        self.store.put("payment_intent", pi)
        session["payment_intent"] = pi["id"]
        self.store.put("checkout.session", session)
        self.emit("payment_intent.created", pi)
        return pi

    def settle_due(self) -> int:
        """Settle delayed payments whose time has come on the sandbox clock."""
        now = self.clock.now()
        settled = 0
        for private in self.store.settle_due(PRIVATE, now):
            pending = private["pending"]
            private["pending"] = None
            self.store.put(PRIVATE, private)
            session = self.get_session(private["id"])
            pi = self._get("payment_intent", session["payment_intent"], "payment_intent")
            pi["processing"] = None
            if pending["outcome"] == "async_succeeded":
                ch = objects.charge(
                    pi, created=self.clock.now_int(), captured=True, email=session["customer_email"]
                )
                self.store.put("charge", ch)
                pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=ch["id"])
                session["payment_status"] = "paid"
                self.store.put("payment_intent", pi)
                self.store.put("checkout.session", session)
                self.emit("charge.succeeded", ch)
                self.emit("payment_intent.succeeded", pi)
                self.emit("checkout.session.async_payment_succeeded", session)
            else:
                pi.update(
                    status="requires_payment_method",
                    last_payment_error={
                        "code": "payment_method_provider_decline",
                        "message": "The payment was declined by the payment method provider.",
                        "type": "invalid_request_error",
                    },
                )
                self.store.put("payment_intent", pi)
                self.emit("payment_intent.payment_failed", pi)
                self.emit("checkout.session.async_payment_failed", session)
            settled += 1
        return settled

    # -- holds (manual capture) ------------------------------------------------------------
    def _hold_lapsed(self, pi: dict[str, Any]) -> bool:
        """An uncaptured authorisation past its life on the sandbox clock (counted from the
        charge, i.e. the authorisation, not the PaymentIntent's creation)."""
        if pi["status"] != "requires_capture" or not pi["latest_charge"]:
            return False
        charge = self.store.get("charge", pi["latest_charge"])
        authorised = charge["created"] if charge else pi["created"]
        return self.clock.now() - authorised >= HOLD_LIFETIME_S

    def _lapse(self, pi: dict[str, Any]) -> dict[str, Any]:
        """Cancel a lapsed hold as Stripe does: `charge.expired` then
        `payment_intent.canceled` with `cancellation_reason="expired"`. The charge is left as
        it was, uncaptured (see `cancel`: a released hold is not a refund)."""
        ch = self._get("charge", pi["latest_charge"], "charge")
        pi.update(status="canceled", canceled_at=self.clock.now_int(),
                  cancellation_reason="expired", amount_capturable=0)
        self.store.put("payment_intent", pi)
        self.emit("charge.expired", ch)
        self.emit("payment_intent.canceled", pi)
        return pi

    def expire_holds(self) -> int:
        """Cancel every hold past its life (the clock's loop, and at once when a test moves
        the clock; reads and captures also check the one they touch)."""
        lapsed = [pi for pi in self.store.with_status("payment_intent", "requires_capture")
                  if self._hold_lapsed(pi)]
        for pi in lapsed:
            self._lapse(pi)
        return len(lapsed)

    # -- payment intents -------------------------------------------------------------------
    def get_payment_intent(self, pi_id: str) -> dict[str, Any]:
        pi = self._get("payment_intent", pi_id, "intent")
        return self._lapse(pi) if self._hold_lapsed(pi) else pi

    def read_payment_intent(self, pi_id: str, query: dict[str, Any]) -> dict[str, Any]:
        """GET /v1/payment_intents/{id}: with `expand[]=latest_charge` the charge (as GET
        /v1/charges/{id} answers it) stands in place of its id. Other expansions are
        ignored (the id stays)."""
        check_known(query, {"expand", "client_secret"})
        pi = self.get_payment_intent(pi_id)
        expand = query.get("expand") or []
        if "latest_charge" in (expand if isinstance(expand, list) else [expand]) \
                and pi["latest_charge"]:
            return {**pi, "latest_charge": self.get_charge(pi["latest_charge"])}
        return pi

    def capture(self, pi_id: str, params: dict[str, Any]) -> dict[str, Any]:
        check_known(params, {"amount_to_capture", "metadata", "expand", "final_capture"})
        pi = self.get_payment_intent(pi_id)
        if pi["status"] != "requires_capture":
            raise state_error(
                "This PaymentIntent could not be captured because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses may "
                "be captured: requires_capture.",
                code="payment_intent_unexpected_state",
                param="intent",
                extra={"payment_intent": pi},
            )
        amount = coerce_int(params.get("amount_to_capture", pi["amount"]), "amount_to_capture")
        if not 0 < amount <= pi["amount_capturable"]:
            raise StripeError(
                "The amount_to_capture must be less than or equal to the amount_capturable.",
                param="amount_to_capture",
            )
        if amount < minimum_charge(pi["currency"]):
            raise StripeError(
                f"Amount must be at least {shown(minimum_charge(pi['currency']), pi['currency'])}",
                code="amount_too_small",
                param="amount_to_capture",
            )
        ch = self._get("charge", pi["latest_charge"], "charge")
        ch.update(captured=True, amount_captured=amount, balance_transaction=stripe_id("txn"))
        pi.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self.store.put("charge", ch)
        self.store.put("payment_intent", pi)
        self.emit("charge.captured", ch)
        self.emit("payment_intent.succeeded", pi)
        return pi

    def cancel(self, pi_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Cancel (void) a PaymentIntent. An uncaptured hold is released: since API version
        2025-03-31.basil Stripe creates no Refund for it, and its charge keeps
        `captured: false`, `amount_captured: 0`, `amount_refunded: 0`, `refunded: false`
        (no `charge.refunded` either; only `payment_intent.canceled`). The charge is left as
        it was. Refused for a finished intent, the intent in the error (as Stripe's
        `payment_intent_unexpected_state` errors carry it)."""
        check_known(params, {"cancellation_reason", "expand"})
        pi = self.get_payment_intent(pi_id)
        if pi["status"] in ("succeeded", "canceled"):
            raise state_error(
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses may be "
                "canceled: requires_payment_method, requires_capture, requires_confirmation, "
                "requires_action, processing.",
                code="payment_intent_unexpected_state",
                param="intent",
                extra={"payment_intent": pi},
            )
        reason = params.get("cancellation_reason", "requested_by_customer")
        pi.update(
            status="canceled",
            canceled_at=self.clock.now_int(),
            cancellation_reason=reason,
            amount_capturable=0,
        )
        self.store.put("payment_intent", pi)
        self.emit("payment_intent.canceled", pi)
        return pi

    # -- refunds ---------------------------------------------------------------------------
    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        check_known(
            params,
            {
                "payment_intent",
                "charge",
                "amount",
                "reason",
                "metadata",
                "expand",
                "instructions_email",
            },
        )
        if "payment_intent" in params:
            pi = self._get("payment_intent", params["payment_intent"], "payment_intent")
            if pi["status"] != "succeeded" or not pi["latest_charge"]:
                raise state_error(
                    f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                    code="charge_not_refundable" if pi["latest_charge"] else None,
                    param="payment_intent",
                )
            ch = self._get("charge", pi["latest_charge"], "charge")
        elif "charge" in params:
            ch = self._get("charge", params["charge"], "charge")
        else:
            raise StripeError(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
            )
        if not ch["captured"]:
            raise state_error(
                f"Charge {ch['id']} has not been captured; cancel the PaymentIntent instead.",
                code="charge_not_refundable",
            )
        remaining = ch["amount_captured"] - ch["amount_refunded"]
        amount = coerce_int(params.get("amount", remaining), "amount")
        if remaining <= 0:
            raise state_error(
                f"Charge {ch['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if ch["disputed"] and not self._inquiry_open(ch["id"]):
            raise state_error(
                f"Charge {ch['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )
        if amount <= 0:
            raise StripeError("Invalid positive integer", param="amount")
        if amount > remaining:
            raise state_error(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining})",
                param="amount",
            )
        if params.get("reason") not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise StripeError(
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                param="reason",
            )
        refund = objects.refund(
            created=self.clock.now_int(),
            amount=amount,
            charge_obj=ch,
            params={
                "metadata": coerce_str_map(params.get("metadata", {}), "metadata"),
                "reason": params.get("reason"),
            },
        )
        self.store.put("refund", refund)
        previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
        ch["amount_refunded"] += amount
        ch["refunded"] = ch["amount_refunded"] >= ch["amount_captured"]
        refunds = [r for r in self.store.all("refund") if r["charge"] == ch["id"]]
        ch["refunds"] = objects.list_object(f"/v1/charges/{ch['id']}/refunds", refunds, False)
        self.store.put("charge", ch)
        self.emit("refund.created", refund)
        self.emit("charge.refunded", ch, previous)
        return refund

    # A refund the customer's bank returns (control API only): Stripe sets it `failed` with a
    # `failure_reason`, puts the money back in the balance (the charge's `amount_refunded`
    # falls) and sends `charge.refund.updated`, `refund.updated` and `refund.failed`.
    FAILURE_REASONS = ("lost_or_stolen_card", "expired_or_canceled_card",
                       "charge_for_pending_refund_disputed", "insufficient_funds", "declined",
                       "merchant_request", "unknown")

    def fail_refund(self, refund_id: str, failure_reason: str) -> dict[str, Any]:
        refund = self._get("refund", refund_id, "refund")
        if failure_reason not in self.FAILURE_REASONS:
            raise StripeError(f"failure_reason must be one of {', '.join(self.FAILURE_REASONS)}",
                              param="failure_reason")
        if refund["status"] not in ("pending", "succeeded"):
            raise StripeError(f"Refund {refund_id} is {refund['status']}: it cannot fail now.",
                              param="refund")
        previous = {"status": refund["status"], "failure_reason": None,
                    "failure_balance_transaction": None}
        refund.update(status="failed", failure_reason=failure_reason,
                      failure_balance_transaction=stripe_id("txn"))
        self.store.put("refund", refund)
        ch = self._get("charge", refund["charge"], "charge")
        ch["amount_refunded"] -= refund["amount"]
        ch["refunded"] = ch["amount_refunded"] >= ch["amount_captured"]
        refunds = [r for r in self.store.all("refund") if r["charge"] == ch["id"]]
        ch["refunds"] = objects.list_object(f"/v1/charges/{ch['id']}/refunds", refunds, False)
        self.store.put("charge", ch)
        self.emit("charge.refund.updated", refund, previous)
        self.emit("refund.updated", refund, previous)
        self.emit("refund.failed", refund)
        return refund

    def list_refunds(self, query: dict[str, Any]) -> dict[str, Any]:
        check_known(query, {"limit", "starting_after", "ending_before", "charge",
                            "payment_intent", "created", "expand"})
        items = list(self.store.all("refund"))
        for field in ("charge", "payment_intent"):
            if field in query:
                items = [r for r in items if r[field] == query[field]]
        return self.paginate(items, query, "/v1/refunds")

    # -- disputes (opened by the cardholder's bank: control API only) ----------------------
    # An inquiry (a "warning_…" dispute, before any chargeback) takes no money: the charge
    # can still be refunded, and a chargeback may follow once it is closed.
    def _disputes_of(self, charge_id: str) -> list[dict[str, Any]]:
        return [d for d in self.store.all("dispute") if d["charge"] == charge_id]

    def _inquiry_open(self, charge_id: str) -> bool:
        return any(d["status"].startswith("warning_") and d["status"] != "warning_closed"
                   for d in self._disputes_of(charge_id))

    def open_dispute(self, charge_id: str, reason: str = "fraudulent", *,
                     inquiry: bool = False) -> dict[str, Any]:
        ch = self._get("charge", charge_id, "charge")
        if any(d["status"] != "warning_closed" for d in self._disputes_of(charge_id)):
            raise StripeError(f"Charge {charge_id} is already disputed.", param="charge")
        dispute = objects.dispute(created=self.clock.now_int(), charge_obj=ch, reason=reason,
                                  inquiry=inquiry)
        self.store.put("dispute", dispute)
        ch["disputed"] = True
        self.store.put("charge", ch)
        self.emit("charge.dispute.created", dispute)
        return dispute

    def close_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        dispute = self._get("dispute", dispute_id, "dispute")
        inquiry = dispute["status"].startswith("warning_")
        allowed = ("warning_closed",) if inquiry else ("won", "lost")
        if status not in allowed:
            raise StripeError(f"status must be {' or '.join(allowed)} for "
                              f"{'an inquiry' if inquiry else 'a chargeback'}", param="status")
        if dispute["status"] in ("won", "lost", "warning_closed"):
            raise StripeError(f"Dispute {dispute_id} is already closed.", param="dispute")
        previous = {"status": dispute["status"]}
        dispute.update(status=status, is_charge_refundable=False)
        self.store.put("dispute", dispute)
        self.emit("charge.dispute.closed", dispute, previous)
        return dispute

    def get_dispute(self, dispute_id: str) -> dict[str, Any]:
        return self._get("dispute", dispute_id, "dispute")

    def get_refund(self, refund_id: str) -> dict[str, Any]:
        return self._get("refund", refund_id, "refund")

    def get_charge(self, charge_id: str) -> dict[str, Any]:
        ch = self._get("charge", charge_id, "charge")
        if not ch["captured"] and ch["payment_intent"]:  # its hold may have lapsed by now
            pi = self.store.get("payment_intent", ch["payment_intent"])
            if pi is not None and self._hold_lapsed(pi):
                self._lapse(pi)
                ch = self._get("charge", charge_id, "charge")
        return ch

    # -- events ----------------------------------------------------------------------------
    def get_event(self, event_id: str) -> dict[str, Any]:
        return self._get("event", event_id, "id")

    def list_events(self, query: dict[str, Any]) -> dict[str, Any]:
        check_known(
            query,
            {
                "limit",
                "starting_after",
                "ending_before",
                "created",
                "type",
                "types",
                "delivery_success",
                "expand",
            },
        )
        items = list(self.store.all("event"))
        if "created" in query:
            flt = range_filter(query["created"], "created")
            items = [e for e in items if in_range(e["created"], flt)]
        if "type" in query:
            pattern = str(query["type"])
            if pattern.endswith("*"):
                items = [e for e in items if e["type"].startswith(pattern[:-1])]
            else:
                items = [e for e in items if e["type"] == pattern]
        if "types" in query:
            types = query["types"] if isinstance(query["types"], list) else [query["types"]]
            items = [e for e in items if e["type"] in types]
        if "delivery_success" in query:
            success = coerce_bool(query["delivery_success"], "delivery_success")
            items = [e for e in items if (e["pending_webhooks"] == 0) == success]
        return self.paginate(items, query, "/v1/events")


def canonical(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)
