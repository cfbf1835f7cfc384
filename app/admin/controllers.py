"""Admin pages (`/admin…`, admins only): discrepancy queue and fixes, webhook inbox and
replay, email log, restaurants and menus, the live system page, analytics and CSV. Thin:
parse, call a service, render a page or (for htmx) a component."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from app.accounts.guards import require_admin, staff_of
from app.admin import inbox, system
from app.admin import restaurants as restaurant_admin
from app.admin.views import analytics_charts, form_of, fragment, is_htmx, page_context
from app.infra.form_input import RowId
from app.notifications.service import EMAIL_KINDS
from app.ops import analytics, discrepancies
from app.payments.stripe_gateway import PaymentProviderError

FILTERS = ("open", "resolved", "all")
KINDS = sorted(EMAIL_KINDS)


class AdminDiscrepancyController(Controller):
    path = "/admin"
    guards = [require_admin]
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        return await self._page(request, "open")

    @get("/discrepancies")
    async def queue(self, request: Request[Any, Any, Any],
                    status: FromQuery[str] = "open") -> Template:
        return await self._page(request, status if status in FILTERS else "open")

    async def _page(self, request: Request[Any, Any, Any], status: str, error: str = "",
                    status_code: int = 200) -> Template:
        rows = await discrepancies.list_discrepancies(None if status == "all" else status)
        return Template("admin/discrepancies.html", status_code=status_code,
                        context=page_context(request, "discrepancies", rows=rows,
                                             filter=status, filters=FILTERS, kinds=KINDS,
                                             error=error))

    async def _fix(self, request: Request[Any, Any, Any], discrepancy_id: int,
                   action: str) -> Response[Any] | Template:
        by = staff_of(request).email
        form = await form_of(request)
        message, error, status_code = "", "", 200
        try:
            if action == "resolve":
                await discrepancies.resolve(discrepancy_id, by=by, note=form.get("note", ""))
                message = "Resolved."
            elif action == "create-order":
                await discrepancies.create_order_from_session(
                    request.app.state.redis, discrepancy_id, by=by)
                message = "Order created from the Checkout Session."
            elif action == "refund":
                await discrepancies.refund(discrepancy_id, by=by)
                message = "Refunded."
            elif action == "resend-email":
                current = await discrepancies.get_discrepancy(discrepancy_id)
                await discrepancies.resend_email(request.app.state.redis, current.order_ref,
                                                 form.get("kind", ""), by=by)
                message = "Email queued again."
            else:
                raise NotFoundException(f"no fix {action!r}")
        except discrepancies.FixError as problem:
            error, status_code = str(problem), problem.status_code
        except PaymentProviderError as problem:
            error, status_code = f"Stripe: {problem}", 502
        if not is_htmx(request):
            if error:
                return await self._page(request, form.get("filter", "open"), error,
                                        status_code)
            return Redirect("/admin/discrepancies", status_code=303)
        try:
            row = await discrepancies.get_discrepancy(discrepancy_id)
        except discrepancies.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        return fragment(request, "admin_discrepancy_row.html", status_code, row=row,
                        kinds=KINDS, row_message=message, row_error=error)

    @post("/discrepancies/{discrepancy_id:int}/{action:str}", status_code=200)
    async def fix(self, request: Request[Any, Any, Any], discrepancy_id: RowId,
                  action: FromPath[str]) -> Response[Any] | Template:
        return await self._fix(request, discrepancy_id, action)


class AdminInboxController(Controller):
    path = "/admin"
    guards = [require_admin]
    include_in_schema = False

    @get("/webhooks")
    async def webhooks(self, request: Request[Any, Any, Any],
                       provider: FromQuery[str] = "") -> Template:
        events = await inbox.stripe_events()
        deliveries = await inbox.deliveries(provider or None)
        return Template("admin/webhooks.html", context=page_context(
            request, "webhooks", events=events, deliveries=deliveries, provider=provider))

    @post("/webhooks/stripe/{event_id:str}/replay", status_code=200)
    async def replay_stripe(self, request: Request[Any, Any, Any],
                            event_id: FromPath[str]) -> Response[Any]:
        try:
            result = await inbox.replay_stripe_event(request.app.state.redis, event_id)
        except inbox.ReplayError as problem:
            return self._outcome(request, str(problem), False, problem.status_code)
        except PaymentProviderError as problem:
            return self._outcome(request, f"Stripe: {problem}", False, 502)
        return self._outcome(request, result.detail, result.ok)

    @post("/webhooks/resend/{delivery_id:int}/replay", status_code=200)
    async def replay_resend(self, request: Request[Any, Any, Any],
                            delivery_id: RowId) -> Response[Any]:
        try:
            result = await inbox.replay_resend_delivery(delivery_id)
        except inbox.ReplayError as problem:
            return self._outcome(request, str(problem), False, problem.status_code)
        return self._outcome(request, result.detail, result.ok)

    def _outcome(self, request: Request[Any, Any, Any], detail: str, ok: bool,
                 status_code: int = 200) -> Response[Any]:
        if not is_htmx(request) and status_code < 400:
            return Redirect("/admin/webhooks", status_code=303)
        return fragment(request, "admin_outcome.html", status_code, ok=ok, detail=detail)

    @get("/emails")
    async def emails(self, request: Request[Any, Any, Any], q: FromQuery[str] = "") -> Template:
        rows = await inbox.email_log(q)
        return Template("admin/emails.html", context=page_context(
            request, "emails", rows=rows, q=q, kinds=KINDS))

    @post("/emails/resend", status_code=200)
    async def resend(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await form_of(request)
        ref = form.get("order_ref", "").strip()
        try:
            await discrepancies.resend_email(request.app.state.redis, ref,
                                             form.get("kind", ""), by=staff_of(request).email)
        except discrepancies.FixError as problem:
            return self._email_outcome(request, ref, str(problem), False, problem.status_code)
        return self._email_outcome(request, ref, "Email queued again.", True)

    def _email_outcome(self, request: Request[Any, Any, Any], ref: str, detail: str, ok: bool,
                       status_code: int = 200) -> Response[Any]:
        if not is_htmx(request) and ok:
            return Redirect(f"/admin/emails?q={quote(ref, safe='')}", status_code=303)
        return fragment(request, "admin_outcome.html", status_code, ok=ok, detail=detail)


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
                                          "accepting_orders": True})

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
        return Redirect(f"/admin/restaurants/{created.slug}", status_code=303)

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
            await restaurant_admin.update_restaurant(slug, await form_of(request),
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
            await restaurant_admin.save_menu_item(slug, await form_of(request),
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
            await restaurant_admin.save_menu_item(slug, await form_of(request),
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
            item = await restaurant_admin.toggle_available(slug, item_id,
                                                           by=staff_of(request).email)
            restaurant = await restaurant_admin.get_restaurant(slug)
        except restaurant_admin.NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        if not is_htmx(request):
            return Redirect(f"/admin/restaurants/{slug}", status_code=303)
        return fragment(request, "admin_menu_item_row.html", item=item, restaurant=restaurant,
                        price=restaurant_admin.format_price(item.price_amount,
                                                            restaurant.currency))


class AdminSystemController(Controller):
    path = "/admin"
    guards = [require_admin]
    include_in_schema = False

    @get("/system")
    async def page(self, request: Request[Any, Any, Any]) -> Template:
        data = await system.snapshot(request.app.state.redis)
        return Template("admin/system.html", context=page_context(
            request, "system", components=system.components(data),
            checked_at=system.checked_at()))

    @get("/system/status")
    async def status(self, request: Request[Any, Any, Any]) -> Response[Any]:
        data = await system.snapshot(request.app.state.redis)
        response = fragment(request, "admin_system_status.html",
                            components=system.components(data), checked_at=system.checked_at())
        response.headers["Cache-Control"] = "no-store"
        return response


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
        return Response(analytics.to_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})


ADMIN_CONTROLLERS = [AdminDiscrepancyController, AdminInboxController,
                     AdminRestaurantController, AdminSystemController,
                     AdminAnalyticsController]
