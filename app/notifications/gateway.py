"""Resend transport: the `resend` SDK (async API) with a timeout, errors sorted into
transient (retry), permanent (record, stop) and already-sent (idempotent replay conflict)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import resend
from resend.http_client_async import AsyncHTTPClient

from app.settings import Settings

DEFAULT_API_URL = "https://api.resend.com"
MAX_BATCH = 100  # Resend's /emails/batch limit


class TransientSendError(Exception):
    """Worth retrying: timeouts, 5xx, 429, auth trouble on our side (an outage for us)."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 outage: bool = True) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.outage = outage  # False for rate limiting, which is not a reason to fall back


class PermanentSendError(Exception):
    """The request itself is wrong (validation): retrying sends the same wrong request."""


class AlreadySentError(Exception):
    """Resend has a different payload under this Idempotency-Key: the email already went out."""


@dataclass
class BatchResult:
    ids: dict[int, str] = field(default_factory=dict)  # payload index → Resend email id
    errors: dict[int, str] = field(default_factory=dict)  # payload index → validation error


class PooledHTTPClient(AsyncHTTPClient):
    """The SDK's async transport on one kept-alive httpx client per event loop. The SDK's own
    (`HTTPXClient`) opens a new client per request: a new TLS context and connection for
    every send, a tenth of the worker's time while it drained a backlog."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._client: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient] | None = None

    def _session(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client[0] is not loop or self._client[1].is_closed:
            self._client = (loop, httpx.AsyncClient(timeout=self.timeout))
        return self._client[1]

    def open(self) -> None:
        """Create the client for the running event loop ahead of the first request."""
        self._session()

    async def request(self, method: str, url: str, headers: Mapping[str, str],
                      json: dict[str, object] | list[object] | None = None,
                      files: dict[str, Any] | None = None, data: dict[str, str] | None = None,
                      ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            response = await self._session().request(
                method, url, headers=headers, files=files, data=data,
                json=json if data is None and files is None else None)
        except httpx.RequestError as error:
            # What the SDK's transport raises: it becomes a ResendError("HttpClientError").
            raise RuntimeError(f"Request failed: {error}") from error
        return response.content, response.status_code, response.headers

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client[1], None
            await client.aclose()


_configured: tuple[str, str, float] | None = None


def configure(settings: Settings) -> None:
    """Point the module-level SDK at the configured API (the sandbox in dev and tests)."""
    global _configured
    wanted = (settings.resend_api_key, settings.resend_api_url or DEFAULT_API_URL,
              settings.resend_timeout_seconds)
    if _configured == wanted and resend.api_url == wanted[1]:
        return
    resend.api_key = wanted[0]
    resend.api_url = wanted[1].rstrip("/")
    # The SDK's default async client waits 30 s; ours gives up sooner and lets arq retry.
    resend.default_async_http_client = PooledHTTPClient(timeout=wanted[2])
    _configured = wanted


def warm_up(settings: Settings) -> None:
    """Configure the SDK and open its HTTP client now (worker start-up), not on the first
    send: httpx imports its transport's modules on first use."""
    if not settings.resend_api_key:
        return
    configure(settings)
    client = resend.default_async_http_client
    if isinstance(client, PooledHTTPClient):
        client.open()


async def close() -> None:
    """Close the kept-alive connection (worker shutdown)."""
    client = resend.default_async_http_client
    if isinstance(client, PooledHTTPClient):
        await client.close()


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _retry_after(headers: dict[str, str]) -> float | None:
    value = _header(headers, "retry-after") or _header(headers, "ratelimit-reset")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def classify(error: resend.exceptions.ResendError) -> Exception:
    """Map an SDK error to TransientSendError / PermanentSendError / AlreadySentError."""
    try:
        code = int(error.code)
    except (TypeError, ValueError):
        code = 500
    kind = getattr(error, "error_type", "") or ""
    message = f"resend {code} {kind}: {error.message}"[:1000]
    if code == 429:
        return TransientSendError(message, retry_after=_retry_after(error.headers), outage=False)
    if code == 409 and kind == "invalid_idempotent_request":
        return AlreadySentError(message)
    if code == 409 or code >= 500 or code in (401, 403) or kind == "HttpClientError":
        # 409 concurrent_idempotent_requests: the twin request is in flight; 401/403: our key
        # is broken, which for the customer is an outage, not a reason to drop the email.
        return TransientSendError(message, retry_after=_retry_after(error.headers))
    return PermanentSendError(message)


async def _call(coro: Any, limit_s: float) -> Any:
    try:
        async with asyncio.timeout(limit_s + 2):  # backstop over the HTTP client's own timeout
            return await coro
    except resend.exceptions.ResendError as error:
        raise classify(error) from error
    except TimeoutError as error:
        raise TransientSendError("resend request timed out") from error


async def send_one(params: dict[str, Any], idempotency_key: str, settings: Settings) -> str:
    """POST /emails; returns the Resend email id."""
    configure(settings)
    response = await _call(
        resend.Emails.send_async(cast(resend.Emails.SendParams, params),
                                 {"idempotency_key": idempotency_key}),
        settings.resend_timeout_seconds,
    )
    return str(response["id"])


async def send_batch(params: list[dict[str, Any]], idempotency_key: str,
                     settings: Settings) -> BatchResult:
    """POST /emails/batch in permissive mode: valid emails go out, invalid ones are reported
    by index (strict mode would let one bad address hold back the other 99)."""
    if not 0 < len(params) <= MAX_BATCH:
        raise ValueError(f"a batch holds 1..{MAX_BATCH} emails")
    configure(settings)
    response = await _call(
        resend.Batch.send_async(cast(list[resend.Emails.SendParams], params),
                                {"idempotency_key": idempotency_key,
                                 "batch_validation": "permissive"}),
        settings.resend_timeout_seconds,
    )
    result = BatchResult()
    for problem in response.get("errors") or []:
        result.errors[int(problem["index"])] = str(problem.get("message", "invalid"))[:1000]
    accepted = [index for index in range(len(params)) if index not in result.errors]
    for index, item in zip(accepted, response.get("data") or [], strict=False):
        result.ids[index] = str(item["id"])
    return result
