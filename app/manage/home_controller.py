"""`GET /manage/{slug}`: the management area's overview (managers, owners, the admin), and
its sales export (`/manage/{slug}/sales.csv`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.exceptions import ValidationException
from litestar.params import FromPath, QueryParameter
from litestar.response import Response, Template

from app.accounts import members
from app.accounts.guards import require_manager_for_slug
from app.manage import sales_export
from app.manage.disputes import disputes_to_answer
from app.manage.sales import sales_of
from app.manage.views import page_context, restaurant_or_404
from app.restaurants.availability import is_paused
from app.templating import zone


class ManageHomeController(Controller):
    path = "/manage/{slug:str}"
    guards = [require_manager_for_slug]
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        restaurant = await restaurant_or_404(slug)
        today = datetime.now(UTC).astimezone(zone(restaurant.timezone)).date()
        staff_count = len(await members.list_members(int(restaurant.id)))
        return Template("manage/home.html", context=page_context(
            request, restaurant, "home", staff_count=staff_count,
            sales=await sales_of(restaurant),
            disputes=await disputes_to_answer(int(restaurant.id)),
            # as the hours page says it: paused until when, busy by how much
            paused=is_paused(restaurant.paused_until, datetime.now(UTC)),
            # the export offers this month so far
            export_from=today.replace(day=1), export_to=today))

    @get("/sales.csv")
    async def sales_csv(self, slug: FromPath[str],
                        first: Annotated[str, QueryParameter(name="from")] = "",
                        last: Annotated[str, QueryParameter(name="to")] = "") -> Response[str]:
        """The orders kept from `from` to `to` (local days, both included) as CSV; this
        month so far when they are not given."""
        restaurant = await restaurant_or_404(slug)
        today = datetime.now(UTC).astimezone(zone(restaurant.timezone)).date()
        start = _day(first, "from") if first else today.replace(day=1)
        end = _day(last, "to") if last else today
        if end < start:
            raise ValidationException(detail="`to` must be on or after `from`")
        if (end - start).days >= sales_export.MAX_DAYS:
            raise ValidationException(
                detail=f"at most {sales_export.MAX_DAYS} days at a time")
        orders = await sales_export.sales_in(restaurant, start, end)
        name = f"{restaurant.slug}-sales-{start.isoformat()}-{end.isoformat()}.csv"
        # Litestar adds "; charset=utf-8" to a text type itself (given too, it said it twice)
        return Response(sales_export.to_csv(orders, restaurant),
                        media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationException(
            detail=f"`{name}` must be a day like 2026-12-01") from None
