"""Builders for Stripe objects with the keys and types of Stripe's published examples.

Each builder returns a plain dict that is stored as-is and returned on the wire; the state
machine in `service.py` mutates only the fields real Stripe changes.
"""

from __future__ import annotations

from typing import Any

import stripe

from app.sandbox.ids import stripe_id

API_VERSION = stripe.api_version  # the API version the installed SDK pins

_ADDRESS = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
}


def list_object(url: str, data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def line_item(item: dict[str, Any], currency: str, created: int) -> dict[str, Any]:
    price_data = item["price_data"]
    product = price_data.get("product") or stripe_id("prod")
    unit_amount = int(price_data["unit_amount"])
    quantity = int(item.get("quantity", 1))
    name = (price_data.get("product_data") or {}).get("name", "")
    return {
        "id": stripe_id("li"),
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": unit_amount * quantity,
        "amount_tax": 0,
        "amount_total": unit_amount * quantity,
        "currency": currency,
        "description": name,
        "metadata": item.get("metadata") or {},
        "adjustable_quantity": None,
        "price": {
            "id": stripe_id("price"),
            "object": "price",
            "active": False,
            "billing_scheme": "per_unit",
            "created": created,
            "currency": currency,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": product,
            "recurring": None,
            "tax_behavior": "unspecified",
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        },
        "quantity": quantity,
    }


def checkout_session(
    *,
    session_id: str,
    created: int,
    expires_at: int,
    currency: str,
    amount_total: int,
    params: dict[str, Any],
    url: str,
) -> dict[str, Any]:
    return {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": amount_total,
        "amount_total": amount_total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"),
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_account": None,
        "customer_creation": "if_required",
        "customer_details": None,
        "customer_email": params.get("customer_email"),
        "discounts": [],
        "expires_at": expires_at,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": params.get("locale"),
        "managed_payments": {"enabled": False},
        "metadata": params.get("metadata", {}),
        "mode": "payment",
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": params.get("payment_method_types") or ["card"],
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": params.get("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted_page",
        "url": url,
        "wallet_options": None,
    }


def customer_details(email: str | None) -> dict[str, Any]:
    return {
        "address": dict(_ADDRESS),
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": "Sandbox Customer",
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def payment_intent(
    *,
    created: int,
    amount: int,
    currency: str,
    capture_method: str,
    metadata: dict[str, str],
    description: str | None,
    receipt_email: str | None,
) -> dict[str, Any]:
    pi_id = stripe_id("pi")
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method,
        "client_secret": f"{pi_id}_secret_{stripe_id('x')[2:]}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": None,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def charge(
    pi: dict[str, Any], *, created: int, captured: bool, email: str | None
) -> dict[str, Any]:
    ch_id = stripe_id("ch")
    return {
        "id": ch_id,
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": pi["amount"] if captured else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": stripe_id("txn") if captured else None,
        "billing_details": {
            "address": dict(_ADDRESS),
            "email": email,
            "name": "Sandbox Customer",
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "ORDERPASS SANDBOX",
        "captured": captured,
        "created": created,
        "currency": pi["currency"],
        "customer": None,
        "description": pi["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": pi["metadata"],
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": pi["id"],
        "payment_method": pi["payment_method"],
        "payment_method_details": {"card": _card_details(pi["amount"]), "type": "card"},
        "receipt_email": email,
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/sandbox/{ch_id}",
        "refunded": False,
        "refunds": list_object(f"/v1/charges/{ch_id}/refunds", [], False),
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }


def _card_details(amount: int) -> dict[str, Any]:
    return {
        "amount_authorized": amount,
        "authorization_code": None,
        "brand": "visa",
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },
        "country": "US",
        "exp_month": 12,
        "exp_year": 2034,
        "extended_authorization": {"status": "disabled"},
        "fingerprint": "SandboxFingerprint",
        "funding": "credit",
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": "4242",
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": "visa",
        "network_token": {"used": False},
        "network_transaction_id": None,
        "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
        "regulated_status": "unregulated",
        "three_d_secure": None,
        "transaction_link_id": None,
        "wallet": None,
    }


def refund(
    *, created: int, amount: int, charge_obj: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": stripe_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": stripe_id("txn"),
        "charge": charge_obj["id"],
        "created": created,
        "currency": charge_obj["currency"],
        "customer": None,
        "customer_account": None,
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": params.get("metadata", {}),
        "payment_intent": charge_obj["payment_intent"],
        "payment_method": charge_obj["payment_method"],
        "reason": params.get("reason"),
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def event(
    *,
    event_type: str,
    obj: dict[str, Any],
    created: int,
    pending_webhooks: int,
    previous_attributes: dict[str, Any] | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous_attributes:
        data["previous_attributes"] = previous_attributes
    return {
        "id": stripe_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }


def dispute(*, created: int, charge_obj: dict[str, Any], reason: str,
            inquiry: bool = False) -> dict[str, Any]:
    return {
        "id": stripe_id("dp"),
        "object": "dispute",
        # What the cardholder still paid: a bank cannot take back what was refunded already.
        "amount": (charge_obj["amount_captured"] or charge_obj["amount"])
        - charge_obj.get("amount_refunded", 0),
        "balance_transactions": [],
        "charge": charge_obj["id"],
        "created": created,
        "currency": charge_obj["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {key: None for key in _EVIDENCE} | {"enhanced_evidence": {}},
        "evidence_details": {
            "due_by": created + 7 * 86400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": inquiry,  # an inquiry took no money yet
        "livemode": False,
        "metadata": {},
        "payment_intent": charge_obj["payment_intent"],
        "payment_method_details": {
            "card": {"brand": "visa", "case_type": "inquiry" if inquiry else "chargeback",
                     "network": "visa",
                     "network_reason_code": "10.4"},
            "type": "card",
        },
        "reason": reason,
        "status": "warning_needs_response" if inquiry else "needs_response",
    }


_EVIDENCE = (
    "access_activity_log", "billing_address", "cancellation_policy",
    "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
    "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
    "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id",
    "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address",
    "shipping_carrier", "shipping_date", "shipping_documentation", "shipping_tracking_number",
    "uncategorized_file", "uncategorized_text",
)
