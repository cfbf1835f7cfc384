"""`GET /manage/{slug}`: the management area's overview (managers, owners, the admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from app.accounts import members
from app.accounts.guards import require_manager_for_slug
from app.manage.disputes import disputes_to_answer
from app.manage.sales import sales_of
from app.manage.views import page_context, restaurant_or_404
from app.restaurants.availability import is_paused


class ManageHomeController(Controller):
    path = "/manage/{slug:str}"
    guards = [require_manager_for_slug]
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        restaurant = await restaurant_or_404(slug)
        staff_count = len(await members.list_members(int(restaurant.id)))
        return Template("manage/home.html", context=page_context(
            request, restaurant, "home", staff_count=staff_count,
            sales=await sales_of(restaurant),
            disputes=await disputes_to_answer(int(restaurant.id)),
            # as the hours page says it: paused until when, busy by how much
            paused=is_paused(restaurant.paused_until, datetime.now(UTC))))
