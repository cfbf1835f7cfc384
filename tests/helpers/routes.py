"""Every route of the web app, classified. A new route must be added here (the isolation
and CSRF suites then cover it), or tests/security/test_isolation.py fails.

Classes:
- public:  anyone (customer pages and API, ops probes, static files, OpenAPI)
- staff:   `/kitchen/{slug}…`, staff of that restaurant or an admin (require_staff_for_slug)
- manager: `/manage/{slug}…`, a manager or owner of that restaurant, or an admin
           (require_manager_for_slug)
- owner:   `/manage/{slug}…`, an owner of that restaurant, or an admin (require_owner_for_slug)
- admin:   `/admin…`, admins only (require_admin)
- link:    opened from an account email, authenticated by the signed token in the path
           (invitations, password reset); no session needed
- webhook: provider callbacks, authenticated by signature, CSRF-exempt
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

AUTO_METHODS = {"OPTIONS", "HEAD"}  # Litestar's own handlers

ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/"): "public",
    ("GET", "/r/{slug:str}"): "public",
    ("POST", "/r/{slug:str}/cart"): "public",
    ("GET", "/r/{slug:str}/cart"): "public",  # reopened: back to the menu
    ("GET", "/r/{slug:str}/checkout"): "public",
    ("POST", "/r/{slug:str}/checkout"): "public",
    ("GET", "/orders/{order_id:str}"): "public",
    ("GET", "/orders/{order_id:str}/progress"): "public",
    ("POST", "/orders/{order_id:str}/payment-link"): "public",
    ("GET", "/orders/{ref:str}/events"): "public",
    ("GET", "/api/restaurants/{slug:str}/menu"): "public",
    ("POST", "/api/orders"): "public",
    ("GET", "/menu-photos/{photo_id:int}"): "public",
    ("GET", "/manage/{slug:str}/menu"): "manager",
    ("GET", "/manage/{slug:str}/menu/items/new"): "manager",
    ("POST", "/manage/{slug:str}/menu/items"): "manager",
    ("GET", "/manage/{slug:str}/menu/items/{item_id:int}"): "manager",
    ("POST", "/manage/{slug:str}/menu/items/{item_id:int}"): "manager",
    ("POST", "/manage/{slug:str}/menu/items/{item_id:int}/move"): "manager",
    ("POST", "/manage/{slug:str}/menu/items/{item_id:int}/delete"): "manager",
    ("POST", "/manage/{slug:str}/menu/categories"): "manager",
    ("POST", "/manage/{slug:str}/menu/categories/{category_id:int}/rename"): "manager",
    ("POST", "/manage/{slug:str}/menu/categories/{category_id:int}/move"): "manager",
    ("POST", "/manage/{slug:str}/menu/categories/{category_id:int}/delete"): "manager",
    ("GET", "/api/orders/{order_id:str}"): "public",
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "public",
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("POST", "/logout"): "public",
    ("GET", "/static/{file_path:path}"): "public",
    ("POST", "/webhooks/stripe"): "webhook",
    ("POST", "/webhooks/resend"): "webhook",
    ("GET", "/kitchen/{slug:str}"): "staff",
    ("GET", "/kitchen/{slug:str}/board"): "staff",
    ("GET", "/kitchen/{slug:str}/events"): "staff",
    ("GET", "/kitchen/{slug:str}/orders/{ref:str}/ticket"): "staff",
    ("POST", "/kitchen/{slug:str}/orders/{ref:str}/{action:str}"): "staff",
    ("GET", "/admin"): "admin",
    ("GET", "/admin/discrepancies"): "admin",
    ("POST", "/admin/discrepancies/{discrepancy_id:int}/{action:str}"): "admin",
    ("GET", "/admin/webhooks"): "admin",
    ("POST", "/admin/webhooks/resend/{delivery_id:int}/replay"): "admin",
    ("POST", "/admin/webhooks/stripe/{event_id:str}/replay"): "admin",
    ("GET", "/admin/emails"): "admin",
    ("POST", "/admin/emails/resend"): "admin",
    ("GET", "/admin/restaurants"): "admin",
    ("POST", "/admin/restaurants"): "admin",
    ("GET", "/admin/restaurants/new"): "admin",
    ("GET", "/admin/restaurants/{slug:str}"): "admin",
    ("POST", "/admin/restaurants/{slug:str}"): "admin",
    ("POST", "/admin/restaurants/{slug:str}/menu"): "admin",
    ("GET", "/admin/restaurants/{slug:str}/menu/{item_id:int}"): "admin",
    ("POST", "/admin/restaurants/{slug:str}/menu/{item_id:int}"): "admin",
    ("POST", "/admin/restaurants/{slug:str}/menu/{item_id:int}/toggle"): "admin",
    ("GET", "/admin/system"): "admin",
    ("GET", "/admin/system/status"): "admin",
    ("GET", "/admin/analytics"): "admin",
    ("GET", "/admin/analytics.csv"): "admin",
    # Staff accounts (issue #16): the management area, invitations, password reset.
    ("GET", "/manage/{slug:str}"): "manager",
    ("GET", "/manage/{slug:str}/sales.csv"): "manager",
    ("GET", "/manage/{slug:str}/staff"): "manager",
    ("POST", "/manage/{slug:str}/staff/invitations"): "manager",
    ("POST", "/manage/{slug:str}/staff/invitations/{invitation_id:int}/withdraw"): "manager",
    ("POST", "/manage/{slug:str}/staff/{member_id:int}/remove"): "manager",
    ("POST", "/manage/{slug:str}/staff/{member_id:int}/role"): "manager",
    ("GET", "/manage/{slug:str}/settings"): "owner",
    ("POST", "/manage/{slug:str}/settings"): "owner",
    ("POST", "/manage/{slug:str}/go-live"): "owner",
    ("POST", "/manage/{slug:str}/go-live/kitchen"): "owner",
    ("GET", "/invitations/{token:str}"): "link",
    ("POST", "/invitations/{token:str}"): "link",
    ("GET", "/password-reset"): "public",
    ("POST", "/password-reset"): "public",
    ("GET", "/password-reset/{token:str}"): "link",
    ("POST", "/password-reset/{token:str}"): "link",
    # floor (#15): the menu's live feed, the kitchen's floor controls, the Orders page
    ("GET", "/r/{slug:str}/events"): "public",
    ("GET", "/kitchen/{slug:str}/controls"): "staff",
    ("POST", "/kitchen/{slug:str}/pause"): "staff",
    ("POST", "/kitchen/{slug:str}/busy"): "staff",
    ("POST", "/kitchen/{slug:str}/menu/{item_id:int}/availability"): "staff",
    ("POST", "/kitchen/{slug:str}/menu/options/{option_id:int}/availability"): "staff",
    ("POST", "/kitchen/{slug:str}/alarm/acknowledge"): "staff",
    ("POST", "/kitchen/{slug:str}/notices/acknowledge"): "staff",
    ("POST", "/kitchen/{slug:str}/notices/{ref:str}/acknowledge"): "staff",
    ("GET", "/admin/orders"): "admin",
    ("GET", "/admin/orders/{ref:str}"): "admin",
    ("POST", "/admin/orders/{ref:str}/refund"): "admin",
    ("GET", "/admin/orders/{ref:str}/receipt"): "admin",
    # hours (#16 items 3, 4): opening hours, closures, pause and busy from the management area
    ("GET", "/manage/{slug:str}/hours"): "manager",
    ("POST", "/manage/{slug:str}/hours"): "manager",
    ("POST", "/manage/{slug:str}/hours/closures"): "manager",
    ("POST", "/manage/{slug:str}/hours/closures/{closure_id:int}/remove"): "manager",
    ("POST", "/manage/{slug:str}/hours/floor"): "manager",
    # the restaurant's own orders: search, one order, its receipt, refunds
    ("GET", "/manage/{slug:str}/orders"): "manager",
    ("GET", "/manage/{slug:str}/orders/{ref:str}"): "manager",
    ("GET", "/manage/{slug:str}/orders/{ref:str}/receipt"): "manager",
    ("POST", "/manage/{slug:str}/orders/{ref:str}/refund"): "manager",
}
# Litestar's OpenAPI document and UI pages.
SCHEMA_PREFIX = "/schema"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    guards: tuple[str, ...]


def app_routes(app: Litestar) -> list[Route]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            guards = tuple(getattr(getattr(guard, "func", guard), "__name__", repr(guard))
                           for guard in handler.resolve_guards())
            for method in sorted(handler.http_methods - AUTO_METHODS):
                found.append(Route(method, route.path, guards))
    return found


def fill(path: str, values: dict[str, Any]) -> str:
    """`/kitchen/{slug:str}/orders/{ref:str}` with values for slug and ref."""
    for name, value in values.items():
        for kind in ("str", "int", "path"):
            path = path.replace(f"{{{name}:{kind}}}", str(value))
    assert "{" not in path, f"no value for a parameter of {path}"
    return path
