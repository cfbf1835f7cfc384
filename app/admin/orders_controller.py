"""Admin Orders page (`/admin/orders…`, admins only): search live and archived orders, open
one (its money: payment, refunds, dispute; its receipt), refund some of its items or all of
it. Thin: the pages are `app.manage.order_pages`, shared with the restaurants' own
(`app.manage.orders_controller`), here for every restaurant."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from app.accounts.guards import require_admin
from app.admin.views import page_context
from app.manage import order_pages


def _context(request: Request[Any, Any, Any], **context: Any) -> dict[str, Any]:
    return page_context(request, "orders", **context)


SCOPE = order_pages.Scope(base="/admin/orders", layout="admin/layout.html", context=_context)


class AdminOrdersController(Controller):
    path = "/admin/orders"
    guards = [require_admin]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any], q: FromQuery[str] = "",
                    day: FromQuery[str] = "", date_from: FromQuery[str] = "",
                    date_to: FromQuery[str] = "", status: FromQuery[str] = "",
                    restaurant: FromQuery[str] = "") -> Template:
        return await order_pages.index(request, SCOPE, q=q, day=day, date_from=date_from,
                                       date_to=date_to, status=status, restaurant=restaurant)

    @get("/{ref:str}")
    async def show(self, request: Request[Any, Any, Any], ref: FromPath[str],
                   done: FromQuery[str] = "") -> Template:
        return await order_pages.show(request, SCOPE, ref, done)

    @get("/{ref:str}/receipt")
    async def receipt(self, request: Request[Any, Any, Any], ref: FromPath[str]) -> Template:
        return await order_pages.receipt(request, SCOPE, ref)

    @post("/{ref:str}/refund", status_code=200)
    async def refund(self, request: Request[Any, Any, Any],
                     ref: FromPath[str]) -> Template | Response[Any]:
        return await order_pages.refund(request, SCOPE, ref)
