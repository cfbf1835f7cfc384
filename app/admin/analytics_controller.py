"""Admin analytics (`/admin/analytics`, and its CSV)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromQuery
from litestar.response import Response, Template

from app.accounts.guards import require_admin
from app.admin.views import analytics_charts, page_context
from app.ops import analytics
from app.restaurants import editing as restaurant_admin


class AdminAnalyticsController(Controller):
    path = "/admin"
    guards = [require_admin]
    include_in_schema = False

    async def _report(self, restaurant: str, days: int) -> analytics.Report:
        if not 1 <= days <= analytics.MAX_DAYS:
            raise HTTPException(status_code=400,
                                detail=f"days must be between 1 and {analytics.MAX_DAYS}")
        if not restaurant:
            return await analytics.report(None, days)
        try:
            found = await restaurant_admin.get_restaurant(restaurant)
        except restaurant_admin.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        return await analytics.report(int(found.id), days, restaurant_name=found.name)

    @get("/analytics")
    async def page(self, request: Request[Any, Any, Any], restaurant: FromQuery[str] = "",
                   days: FromQuery[int] = 30) -> Template:
        report = await self._report(restaurant, days)
        return Template("admin/analytics.html", context=page_context(
            request, "analytics", report=report, charts=analytics_charts(report),
            restaurants=await restaurant_admin.list_restaurants(), slug=restaurant, days=days))

    @get("/analytics.csv")
    async def csv(self, restaurant: FromQuery[str] = "",
                  days: FromQuery[int] = 30) -> Response[str]:
        report = await self._report(restaurant, days)
        name = f"orderpass-analytics-{restaurant or 'all'}-{report.start}-{report.end}.csv"
        return Response(analytics.to_csv(report), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})
