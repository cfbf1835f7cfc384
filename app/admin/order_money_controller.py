"""`/admin/orders/{ref}`: an order's money (payment, refunds, dispute) and the partial refund
of items. Thin: parse, call `app.payments.partial_refunds`, render."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.accounts.guards import require_admin, staff_of
from app.admin.views import form_of, page_context
from app.orders.tables import OrderItem, PaidOrder
from app.orders.views import refund_lines
from app.payments import partial_refunds


class AdminOrderMoneyController(Controller):
    path = "/admin/orders"
    guards = [require_admin]
    include_in_schema = False

    async def _page(self, request: Request[Any, Any, Any], ref: str, error: str = "",
                    status_code: int = 200, done: str = "") -> Template:
        order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
        if order is None:
            raise NotFoundException(f"no paid order {ref}")
        items = await OrderItem.objects().where(OrderItem.paid_order == order.id).order_by(
            OrderItem.id)
        return Template("admin/order_money.html", status_code=status_code,
                        context=page_context(request, "orders", order=order, items=items,
                                             refunds=await refund_lines(order.id),
                                             remaining=order.amount_charged
                                             - order.amount_refunded,
                                             nonce=secrets.token_urlsafe(12), error=error,
                                             done=done))

    @get("/{ref:str}")
    async def show(self, request: Request[Any, Any, Any], ref: FromPath[str],
                   done: FromQuery[str] = "") -> Template:
        return await self._page(request, ref, done=done)

    @post("/{ref:str}/refund", status_code=200)
    async def refund(self, request: Request[Any, Any, Any],
                     ref: FromPath[str]) -> Template | Redirect:
        try:
            await partial_refunds.refund_items(request.app.state.redis, ref,
                                               await form_of(request),
                                               by=staff_of(request).email)
        except partial_refunds.RefundRefused as refused:
            if refused.status_code == 404:
                raise NotFoundException(str(refused)) from refused
            return await self._page(request, ref, str(refused), refused.status_code)
        return Redirect(f"/admin/orders/{ref}?done=refund", status_code=303)
