"""Nested form decoding, and state surviving a sandbox restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.sandbox.stripe.errors import StripeError
from app.sandbox.stripe.forms import decode_form
from tests.helpers.sandbox import start_sandbox, stripe_client
from tests.helpers.webhook_receiver import session_params


def test_decodes_nested_keys() -> None:
    body = (
        "line_items[0][price_data][unit_amount]=1200&line_items[0][quantity]=2"
        "&line_items[1][price_data][product_data][name]=Soup"
        "&metadata[temp_order_id]=TEMP-1&payment_intent_data[capture_method]=manual"
        "&expand[]=a&expand[]=b&created[gte]=10"
    )
    assert decode_form(body) == {
        "line_items": [
            {"price_data": {"unit_amount": "1200"}, "quantity": "2"},
            {"price_data": {"product_data": {"name": "Soup"}}},
        ],
        "metadata": {"temp_order_id": "TEMP-1"},
        "payment_intent_data": {"capture_method": "manual"},
        "expand": ["a", "b"],
        "created": {"gte": "10"},
    }
    with pytest.raises(StripeError):
        decode_form("a=1&a[b]=2")


def test_state_survives_restart(tmp_path: Path) -> None:
    with start_sandbox(tmp_path) as first:
        session = stripe_client(first.url).v1.checkout.sessions.create(params=session_params())
        secret = first.configure()["stripe_webhook_secret"]
        first.advance_clock(60)
    with start_sandbox(tmp_path) as second:
        again = stripe_client(second.url).v1.checkout.sessions.retrieve(session.id)
        assert again.amount_total == session.amount_total
        assert second.configure()["stripe_webhook_secret"] == secret  # generated once, kept
        assert second.http.get("/_control/clock").json()["offset_s"] == 60
        second.reset()
        assert stripe_client(second.url).v1.checkout.sessions.list().data == []
