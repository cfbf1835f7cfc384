"""`GET /manage/{slug}`: the management area's overview (managers, owners, the admin), with the
setup checklist while the restaurant is not live (going live: app/manage/go_live_controller.py),
and its sales export (`/manage/{slug}/sales.csv`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Response, Template

from app.accounts import members
from app.accounts.guards import require_manager_for_slug
from app.manage import sales_export
from app.manage.disputes import disputes_to_answer
from app.manage.sales import sales_of
from app.manage.views import page_context, restaurant_or_404
from app.restaurants import launch
from app.restaurants.availability import is_paused
from app.restaurants.opening import closures_of, order_window, schedule_of
from app.restaurants.tables import Restaurant
from app.templating import zone


class ManageHomeController(Controller):
    path = "/manage/{slug:str}"
    guards = [require_manager_for_slug]
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any], slug: FromPath[str],
                   live: FromQuery[str] = "", refused: FromQuery[str] = "") -> Template:
        """`live=1`: just went live; `refused=1`: a go-live was just refused (the steps still
        missing are named)."""
        return await overview_page(request, await restaurant_or_404(slug),
                                   went_live=live == "1", was_refused=refused == "1")

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


async def overview_page(request: Request[Any, Any, Any], restaurant: Restaurant, *,
                        went_live: bool = False, refused: list[launch.Step] | None = None,
                        was_refused: bool = False, status_code: int = 200) -> Template:
    """The overview; `refused`: the setup steps a go-live was refused for (app/manage/
    go_live_controller.py answers htmx and scripts 409 with this page); `was_refused`: a
    browser sent back here after a refusal, told the steps missing now (none once done)."""
    today = datetime.now(UTC).astimezone(zone(restaurant.timezone)).date()
    staff_count = len(await members.list_members(int(restaurant.id)))
    not_live = restaurant.live_since is None
    # what diners are told now (closed by the hours or a closure): never "accepting" then
    window = order_window(restaurant, schedule_of(
        restaurant, await closures_of(int(restaurant.id))))
    steps = await launch.checklist(restaurant) if not_live else []
    if was_refused and not refused:
        refused = launch.missing(steps)
    return Template("manage/home.html", status_code=status_code, context=page_context(
        request, restaurant, "home", staff_count=staff_count, steps=steps,
        refused=refused or [], went_live=went_live and not not_live, window=window,
        sales=await sales_of(restaurant),
        disputes=await disputes_to_answer(int(restaurant.id)),
        # as the hours page says it: paused until when, busy by how much
        paused=is_paused(restaurant.paused_until, datetime.now(UTC)),
        # the export offers this month so far
        export_from=today.replace(day=1), export_to=today))


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationException(
            detail=f"`{name}` must be a day like 2026-12-01") from None
