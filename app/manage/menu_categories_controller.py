"""`/manage/{slug}/menu/categories…`: add, rename, move and delete (when empty) the menu's
categories, for managers and owners. Bad input re-renders the menu page with the error."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts.forms import form_of
from app.accounts.guards import require_manager_for_slug, staff_of
from app.infra.form_input import RowId
from app.manage.menu_controller import menu_page
from app.manage.views import restaurant_or_404
from app.restaurants import categories, editing


class ManageMenuCategoriesController(Controller):
    path = "/manage/{slug:str}/menu/categories"
    guards = [require_manager_for_slug]
    include_in_schema = False

    @post("/", status_code=200)
    async def add(self, request: Request[Any, Any, Any],
                  slug: FromPath[str]) -> Template | Redirect:
        restaurant = await restaurant_or_404(slug)
        form = await form_of(request)
        try:
            await categories.add_category(restaurant, form.get("name", ""),
                                          by=staff_of(request).email)
        except editing.FormInvalid as invalid:
            return await menu_page(request, restaurant, status_code=422, values=invalid.values,
                                    errors={"new-name": invalid.errors["name"]})
        return Redirect(f"/manage/{slug}/menu?saved=category", status_code=303)

    @post("/{category_id:int}/rename", status_code=200)
    async def rename(self, request: Request[Any, Any, Any], slug: FromPath[str],
                     category_id: RowId) -> Template | Redirect:
        restaurant = await restaurant_or_404(slug)
        form = await form_of(request)
        try:
            await categories.rename_category(restaurant, category_id, form.get("name", ""),
                                             by=staff_of(request).email)
        except editing.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        except editing.FormInvalid as invalid:
            return await menu_page(request, restaurant, status_code=422, errors={
                f"category-{category_id}": invalid.errors["name"]})
        return Redirect(f"/manage/{slug}/menu?saved=category", status_code=303)

    @post("/{category_id:int}/move", status_code=303)
    async def move(self, request: Request[Any, Any, Any], slug: FromPath[str],
                   category_id: RowId) -> Redirect:
        restaurant = await restaurant_or_404(slug)
        direction = (await form_of(request)).get("direction", "")
        try:
            await categories.move_category(restaurant, category_id,
                                           "up" if direction == "up" else "down",
                                           by=staff_of(request).email)
        except editing.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        return Redirect(f"/manage/{slug}/menu#category-{category_id}", status_code=303)

    @post("/{category_id:int}/delete", status_code=200)
    async def delete(self, request: Request[Any, Any, Any], slug: FromPath[str],
                     category_id: RowId) -> Template | Redirect:
        restaurant = await restaurant_or_404(slug)
        try:
            await categories.delete_category(restaurant, category_id,
                                             by=staff_of(request).email)
        except editing.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        except editing.FormInvalid as invalid:
            return await menu_page(request, restaurant, status_code=422, errors={
                f"category-{category_id}": invalid.errors["category"]})
        return Redirect(f"/manage/{slug}/menu?saved=category", status_code=303)
