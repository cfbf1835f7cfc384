"""`GET|POST /manage/{slug}/settings`: the restaurant's settings, for its owners (and the
admin): contact details, prep time, auto-reject, capture mode, accepting orders."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.accounts.forms import FormInvalid, form_of
from app.accounts.guards import require_owner_for_slug, staff_of
from app.manage import settings
from app.manage.views import page_context, restaurant_or_404


class RestaurantSettingsController(Controller):
    path = "/manage/{slug:str}/settings"
    guards = [require_owner_for_slug]
    include_in_schema = False

    @get("/")
    async def form(self, request: Request[Any, Any, Any], slug: FromPath[str],
                   saved: FromQuery[str] = "") -> Template:
        restaurant = await restaurant_or_404(slug)
        return Template("manage/settings.html", context=page_context(
            request, restaurant, "settings", values=settings.values_of(restaurant), errors={},
            saved=saved == "1"))

    @post("/", status_code=200)
    async def save(self, request: Request[Any, Any, Any],
                   slug: FromPath[str]) -> Template | Redirect:
        restaurant = await restaurant_or_404(slug)
        try:
            await settings.update(restaurant, await form_of(request), by=staff_of(request).email)
        except FormInvalid as invalid:
            return Template("manage/settings.html", status_code=422, context=page_context(
                request, restaurant, "settings", values=invalid.values, errors=invalid.errors,
                saved=False))
        return Redirect(f"/manage/{slug}/settings?saved=1", status_code=303)
