"""Checkout Session parameters shaped like the app's, and a webhook endpoint that records what
the sandbox delivers (the sandbox suite's shared tools)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import stripe

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
STRIPE_SECRET = "whsec_test_orderpass_sandbox"
RESEND_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Receiver:
    """A tiny webhook endpoint in a thread: records every POST, can answer 500 on demand."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_next = 0
        self.hang_next = 0.0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    fail = receiver.fail_next > 0
                    receiver.fail_next -= 1 if fail else 0
                    hang, receiver.hang_next = receiver.hang_next, 0.0
                    receiver.requests.append(
                        {
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "answered": 500 if fail else 200,
                        }
                    )
                if hang:
                    time.sleep(hang)
                self.send_response(500 if fail else 200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(r["body"]) for r in self.requests]

    def events_of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [b for b in self.bodies() if b.get("type") == event_type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def session_params(**overrides: Any) -> dict[str, Any]:
    """Checkout Session parameters shaped like the app's."""
    params: dict[str, Any] = {
        "mode": "payment",
        "currency": "eur",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1250,
                    "product_data": {"name": "Margherita"},
                },
                "quantity": 2,
            },
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 300,
                    "product_data": {"name": "Lemonade"},
                },
                "quantity": 1,
            },
        ],
        "customer_email": "ada@example.com",
        "client_reference_id": "TEMP-abc123",
        "metadata": {"temp_order_id": "TEMP-abc123", "restaurant": "demo", "snapshot": "{}"},
        "success_url": "http://shop.test/orders/TEMP-abc123?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://shop.test/orders/TEMP-abc123?cancelled=1",
        "expires_at": int(time.time()) + 3600,
        "payment_intent_data": {"capture_method": "automatic"},
    }
    params.update(overrides)
    return params


def verify_stripe(receiver: Receiver) -> list[stripe.Event]:
    """Every delivery the receiver got, verified with the SDK (raises if any is unsigned)."""
    with receiver._lock:
        requests = list(receiver.requests)
    return [
        stripe.Webhook.construct_event(r["body"], r["headers"]["stripe-signature"], STRIPE_SECRET)
        for r in requests
    ]
