"""`POST /manage/{slug}/go-live` (owners, the admin): the restaurant goes live when its setup
checklist is done (app/restaurants/launch.py). Refused (a step still to do, the button pressed
on a page left open): a browser's form post goes back to the overview (303, `?refused=1`), which
names the steps, so a reload posts nothing again; htmx and other callers get 409 and the
overview. Live already: back to the overview (a second tap changes nothing).
`POST /manage/{slug}/go-live/kitchen`: the owner runs the kitchen screen themselves (`myself`
1) or no longer (0), the checklist's kitchen step without a kitchen or manager account."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts.guards import require_owner_for_slug, staff_of
from app.infra.html import is_navigation
from app.manage.home_controller import overview_page
from app.manage.views import restaurant_or_404
from app.restaurants import launch


class GoLiveController(Controller):
    path = "/manage/{slug:str}/go-live"
    guards = [require_owner_for_slug]
    include_in_schema = False

    @post("/", status_code=200)
    async def go_live(self, request: Request[Any, Any, Any],
                      slug: FromPath[str]) -> Template | Redirect:
        restaurant = await restaurant_or_404(slug)
        try:
            await launch.go_live(request.app.state.redis, restaurant,
                                 by=staff_of(request).email)
        except launch.NotReady as not_ready:
            if is_navigation(request):
                return Redirect(f"/manage/{slug}?refused=1", status_code=303)
            return await overview_page(request, restaurant, refused=not_ready.steps,
                                       status_code=409)
        return Redirect(f"/manage/{slug}?live=1", status_code=303)

    @post("/kitchen", status_code=303)
    async def kitchen_myself(self, request: Request[Any, Any, Any],
                             slug: FromPath[str]) -> Redirect:
        restaurant = await restaurant_or_404(slug)
        form = await request.form()
        await launch.run_kitchen_myself(restaurant, str(form.get("myself")) == "1",
                                        by=staff_of(request).email)
        return Redirect(f"/manage/{slug}#setup-kitchen", status_code=303)
