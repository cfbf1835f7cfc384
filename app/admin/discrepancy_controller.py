"""Admin discrepancy queue (`/admin`, `/admin/discrepancies…`): list and one-click fixes."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from app.accounts.guards import require_admin, staff_of
from app.admin.views import KINDS, form_of, page_context
from app.infra.form_input import RowId
from app.infra.html import is_htmx, render_fragment
from app.ops import discrepancies
from app.payments.stripe_gateway import PaymentProviderError

FILTERS = ("open", "resolved", "all")


class AdminDiscrepancyController(Controller):
    path = "/admin"
    guards = [require_admin]
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        return await self._page(request, "open")

    @get("/discrepancies")
    async def queue(self, request: Request[Any, Any, Any],
                    status: FromQuery[str] = "open") -> Template:
        return await self._page(request, status if status in FILTERS else "open")

    async def _page(self, request: Request[Any, Any, Any], status: str, error: str = "",
                    status_code: int = 200) -> Template:
        rows = await discrepancies.list_discrepancies(None if status == "all" else status)
        return Template("admin/discrepancies.html", status_code=status_code,
                        context=page_context(request, "discrepancies", rows=rows,
                                             filter=status, filters=FILTERS, kinds=KINDS,
                                             error=error))

    async def _fix(self, request: Request[Any, Any, Any], discrepancy_id: int,
                   action: str) -> Response[Any] | Template:
        by = staff_of(request).email
        form = await form_of(request)
        message, error, status_code = "", "", 200
        try:
            if action == "resolve":
                await discrepancies.resolve(discrepancy_id, by=by, note=form.get("note", ""))
                message = "Resolved."
            elif action == "create-order":
                await discrepancies.create_order_from_session(
                    request.app.state.redis, discrepancy_id, by=by)
                message = "Order created from the Checkout Session."
            elif action == "refund":
                await discrepancies.refund(discrepancy_id, by=by)
                message = "Refunded."
            elif action == "resend-email":
                current = await discrepancies.get_discrepancy(discrepancy_id)
                await discrepancies.resend_email(request.app.state.redis, current.order_ref,
                                                 form.get("kind", ""), by=by)
                message = "Email queued again."
            else:
                raise NotFoundException(f"no fix {action!r}")
        except discrepancies.FixError as problem:
            error, status_code = str(problem), problem.status_code
        except PaymentProviderError as problem:
            error, status_code = problem.told(), 502
        if not is_htmx(request):
            if error:
                return await self._page(request, form.get("filter", "open"), error,
                                        status_code)
            return Redirect("/admin/discrepancies", status_code=303)
        try:
            row = await discrepancies.get_discrepancy(discrepancy_id)
        except discrepancies.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        return render_fragment(request, "admin_discrepancy_row.html", status_code, row=row,
                               kinds=KINDS, row_message=message, row_error=error)

    @post("/discrepancies/{discrepancy_id:int}/{action:str}", status_code=200)
    async def fix(self, request: Request[Any, Any, Any], discrepancy_id: RowId,
                  action: FromPath[str]) -> Response[Any] | Template:
        return await self._fix(request, discrepancy_id, action)
