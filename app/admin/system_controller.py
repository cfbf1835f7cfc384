"""Admin on-call view (`/admin/system`, and its live-refreshed status fragment)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Response, Template

from app.accounts.guards import require_admin
from app.admin import system
from app.admin.views import page_context
from app.infra.html import render_fragment


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
        response = render_fragment(request, "admin_system_status.html",
                                   components=system.components(data),
                                   checked_at=system.checked_at())
        response.headers["Cache-Control"] = "no-store"
        return response
