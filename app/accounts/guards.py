"""Route guards for staff pages, streams and actions. Anonymous callers get `LoginRequired`
(pages: redirect to /login?next=…; streams, HTMX and APIs: 401, HTMX also `HX-Redirect`);
logged-in staff of another restaurant get 404 on its `{slug}` routes (the same answer as for
a slug that does not exist: whether another restaurant exists is not theirs to learn);
staff below the role a route needs at their own restaurant, or non-admins on admin pages,
get 403. Roles and what each may do: app/accounts/roles.py.

The session payload they read (server-side in Redis, under the session key "staff"; see
app/accounts/session.py, `current_staff(request)` returns it as a `StaffSession`, already
checked against the account's session version):

    {"user_id": 3, "email": "kitchen@demo.test",
     "role": "admin" | "owner" | "manager" | "kitchen",
     "restaurant_id": 1 | None, "restaurant_slug": "demo" | None, "login_at": "<ISO 8601>",
     "session_version": 1}

Use on handlers whose path has a `{slug}` parameter (the platform admin passes them all):

    @get("/kitchen/{slug:str}", guards=[require_staff_for_slug])     # any staff there
    @get("/manage/{slug:str}", guards=[require_manager_for_slug])    # manager or owner there
    @get("/manage/{slug:str}/settings", guards=[require_owner_for_slug])
    @get("/admin", guards=[require_admin])                           # the platform admin
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect

from app.accounts.roles import Role
from app.accounts.session import StaffSession, current_staff
from app.infra.html import is_htmx

NOT_FOUND = "no such restaurant"


class LoginRequired(NotAuthorizedException):
    """No staff session on a page that needs one."""


def require_staff(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if current_staff(connection) is None:
        raise LoginRequired("log in first")


def _require_role_for_slug(connection: ASGIConnection[Any, Any, Any, Any], minimum: Role,
                           refusal: str) -> None:
    staff = current_staff(connection)
    if staff is None:
        raise LoginRequired("log in first")
    slug = str(connection.path_params.get("slug", ""))
    if staff.at_least(slug, minimum):
        return
    if staff.restaurant_slug != slug:
        # Another restaurant's, or none at all: the same 404 either way (the guard reads no
        # database), as everywhere else another restaurant's data is, so a member of one
        # restaurant cannot tell which other slugs exist. The answer names nothing of it.
        raise NotFoundException(NOT_FOUND)
    raise PermissionDeniedException(refusal)  # their own restaurant, below this page's role


def require_staff_for_slug(connection: ASGIConnection[Any, Any, Any, Any],
                           _: BaseRouteHandler) -> None:
    """Staff of the restaurant in the path's `{slug}` (any role), or an admin."""
    _require_role_for_slug(connection, Role.KITCHEN, "staff of this restaurant only")


def require_manager_for_slug(connection: ASGIConnection[Any, Any, Any, Any],
                             _: BaseRouteHandler) -> None:
    """A manager or owner of the restaurant in the path's `{slug}`, or an admin."""
    _require_role_for_slug(connection, Role.MANAGER, "managers and owners only")


def require_owner_for_slug(connection: ASGIConnection[Any, Any, Any, Any],
                           _: BaseRouteHandler) -> None:
    """An owner of the restaurant in the path's `{slug}`, or an admin."""
    _require_role_for_slug(connection, Role.OWNER, "owners only")


def require_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    staff = current_staff(connection)
    if staff is None:
        raise LoginRequired("log in first")
    if not staff.is_admin:
        raise PermissionDeniedException("admins only")


def staff_of(request: Request[Any, Any, Any]) -> StaffSession:
    """The guarded request's staff member (a guard has already checked there is one)."""
    staff = current_staff(request)
    if staff is None:
        raise LoginRequired("log in first")
    return staff


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """A browser navigating to a page (not HTMX, not an event stream, not an API call)."""
    accept = request.headers.get("accept", "")
    return (request.method == "GET" and "text/html" in accept
            and not is_htmx(request))


def login_required_handler(request: Request[Any, Any, Any],
                           exc: LoginRequired) -> Response[Any]:
    if wants_page(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?next={quote(target, safe='')}", status_code=303)
    headers = {"HX-Redirect": "/login"} if is_htmx(request) else {}
    return Response({"status_code": 401, "detail": str(exc.detail)}, status_code=401,
                    headers=headers)
