"""Test helpers: run the sandbox in a background thread and drive it (control API, SDK clients).

with start_sandbox(tmp_path, stripe_webhook_url=...) as sandbox:
    client = stripe_client(sandbox.url)
    session = client.v1.checkout.sessions.create(params={...})
    sandbox.pay(session.id)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import resend
import stripe
import uvicorn

from app.sandbox.server import SandboxConfig, create_sandbox_app

STRIPE_TEST_KEY = "sk_test_orderpass_sandbox"
RESEND_TEST_KEY = "re_test_orderpass_sandbox"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningSandbox:
    """A sandbox served by uvicorn on its own event loop in a daemon thread."""

    def __init__(self, data_dir: Path, **config: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = SandboxConfig(data_dir=data_dir, public_url=self.url, **config)
        self.app = create_sandbox_app(self.config)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                timeout_graceful_shutdown=1,
                lifespan="on",
            )
        )
        self._thread = threading.Thread(target=self._serve, daemon=True, name="sandbox")
        # Idle connections dropped well before the server's keep-alive (uvicorn: 5 s, as
        # httpx's default): at equal timeouts a request could leave on a connection the
        # server was closing, and fail with a reset (CI: a fixture's teardown).
        self.http = httpx.Client(base_url=self.url, timeout=10,
                                 limits=httpx.Limits(keepalive_expiry=1.0))

    def _serve(self) -> None:
        asyncio.run(self._server.serve())

    def start(self) -> RunningSandbox:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("sandbox did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.http.close()
        self._server.should_exit = True
        self._thread.join(timeout=10)

    # -- control API -----------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(path, json=body or {})
        response.raise_for_status()
        return response.json()

    def pay(self, session_id: str, outcome: str = "succeeded") -> dict[str, Any]:
        result: dict[str, Any] = self._post(
            f"/_control/checkout/sessions/{session_id}/pay", {"outcome": outcome}
        )
        return result

    def webhook_faults(self, **faults: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._post("/_control/webhooks/faults", faults)
        return result

    def api_faults(self, **faults: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._post("/_control/api/faults", faults)
        return result

    def open_dispute(self, charge_id: str, reason: str = "fraudulent", *,
                     inquiry: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self._post(f"/_control/charges/{charge_id}/dispute",
                                            {"reason": reason, "inquiry": inquiry})
        return result

    def fail_refund(self, refund_id: str,
                    failure_reason: str = "expired_or_canceled_card") -> dict[str, Any]:
        result: dict[str, Any] = self._post(f"/_control/refunds/{refund_id}/fail",
                                            {"failure_reason": failure_reason})
        return result

    def close_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        result: dict[str, Any] = self._post(f"/_control/disputes/{dispute_id}/close",
                                            {"status": status})
        return result

    def email_event(self, email_id: str, event_type: str) -> dict[str, Any]:
        result: dict[str, Any] = self._post(f"/_control/emails/{email_id}/events",
                                            {"type": event_type})
        return result

    def deliveries(self) -> list[dict[str, Any]]:
        response = self.http.get("/_control/webhooks/deliveries")
        response.raise_for_status()
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def reset(self) -> None:
        self._post("/_control/reset")

    def configure(self, **config: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._post("/_control/config", config)
        return result

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        result: dict[str, Any] = self._post("/_control/clock", {"advance_seconds": seconds})
        return result

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        response = self.http.get("/mail/api/messages", params={"to": to} if to else None)
        response.raise_for_status()
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def wait_for(self, predicate: Any, timeout: float = 5.0, interval: float = 0.02) -> Any:
        """Poll `predicate()` until it returns something truthy (or fail after `timeout`)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s")
            time.sleep(interval)


@contextlib.contextmanager
def start_sandbox(tmp_path: Path, **config: Any) -> Iterator[RunningSandbox]:
    """Serve a sandbox (state under `tmp_path / "sandbox"`) for the duration of the block."""
    sandbox = RunningSandbox(tmp_path / "sandbox", **config).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def stripe_client(sandbox_url: str) -> stripe.StripeClient:
    """The SDK client the app builds, pointed at the sandbox (sync and async methods work)."""
    return stripe.StripeClient(
        api_key=STRIPE_TEST_KEY,
        base_addresses={"api": sandbox_url},
        http_client=stripe.HTTPXClient(timeout=5, allow_sync_methods=True),
        max_network_retries=0,
    )


def use_resend(sandbox_url: str, api_key: str = RESEND_TEST_KEY) -> None:
    """Point the module-level `resend` SDK at the sandbox (it reads `resend.api_url`)."""
    resend.api_key = api_key
    resend.api_url = sandbox_url
