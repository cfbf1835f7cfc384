"""`POST /webhooks/stripe` served ahead of Litestar's router, as plain ASGI.

Every paid order arrives here, and at the platform's rate the framework around the handler
cost more CPU than the handler's own Python: Litestar's routing, its request and response
objects, and four middlewares a webhook has no use for (sessions, CSRF, the form guard,
the language). py-spy over `orderpass bench webhook` had them at about a tenth of the web
process's samples. Our edge middlewares (request id, NUL guard, metrics and webhook counts,
security headers) still wrap this route, and the answer is `answer`'s, as in the
controller that declares the endpoint in the OpenAPI schema."""

from __future__ import annotations

import time

from litestar import Litestar
from litestar.types import ASGIApp, Receive, Scope, Send

from app.infra.logging import get_logger
from app.infra.raw_route import INTERNAL_ERROR, posted_to, read_request, send_json
from app.payments.webhook_controller import MAX_WEBHOOK_BYTES, StripeWebhookController
from app.payments.webhooks import Reply, answer

log = get_logger("orderpass.webhooks.stripe")
PATH = str(StripeWebhookController.path)
PATHS = {PATH, PATH + "/"}  # Litestar answers both
FAILED = Reply(500, INTERNAL_ERROR)


def stripe_webhook_route(app: ASGIApp, litestar: Litestar) -> ASGIApp:
    """`app` with Stripe's webhook POSTs answered here; everything else passes through."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        if not posted_to(scope, PATHS):
            await app(scope, receive, send)
            return
        received = time.perf_counter()
        read = await read_request(scope, receive, send, litestar=litestar, path=PATH,
                                  limit=MAX_WEBHOOK_BYTES)
        if read is None:
            return
        headers, payload = read
        signature = headers.get(b"stripe-signature")
        try:
            reply = await answer(litestar.state.redis, payload,
                                 signature.decode("latin-1") if signature else None,
                                 received)
        except Exception:
            log.exception("request failed", status=500, path=PATH)
            await _send(send, FAILED)
            return
        await _send(send, reply)
        if reply.follow_up is not None:
            try:  # after the answer, as Litestar runs a response's background task
                await reply.follow_up()
            except Exception:
                log.exception("stripe webhook follow-up failed; the outbox relay retries")

    return route


async def _send(send: Send, reply: Reply) -> None:
    await send_json(send, reply.status, reply.body)
