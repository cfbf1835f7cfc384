"""`/manage/{slug}/hours…`: opening hours, closures, and the kitchen's pause and busy
controls (the same service as the kitchen screen's, app/kitchen/floor.py), for managers and
owners (and the admin). Forms post and redirect back; bad input re-renders with field errors
(422) and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.accounts.forms import FormInvalid, NotFound, form_of
from app.accounts.guards import require_manager_for_slug, staff_of
from app.infra.form_input import RowId
from app.kitchen import floor
from app.manage import hours as hours_service
from app.manage.views import page_context, restaurant_or_404
from app.restaurants import hours
from app.restaurants.availability import BUSY_CHOICES, PAUSE_CHOICES, is_paused
from app.restaurants.opening import (
    MANUAL_CAPTURE_DAYS,
    closures_of,
    order_window,
    schedule_of,
)
from app.restaurants.tables import Restaurant

DONE = {"saved": "Hours saved.", "closure": "Closure added.", "removed": "Closure removed.",
        "closure_rejected": "Closure added. The orders inside it were rejected: their money "
                            "goes back and the customers are emailed with the reason.",
        "floor": "Saved: the kitchen screens and the menu show it now."}


class HoursController(Controller):
    path = "/manage/{slug:str}/hours"
    guards = [require_manager_for_slug]
    include_in_schema = False

    async def _page(self, request: Request[Any, Any, Any], restaurant: Restaurant, *,
                    values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                    closure_values: dict[str, Any] | None = None,
                    closure_errors: dict[str, str] | None = None, floor_error: str = "",
                    hits: hours_service.ClosureHitsOrders | None = None,
                    status_code: int = 200, done: str = "") -> Template:
        now = datetime.now(UTC)
        window = order_window(restaurant, schedule_of(
            restaurant, await closures_of(int(restaurant.id))), now)
        values = values or hours_service.values_of(restaurant)
        return Template("manage/hours.html", status_code=status_code, context=page_context(
            request, restaurant, "hours", values=values, errors=errors or {},
            any_hours=any(str(values.get(name) or "").strip()
                          for name in hours_service.DAY_FIELDS),
            weekdays=list(zip(hours_service.DAY_FIELDS, hours.WEEKDAYS, strict=True)),
            night_ends=hours.clock_text(hours.LATEST_NIGHT_CLOSE),
            closures=await hours_service.closures(int(restaurant.id)),
            closure_values=closure_values or {}, closure_errors=closure_errors or {},
            floor_error=floor_error, window=window, hits=hits,
            manual_capture_days=MANUAL_CAPTURE_DAYS,
            paused=is_paused(restaurant.paused_until, now),
            pause_choices=PAUSE_CHOICES, busy_choices=BUSY_CHOICES, done=DONE.get(done, "")))

    def _back(self, slug: str, done: str) -> Redirect:
        return Redirect(f"/manage/{slug}/hours?done={done}", status_code=303)

    @get("/")
    async def index(self, request: Request[Any, Any, Any], slug: FromPath[str],
                    done: FromQuery[str] = "") -> Template:
        return await self._page(request, await restaurant_or_404(slug), done=done)

    @post("/", status_code=200)
    async def save(self, request: Request[Any, Any, Any],
                   slug: FromPath[str]) -> Template | Redirect:
        restaurant = await restaurant_or_404(slug)
        try:
            await hours_service.update(restaurant, await form_of(request),
                                       by=staff_of(request).email)
        except FormInvalid as invalid:
            return await self._page(request, restaurant, values=invalid.values,
                                    errors=invalid.errors, status_code=422)
        return self._back(slug, "saved")

    @post("/closures", status_code=200)
    async def add_closure(self, request: Request[Any, Any, Any],
                          slug: FromPath[str]) -> Template | Redirect:
        restaurant = await restaurant_or_404(slug)
        try:
            rejected = await hours_service.add_closure(
                restaurant, await form_of(request), by=staff_of(request).email,
                redis=request.app.state.redis)
        except FormInvalid as invalid:
            return await self._page(request, restaurant, closure_values=invalid.values,
                                    closure_errors=invalid.errors, status_code=422)
        except hours_service.ClosureHitsOrders as hits:  # nothing saved: the owner confirms
            return await self._page(request, restaurant, closure_values=hits.values,
                                    hits=hits, status_code=200)
        return self._back(slug, "closure_rejected" if rejected else "closure")

    @post("/closures/{closure_id:int}/remove", status_code=200)
    async def remove_closure(self, request: Request[Any, Any, Any], slug: FromPath[str],
                             closure_id: RowId) -> Redirect:
        restaurant = await restaurant_or_404(slug)
        try:
            await hours_service.remove_closure(restaurant, closure_id,
                                               by=staff_of(request).email)
        except NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        return self._back(slug, "removed")

    @post("/floor", status_code=200)
    async def set_floor(self, request: Request[Any, Any, Any],
                        slug: FromPath[str]) -> Template | Redirect:
        """Pause new orders and busy time, as the kitchen screen sets them."""
        restaurant = await restaurant_or_404(slug)
        form = await form_of(request)
        redis, actor = request.app.state.redis, staff_of(request).email
        try:
            if "pause" in form:
                await floor.pause_orders(redis, restaurant, form["pause"], actor=actor)
            if "busy" in form:
                await floor.set_busy(redis, restaurant, form["busy"], actor=actor)
        except floor.ControlError as error:
            return await self._page(request, restaurant, floor_error=str(error),
                                    status_code=422)
        return self._back(slug, "floor")
