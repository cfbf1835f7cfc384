"""Admin Orders page (`/admin/orders…`, admins only): search live and archived orders, open
one (its money: payment, refunds, dispute), refund some of its items or all of it. Thin:
parse, call `app.admin.order_search` and `app.payments.partial_refunds`, render."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from app.accounts.guards import require_admin, staff_of
from app.admin import order_search
from app.admin.views import form_of, page_context
from app.payments import partial_refunds
from app.payments.stripe_gateway import PaymentProviderError
from app.restaurants import editing as restaurant_admin

DONE = {"refund": "Refund made; the customer has been emailed.",
        "refunded": "Refunded in full.", "voided": "The card hold was released in full."}


class AdminOrdersController(Controller):
    path = "/admin/orders"
    guards = [require_admin]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any], q: FromQuery[str] = "",
                    day: FromQuery[str] = "", restaurant: FromQuery[str] = "") -> Template:
        query, problem = order_search.Query.parse(q, day, restaurant)
        rows = [] if problem else await order_search.search(query)
        return Template("admin/orders.html", status_code=400 if problem else 200,
                        context=page_context(
                            request, "orders", rows=rows, q=q, day=day, slug=restaurant,
                            problem=problem,
                            restaurants=await restaurant_admin.list_restaurants()))

    async def _detail(self, request: Request[Any, Any, Any], ref: str, *, message: str = "",
                      error: str = "", status_code: int = 200) -> Template:
        found = await order_search.detail(request.app.state.redis, ref)
        if found is None:
            raise NotFoundException(f"no paid order {ref!r}")
        return Template("admin/order_detail.html", status_code=status_code,
                        context=page_context(request, "orders", detail=found, order=found.view,
                                             refunds=found.view.refunds,
                                             nonce=secrets.token_urlsafe(12),
                                             message=message, error=error))

    @get("/{ref:str}")
    async def show(self, request: Request[Any, Any, Any], ref: FromPath[str],
                   done: FromQuery[str] = "") -> Template:
        return await self._detail(request, ref, message=DONE.get(done, ""))

    @post("/{ref:str}/refund", status_code=200)
    async def refund(self, request: Request[Any, Any, Any],
                     ref: FromPath[str]) -> Template | Response[Any]:
        """Some items (`qty_<item id>` fields, with the form's `nonce` as the refund's key)
        or, without item fields, the whole order."""
        form = await form_of(request)
        by = staff_of(request).email
        try:
            if any(name.startswith("qty_") for name in form):
                await partial_refunds.refund_items(request.app.state.redis, ref, form, by=by)
                done = "refund"
            else:
                done = await partial_refunds.refund_whole(request.app.state.redis, ref, by=by,
                                                          reason=form.get("reason", ""))
        except partial_refunds.RefundRefused as refused:
            if refused.status_code == 404:
                raise NotFoundException(str(refused)) from refused
            return await self._detail(request, ref, error=str(refused),
                                      status_code=refused.status_code)
        except PaymentProviderError as problem:
            return await self._detail(request, ref, error=f"Stripe: {problem}", status_code=502)
        return Redirect(f"/admin/orders/{quote(ref, safe='')}?done={done}", status_code=303)
