"""The Resend stand-in's behaviour: validate, store and "deliver" emails, emit their events.

Test addresses behave as on Resend: `delivered@resend.dev` → sent + delivered,
`bounced@resend.dev` → sent + bounced, `complained@resend.dev` → sent + delivered +
complained, `suppressed@resend.dev` → suppressed (never sent); sandbox extras:
`delayed@resend.dev` → sent + delivery_delayed + delivered, `failed@resend.dev` → failed.
Any other address → sent + delivered. The control API (`report`) produces any delivery event
for an email already sent.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from app.sandbox.clock import SandboxClock
from app.sandbox.config import SandboxConfig
from app.sandbox.ids import email_id, svix_message_id
from app.sandbox.resend import schema
from app.sandbox.store import Store
from app.sandbox.webhooks import WebhookDispatcher

IDEMPOTENCY_TTL_S = 24 * 60 * 60
REPORTABLE = frozenset({"email.sent", "email.delivered", "email.delivery_delayed",
                        "email.bounced", "email.complained", "email.failed", "email.suppressed"})
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_NAMED = re.compile(r"^[^<>]*<([^<>]+)>$")


class ResendError(Exception):
    def __init__(self, status: int, name: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.name = name
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"statusCode": self.status, "message": self.message, "name": self.name}


def rate_limited(limit: float, retry_after: int = 1) -> ResendError:
    return ResendError(
        429,
        "rate_limit_exceeded",
        f"Too many requests. You can only make {limit:g} requests per second. See rate limit "
        "response headers for more information. Or contact support to increase rate limit.",
        headers={
            "retry-after": str(retry_after),
            "ratelimit-limit": f"{limit:g}",
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(retry_after),
        },
    )


class _NotStored(Exception):
    """No response saved under the key yet: the request runs."""


def _not_stored() -> dict[str, Any]:
    raise _NotStored


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _bare(address: str) -> str:
    match = _NAMED.match(address.strip())
    return (match.group(1) if match else address).strip().lower()


class ResendService:
    def __init__(
        self,
        store: Store,
        clock: SandboxClock,
        webhooks: WebhookDispatcher,
        config: Callable[[], SandboxConfig],
    ) -> None:
        self.store = store
        self.clock = clock
        self.webhooks = webhooks
        self._config = config
        self._recent: deque[float] = deque()
        # Requests let through and refused by the rate limit since start (`orderpass bench`
        # reports the 429s of a run from these: GET /_control/resend/limits).
        self.accepted = 0
        self.rate_limited = 0
        self._in_flight: set[str] = set()  # idempotency keys of batches being processed

    # -- limits ----------------------------------------------------------------------------
    def check_rate(self) -> None:
        """Counted on arrival (before the body is read), over the last second, as Resend
        counts: a client must space its requests for the moment they reach us."""
        limit = self._config().resend_rate_limit_per_s
        if limit <= 0:
            return
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= limit:
            self.rate_limited += 1
            raise rate_limited(limit)
        self._recent.append(now)
        self.accepted += 1

    def limits_view(self) -> dict[str, Any]:
        return {"limit_per_s": self._config().resend_rate_limit_per_s,
                "accepted": self.accepted, "rate_limited": self.rate_limited}

    # -- validation ------------------------------------------------------------------------
    def validate(self, payload: Any, where: str = "") -> None:
        if not isinstance(payload, dict):
            raise ResendError(
                422, "validation_error", f"{where}Invalid request body: expected an object."
            )
        for field in ("from", "to", "subject"):
            if field not in payload or payload[field] in (None, "", []):
                raise ResendError(422, "missing_required_field", f"{where}Missing `{field}` field.")
        problems = schema.errors("SendEmailRequest", payload)
        if problems:
            raise ResendError(422, "validation_error", f"{where}{problems[0]}")
        if not _ADDRESS.match(_bare(payload["from"])):
            raise ResendError(
                422,
                "validation_error",
                f"{where}Invalid `from` field. The email address needs to follow the "
                "`email@example.com` or `Name <email@example.com>` format.",
            )
        for field in ("to", "cc", "bcc", "reply_to"):
            for address in _as_list(payload.get(field)):
                if not _ADDRESS.match(_bare(address)):
                    raise ResendError(
                        422,
                        "validation_error",
                        f"{where}Invalid `{field}` field. The email address needs to follow "
                        "the `email@example.com` or `Name <email@example.com>` format.",
                    )

    # -- idempotency -----------------------------------------------------------------------
    def idempotent(
        self, key: str | None, endpoint: str, payload: Any, run: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        if not key:
            return run()
        if len(key) > 256:
            raise ResendError(
                400, "invalid_idempotency_key", "The key must be between 1-256 chars."
            )
        fingerprint = hashlib.sha256(
            f"{endpoint}\n{json.dumps(payload, sort_keys=True)}".encode()
        ).hexdigest()
        found = self.store.idempotent_get("resend", key)
        if found and self.clock.now() - found[3] < IDEMPOTENCY_TTL_S:
            if found[0] != fingerprint:
                raise ResendError(
                    409,
                    "invalid_idempotent_request",
                    "Same idempotency key used with a different request payload. Change your "
                    "idempotency key or don't change your payload.",
                )
            replay: dict[str, Any] = json.loads(found[2])
            return replay
        result = run()
        self.store.idempotent_put(
            "resend", key, fingerprint, 200, json.dumps(result), self.clock.now()
        )
        return result

    async def idempotent_async(
        self,
        key: str | None,
        endpoint: str,
        payload: Any,
        run: Callable[[], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        """`idempotent` for a request that yields to the event loop while it runs (a batch of
        100: the next request must be counted when it arrives, as Resend counts it, not when
        this one is done). A request with the same key meanwhile gets 409
        `concurrent_idempotent_requests`, as on Resend."""
        if not key:
            return await run()
        if key in self._in_flight:
            raise ResendError(
                409,
                "concurrent_idempotent_requests",
                "Same idempotency key used while original request is still in progress.",
            )
        self._in_flight.add(key)
        try:
            try:  # a replay (or a 409 for another payload) if the key was used before
                return self.idempotent(key, endpoint, payload, _not_stored)
            except _NotStored:
                pass
            result = await run()
            return self.idempotent(key, endpoint, payload, lambda: result)  # stores it
        finally:
            self._in_flight.discard(key)

    # -- sending ---------------------------------------------------------------------------
    def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        created = self.clock.iso()
        message = {
            "id": email_id(),
            "object": "email",
            "from": payload["from"],
            "to": _as_list(payload["to"]),
            "cc": _as_list(payload.get("cc")),
            "bcc": _as_list(payload.get("bcc")),
            "reply_to": _as_list(payload.get("reply_to")),
            "subject": payload["subject"],
            "html": payload.get("html"),
            "text": payload.get("text"),
            "headers": payload.get("headers") or {},
            "tags": payload.get("tags") or [],
            "scheduled_at": payload.get("scheduled_at"),
            "created_at": created,
            "last_event": "queued",
            "events": [],
        }
        self.store.put("email", message)
        for event_type in self._lifecycle(message):
            self._event(message, event_type)
        return {"id": message["id"]}

    @staticmethod
    def _lifecycle(message: dict[str, Any]) -> list[str]:
        recipients = {_bare(a) for a in message["to"] + message["cc"] + message["bcc"]}
        if "suppressed@resend.dev" in recipients:
            return ["email.suppressed"]
        if "failed@resend.dev" in recipients:
            return ["email.failed"]
        if "bounced@resend.dev" in recipients:
            return ["email.sent", "email.bounced"]
        if "delayed@resend.dev" in recipients:
            return ["email.sent", "email.delivery_delayed", "email.delivered"]
        if "complained@resend.dev" in recipients:
            return ["email.sent", "email.delivered", "email.complained"]
        return ["email.sent", "email.delivered"]

    def _event(self, message: dict[str, Any], event_type: str) -> None:
        data: dict[str, Any] = {
            "email_id": message["id"],
            "created_at": message["created_at"],
            "from": message["from"],
            "to": message["to"],
            "subject": message["subject"],
        }
        if message["tags"]:
            data["tags"] = {t["name"]: t["value"] for t in message["tags"]}
        if message["headers"]:
            data["headers"] = [{"name": k, "value": str(v)} for k, v in message["headers"].items()]
        if event_type == "email.bounced":
            data["bounce"] = {
                "diagnosticCode": ["smtp; 550 5.1.1 user unknown"],
                "message": "The recipient's email address does not exist.",
                "subType": "NoEmail",
                "type": "Permanent",
            }
        if event_type == "email.failed":
            data["failed"] = {"reason": "reached_daily_quota"}
        if event_type == "email.suppressed":
            data["suppressed"] = {
                "diagnosticCode": ["smtp; 550 5.1.1 recipient on the suppression list"],
                "message": "The recipient is on the account's suppression list.",
                "reason": "previous_bounce",
                "type": "OnAccountSuppressionList",
            }
        event = {"type": event_type, "created_at": self.clock.iso(), "data": data}
        message["last_event"] = event_type.removeprefix("email.")
        message["events"].append(event)
        self.store.put("email", message)
        self.webhooks.enqueue("resend", svix_message_id(), event_type, json.dumps(event))

    def report(self, message_id: str, event_type: str) -> dict[str, Any]:
        """Resend reports a delivery event for a sent email (control API)."""
        if event_type not in REPORTABLE:
            raise ValueError(f"type must be one of {sorted(REPORTABLE)}")
        message = self.store.get("email", message_id)
        if message is None:
            raise LookupError(f"no email {message_id}")
        self._event(message, event_type)
        return self.wire(message)

    # -- reading ---------------------------------------------------------------------------
    def get(self, message_id: str) -> dict[str, Any]:
        message = self.store.get("email", message_id)
        if message is None:
            raise ResendError(404, "not_found", "Email not found")
        return self.wire(message)

    @staticmethod
    def wire(message: dict[str, Any]) -> dict[str, Any]:
        """GET /emails/{id}: the `Email` schema (html/text only when the email had them)."""
        view = {
            key: message[key]
            for key in (
                "object",
                "id",
                "to",
                "from",
                "created_at",
                "subject",
                "bcc",
                "cc",
                "reply_to",
                "last_event",
            )
        }
        for key in ("html", "text"):
            if message.get(key) is not None:
                view[key] = message[key]
        return view

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        found = list(self.store.all("email"))
        if to:
            wanted = _bare(to)
            found = [m for m in found if wanted in {_bare(a) for a in m["to"] + m["cc"] + m["bcc"]}]
        return found
