"""Admin webhook inbox and replay (`/admin/webhooks…`) and the email log and resend
(`/admin/emails…`)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from app.accounts.guards import require_admin, staff_of
from app.admin import inbox
from app.admin.views import KINDS, form_of, page_context
from app.infra.form_input import RowId
from app.infra.html import is_htmx, render_fragment
from app.ops import discrepancies
from app.payments.stripe_gateway import PaymentProviderError

_ROW_ID = re.compile(r"[1-9][0-9]{0,17}")
REPLAYED_MAX = 300  # characters of a replay's outcome carried back to the page


class AdminInboxController(Controller):
    path = "/admin"
    guards = [require_admin]
    include_in_schema = False

    @get("/webhooks")
    async def webhooks(self, request: Request[Any, Any, Any], provider: FromQuery[str] = "",
                       replayed: FromQuery[str] = "") -> Template:
        events = await inbox.stripe_events()
        deliveries = await inbox.deliveries(provider or None)
        return Template("admin/webhooks.html", context=page_context(
            request, "webhooks", events=events, deliveries=deliveries, provider=provider,
            replayed=replayed[:REPLAYED_MAX]))

    @post("/webhooks/stripe/{event_id:str}/replay", status_code=200)
    async def replay_stripe(self, request: Request[Any, Any, Any],
                            event_id: FromPath[str]) -> Response[Any]:
        try:
            result = await inbox.replay_stripe_event(request.app.state.redis, event_id)
        except inbox.ReplayError as problem:
            return self._outcome(request, str(problem), False, problem.status_code)
        except PaymentProviderError as problem:
            return self._outcome(request, problem.told(), False, 502)
        return self._outcome(request, result.detail, result.ok)

    @post("/webhooks/resend/{delivery_id:int}/replay", status_code=200)
    async def replay_resend(self, request: Request[Any, Any, Any],
                            delivery_id: RowId) -> Response[Any]:
        try:
            result = await inbox.replay_resend_delivery(delivery_id)
        except inbox.ReplayError as problem:
            return self._outcome(request, str(problem), False, problem.status_code)
        return self._outcome(request, result.detail, result.ok)

    def _outcome(self, request: Request[Any, Any, Any], detail: str, ok: bool,
                 status_code: int = 200) -> Response[Any]:
        if not is_htmx(request) and status_code < 400:
            # A page without script says what the replay did, as htmx's swap does.
            return Redirect(f"/admin/webhooks?replayed={quote(detail[:REPLAYED_MAX])}",
                            status_code=303)
        return render_fragment(request, "admin_outcome.html", status_code, ok=ok, detail=detail)

    @get("/emails")
    async def emails(self, request: Request[Any, Any, Any], q: FromQuery[str] = "",
                     status: FromQuery[str] = "") -> Template:
        status = status if status in inbox.EMAIL_FILTERS else ""
        rows = await inbox.email_log(q, status=status)
        return Template("admin/emails.html", context=page_context(
            request, "emails", rows=rows, q=q, kinds=KINDS, status=status,
            counts=await inbox.email_counts()))

    @post("/emails/resend", status_code=200)
    async def resend(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await form_of(request)
        ref = form.get("order_ref", "").strip()
        # The log's row (`email`, a bigint id): its refund email is resent about its own
        # refund. Plain ASCII digits only, within bigint: anything else is a 400.
        raw = form.get("email", "").strip()
        email_id = int(raw) if _ROW_ID.fullmatch(raw) else None
        if raw and email_id is None:
            return self._email_outcome(request, ref, f"{raw[:40]!r} is not an email of the log",
                                       False, 400)
        try:
            await discrepancies.resend_email(request.app.state.redis, ref,
                                             form.get("kind", ""), by=staff_of(request).email,
                                             email_id=email_id)
        except discrepancies.FixError as problem:
            return self._email_outcome(request, ref, str(problem), False, problem.status_code)
        return self._email_outcome(request, ref, "Email queued again.", True)

    def _email_outcome(self, request: Request[Any, Any, Any], ref: str, detail: str, ok: bool,
                       status_code: int = 200) -> Response[Any]:
        if not is_htmx(request) and ok:
            return Redirect(f"/admin/emails?q={quote(ref, safe='')}", status_code=303)
        return render_fragment(request, "admin_outcome.html", status_code, ok=ok, detail=detail)
