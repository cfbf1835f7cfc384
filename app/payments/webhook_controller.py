"""`POST /webhooks/stripe`: 2xx only after the order is committed; 4xx for anything that
is not a genuine Stripe event (nothing written); 5xx for failures, so Stripe retries.

Requests are served by `app.payments.webhook_route` ahead of Litestar's router; this route
declares the endpoint in the OpenAPI schema and answers the same way (`answer`) wherever
the app runs without that front route."""

from __future__ import annotations

import time
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_400_BAD_REQUEST, HTTP_503_SERVICE_UNAVAILABLE

from app.infra.errors import error_responses
from app.payments.webhooks import answer

MAX_WEBHOOK_BYTES = 256 * 1024  # Stripe events are a few KB
WEBHOOK_ERRORS = {HTTP_400_BAD_REQUEST: "Not a genuine Stripe event; nothing was written",
                  HTTP_503_SERVICE_UNAVAILABLE: "Processing failed; Stripe retries"}


class StripeWebhookController(Controller):
    path = "/webhooks/stripe"
    tags = ["webhooks"]

    @post("/", status_code=HTTP_200_OK, request_max_body_size=MAX_WEBHOOK_BYTES,
          responses={code: ResponseSpec(data_container=dict[str, str], description=what,
                                        generate_examples=False)
                     for code, what in WEBHOOK_ERRORS.items()} | error_responses(413))
    async def receive(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """Stripe events, verified with `Stripe-Signature` (tolerance 300 s)."""
        received = time.perf_counter()
        reply = await answer(request.app.state.redis, await request.body(),
                             request.headers.get("stripe-signature"), received)
        follow_up = BackgroundTask(reply.follow_up) if reply.follow_up else None
        return Response(reply.body, status_code=reply.status, background=follow_up)
