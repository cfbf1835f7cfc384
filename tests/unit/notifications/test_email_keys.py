"""An email's idempotency key names its order: on-call's log lines for Resend's events about
a refund's email (`order_refunded/<ref>/<refund id>`) name the order alone, not the order
with the refund's id stuck to it."""

from __future__ import annotations

from app.notifications.service import idempotency_key, order_ref_of


def test_the_order_is_read_back_from_any_emails_key() -> None:
    assert order_ref_of(idempotency_key("payment_received", "TEMP-abc")) == "TEMP-abc"
    assert order_ref_of("order_refunded/TEMP-abc/re_123") == "TEMP-abc"
    assert order_ref_of("no-order") == ""
