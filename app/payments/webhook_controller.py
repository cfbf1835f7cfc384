"""`POST /webhooks/stripe`: 2xx only after the order is committed; 4xx for anything that
is not a genuine Stripe event (nothing written); 5xx for failures, so Stripe retries."""

from __future__ import annotations

import time
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_400_BAD_REQUEST, HTTP_503_SERVICE_UNAVAILABLE

from app.infra.errors import error_responses
from app.infra.logging import get_logger
from app.payments.webhooks import InvalidWebhook, count, handle_event, verify
from app.settings import get_settings

log = get_logger("orderpass.webhooks.stripe")
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
    async def receive(self, request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        """Stripe events, verified with `Stripe-Signature` (tolerance 300 s)."""
        received = time.perf_counter()
        payload = await request.body()
        secrets = [secret.strip() for secret in get_settings().stripe_webhook_secret.split(",")
                   if secret.strip()]
        try:
            event = verify(payload, request.headers.get("stripe-signature"), secrets)
        except InvalidWebhook as error:
            count("unknown", "rejected")
            log.warning("stripe webhook rejected", reason=str(error)[:200])
            return Response({"error": str(error)[:200]}, status_code=HTTP_400_BAD_REQUEST)
        try:
            outcome = await handle_event(request.app.state.redis, event, received)
        except Exception as error:
            count(event.type, "error")
            log.exception("stripe webhook failed; Stripe will retry", stripe_event=event.id,
                          event_type=event.type)
            return Response({"error": f"processing failed: {type(error).__name__}"},
                            status_code=HTTP_503_SERVICE_UNAVAILABLE)
        count(event.type, outcome.result)
        log.info("stripe webhook", stripe_event=event.id, event_type=event.type,
                 result=outcome.result, order_id=outcome.order_ref,
                 ms=round((time.perf_counter() - received) * 1000, 1))
        # The order is committed and the kitchen told; the email and bookkeeping of the fast
        # path run once the 2xx is on its way (the outbox relay covers a crash meanwhile).
        follow_up = BackgroundTask(outcome.follow_up) if outcome.follow_up else None
        return Response({"result": outcome.result}, status_code=HTTP_200_OK,
                        background=follow_up)
