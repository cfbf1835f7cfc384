"""Admin restaurants and menus (`/admin/restaurants…`): forms over app.restaurants.editing."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from app.accounts.guards import require_admin, staff_of
from app.admin.views import form_of, page_context
from app.infra.form_input import RowId
from app.infra.html import is_htmx, render_fragment
from app.restaurants import editing as restaurant_admin


class AdminRestaurantController(Controller):
    path = "/admin/restaurants"
    guards = [require_admin]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        rows = await restaurant_admin.list_restaurants()
        return Template("admin/restaurants.html", context=page_context(
            request, "restaurants", restaurants=rows))

    @get("/new")
    async def new(self, request: Request[Any, Any, Any]) -> Template:
        return self._form(request, None, {"currency": "eur", "timezone": "Europe/Berlin",
                                          "default_prep_minutes": 15, "auto_reject_minutes": 10,
                                          "capture_mode": "automatic",
                                          "tax_mode": "included",
                                          "default_tax_rate": "0", "tips_enabled": True})

    def _form(self, request: Request[Any, Any, Any], slug: str | None, values: dict[str, Any],
              errors: dict[str, str] | None = None, status_code: int = 200,
              **extra: Any) -> Template:
        return Template("admin/restaurant_form.html", status_code=status_code,
                        context=page_context(request, "restaurants", slug=slug, values=values,
                                             errors=errors or {}, **extra))

    @post("/", status_code=200)
    async def create(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        try:
            created = await restaurant_admin.create_restaurant(
                await form_of(request), by=staff_of(request).email)
        except restaurant_admin.FormInvalid as invalid:
            return self._form(request, None, invalid.values, invalid.errors, 422)
        return Redirect(f"/admin/restaurants/{created.slug}?saved=created", status_code=303)

    async def _detail(self, request: Request[Any, Any, Any], slug: str,
                      values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                      item_values: dict[str, Any] | None = None,
                      item_errors: dict[str, str] | None = None, status_code: int = 200,
                      saved: str = "") -> Template:
        try:
            restaurant = await restaurant_admin.get_restaurant(slug)
        except restaurant_admin.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        items = await restaurant_admin.menu(restaurant)
        return self._form(
            request, slug, values or restaurant_admin.restaurant_values(restaurant), errors,
            status_code, restaurant=restaurant, items=items,
            item_values=item_values or {"available": True, "position": len(items)},
            item_errors=item_errors or {}, saved=saved,
            price_of=lambda item: restaurant_admin.format_price(item.price_amount,
                                                                restaurant.currency))

    @get("/{slug:str}")
    async def detail(self, request: Request[Any, Any, Any], slug: FromPath[str],
                     saved: FromQuery[str] = "") -> Template:
        return await self._detail(request, slug, saved=saved)

    @post("/{slug:str}", status_code=200)
    async def update(self, request: Request[Any, Any, Any],
                     slug: FromPath[str]) -> Template | Redirect:
        try:
            await restaurant_admin.update_restaurant(request.app.state.redis, slug,
                                                     await form_of(request),
                                                     by=staff_of(request).email)
        except restaurant_admin.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        except restaurant_admin.FormInvalid as invalid:
            return await self._detail(request, slug, invalid.values, invalid.errors,
                                      status_code=422)
        return Redirect(f"/admin/restaurants/{slug}?saved=restaurant", status_code=303)

    @post("/{slug:str}/menu", status_code=200)
    async def add_item(self, request: Request[Any, Any, Any],
                       slug: FromPath[str]) -> Template | Redirect:
        try:
            await restaurant_admin.save_menu_item(request.app.state.redis, slug,
                                                  await form_of(request),
                                                  by=staff_of(request).email)
        except restaurant_admin.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        except restaurant_admin.FormInvalid as invalid:
            return await self._detail(request, slug, item_values=invalid.values,
                                      item_errors=invalid.errors, status_code=422)
        return Redirect(f"/admin/restaurants/{slug}?saved=item", status_code=303)

    @get("/{slug:str}/menu/{item_id:int}")
    async def edit_item(self, request: Request[Any, Any, Any], slug: FromPath[str],
                        item_id: RowId) -> Template:
        try:
            restaurant = await restaurant_admin.get_restaurant(slug)
            item = await restaurant_admin.get_item(restaurant, item_id)
        except restaurant_admin.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        return self._item_form(request, restaurant, item_id,
                               restaurant_admin.item_values(item, restaurant.currency))

    def _item_form(self, request: Request[Any, Any, Any], restaurant: Any, item_id: int,
                   values: dict[str, Any], errors: dict[str, str] | None = None,
                   status_code: int = 200) -> Template:
        return Template("admin/menu_item_form.html", status_code=status_code,
                        context=page_context(request, "restaurants", restaurant=restaurant,
                                             item_id=item_id, values=values,
                                             errors=errors or {}))

    @post("/{slug:str}/menu/{item_id:int}", status_code=200)
    async def update_item(self, request: Request[Any, Any, Any], slug: FromPath[str],
                          item_id: RowId) -> Template | Redirect:
        try:
            await restaurant_admin.save_menu_item(request.app.state.redis, slug,
                                                  await form_of(request),
                                                  by=staff_of(request).email, item_id=item_id)
        except restaurant_admin.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        except restaurant_admin.FormInvalid as invalid:
            restaurant = await restaurant_admin.get_restaurant(slug)
            return self._item_form(request, restaurant, item_id, invalid.values,
                                   invalid.errors, 422)
        return Redirect(f"/admin/restaurants/{slug}?saved=item", status_code=303)

    @post("/{slug:str}/menu/{item_id:int}/toggle", status_code=200)
    async def toggle(self, request: Request[Any, Any, Any], slug: FromPath[str],
                     item_id: RowId) -> Response[Any]:
        try:
            item = await restaurant_admin.toggle_available(request.app.state.redis, slug, item_id,
                                                           by=staff_of(request).email)
            restaurant = await restaurant_admin.get_restaurant(slug)
        except restaurant_admin.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        if not is_htmx(request):
            return Redirect(f"/admin/restaurants/{slug}", status_code=303)
        return render_fragment(request, "admin_menu_item_row.html", item=item,
                               restaurant=restaurant,
                               price=restaurant_admin.format_price(item.price_amount,
                                                                   restaurant.currency))
