"""POST /webhooks/resend: hands the raw body and headers to the webhook service (CSRF-exempt;
authenticity comes from the Svix signature)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response

from app.infra.errors import error_responses
from app.notifications.webhooks import MAX_BODY_BYTES, handle_resend_webhook
from app.settings import get_settings


class ResendWebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post("/resend", status_code=200, request_max_body_size=MAX_BODY_BYTES,
          responses={400: ResponseSpec(dict[str, str], generate_examples=False,
                                       description="Bad signature or unreadable event"),
                     409: ResponseSpec(dict[str, str], generate_examples=False,
                                       description="Unknown email (yet): Svix redelivers"),
                     **error_responses(413)})
    async def resend(self, request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
        """Resend email events (sent, delivered, delayed, bounced, complained, failed)."""
        body = await request.body()
        result = await handle_resend_webhook(body, dict(request.headers),
                                             get_settings().resend_webhook_secret)
        return Response({"detail": result.detail}, status_code=result.status_code)
