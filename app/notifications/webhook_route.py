"""`POST /webhooks/resend` served ahead of Litestar's router, as plain ASGI.

Every email we send comes back as one to three of Resend's events (sent, delivered, …). In
`orderpass bench webhook` their requests through Litestar (routing, its request and
response objects, sessions, CSRF, the form guard, the language) were a tenth of the web
process's samples, about as much as the paid order's own webhook. Our edge middlewares
(request id, NUL guard, metrics, security headers) still wrap this route; the answers are
the controller's, which declares the endpoint in the OpenAPI schema and serves any other
method."""

from __future__ import annotations

from litestar import Litestar
from litestar.types import ASGIApp, Receive, Scope, Send

from app.infra.logging import get_logger
from app.infra.raw_route import INTERNAL_ERROR, posted_to, read_request, send_json
from app.infra.unavailable import DEPENDENCY_ERRORS, RETRY_AFTER_S, unavailable_body
from app.notifications.webhook_controller import ResendWebhookController
from app.notifications.webhooks import MAX_BODY_BYTES, handle_resend_webhook
from app.settings import get_settings

log = get_logger("orderpass.webhooks.resend")
PATH = f"{ResendWebhookController.path}/resend"
PATHS = {PATH, PATH + "/"}  # Litestar answers both


def resend_webhook_route(app: ASGIApp, litestar: Litestar) -> ASGIApp:
    """`app` with Resend's webhook POSTs answered here; everything else passes through."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        if not posted_to(scope, PATHS):
            await app(scope, receive, send)
            return
        read = await read_request(scope, receive, send, litestar=litestar, path=PATH,
                                  limit=MAX_BODY_BYTES)
        if read is None:
            return
        raw, body = read
        headers = {name.decode("latin-1"): value.decode("latin-1")
                   for name, value in raw.items()}
        try:
            result = await handle_resend_webhook(body, headers,
                                                 get_settings().resend_webhook_secret)
        except DEPENDENCY_ERRORS as error:  # Resend retries: as app/infra/unavailable.py
            log.warning("request refused", status=503, path=PATH, error=str(error)[:200])
            await send_json(send, 503, unavailable_body(error),
                            [(b"retry-after", str(RETRY_AFTER_S).encode())])
            return
        except Exception:
            log.exception("request failed", status=500, path=PATH)
            await send_json(send, 500, INTERNAL_ERROR)
            return
        await send_json(send, result.status_code, {"detail": result.detail})

    return route
