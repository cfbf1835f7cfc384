"""Prometheus metrics shared by the web app and the workers (prometheus-client)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ORDERS_SUBMITTED = Counter("orderpass_orders_submitted_total", "Orders submitted", ["restaurant"])
ORDERS_PAID = Counter("orderpass_orders_paid_total", "Orders paid", ["restaurant"])
ORDERS_EXPIRED = Counter("orderpass_orders_expired_total", "Payment links expired unpaid",
                         ["restaurant"])
PAYMENT_LINKS = Counter("orderpass_payment_links_total",
                        "Payment link creation attempts by result", ["result"])
WEBHOOK_EVENTS = Counter("orderpass_webhook_events_total", "Webhook events by type and result",
                         ["provider", "type", "result"])
PAYMENT_TO_KITCHEN = Histogram(
    "orderpass_payment_to_kitchen_seconds", "Webhook receipt to kitchen publish",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
