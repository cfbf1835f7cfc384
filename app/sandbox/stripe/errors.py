"""Stripe's error envelope (`{"error": {...}}`) as an exception the routes turn into a response."""

from __future__ import annotations

from typing import Any

DOCS = "https://stripe.com/docs/error-codes"
IDEMPOTENCY_MISMATCH = (
    "Keys for idempotent requests can only be used with the same parameters they were first "
    "used with. Try using a key other than '{key}' if you meant to execute a different request."
)


class StripeError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: dict[str, Any] | None = None,
        executed: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.extra = extra or {}
        # Raised once the request had started executing (a state check, not a parameter
        # check): Stripe saves such an error under the request's idempotency key.
        self.executed = executed

    def envelope(self, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"{DOCS}#{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}?t=0"
        error.update(self.extra)
        return {"error": error}


def state_error(message: str, **kwargs: Any) -> StripeError:
    """An error found while executing (the object's state refuses the request)."""
    return StripeError(message, executed=True, **kwargs)


def missing(kind: str, obj_id: str, param: str) -> StripeError:
    return StripeError(
        f"No such {kind}: '{obj_id}'", status=404, code="resource_missing", param=param
    )
