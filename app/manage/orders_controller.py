"""`/manage/{slug}/orders…`: a restaurant's own orders for its managers and owners (and the
admin): search, one order with its options, money and receipt, refunds of items or of the
whole order. The admin's pages (`app.manage.order_pages`) limited to this restaurant: another
restaurant's order is 404 on every route, refunds included."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from app.accounts.guards import require_manager_for_slug
from app.manage import order_pages
from app.manage.views import page_context, restaurant_or_404


async def _scope(slug: str) -> order_pages.Scope:
    restaurant = await restaurant_or_404(slug)
    return order_pages.Scope(
        base=f"/manage/{restaurant.slug}/orders", layout="manage/layout.html",
        context=partial(_context, restaurant=restaurant), restaurant_id=int(restaurant.id))


def _context(request: Request[Any, Any, Any], *, restaurant: Any,
             **context: Any) -> dict[str, Any]:
    return page_context(request, restaurant, "orders", **context)


class ManageOrdersController(Controller):
    path = "/manage/{slug:str}/orders"
    guards = [require_manager_for_slug]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any], slug: FromPath[str],
                    q: FromQuery[str] = "", day: FromQuery[str] = "",
                    date_from: FromQuery[str] = "", date_to: FromQuery[str] = "",
                    status: FromQuery[str] = "") -> Template:
        return await order_pages.index(request, await _scope(slug), q=q, day=day,
                                       date_from=date_from, date_to=date_to, status=status)

    @get("/{ref:str}")
    async def show(self, request: Request[Any, Any, Any], slug: FromPath[str],
                   ref: FromPath[str], done: FromQuery[str] = "") -> Template:
        return await order_pages.show(request, await _scope(slug), ref, done)

    @get("/{ref:str}/receipt")
    async def receipt(self, request: Request[Any, Any, Any], slug: FromPath[str],
                      ref: FromPath[str]) -> Template:
        return await order_pages.receipt(request, await _scope(slug), ref)

    @post("/{ref:str}/refund", status_code=200)
    async def refund(self, request: Request[Any, Any, Any], slug: FromPath[str],
                     ref: FromPath[str]) -> Template | Response[Any]:
        return await order_pages.refund(request, await _scope(slug), ref)
