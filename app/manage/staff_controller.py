"""`/manage/{slug}/staff…`: a restaurant's staff and invitations. Managers and owners (and
the admin) open it; what each may do to whom is app/accounts/roles.py, enforced by the
services (403 otherwise). Forms post and redirect back; bad input re-renders with field
errors (422) and writes nothing."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.accounts import invitations, members, roles
from app.accounts.forms import FormInvalid, NotAllowed, NotFound, form_of
from app.accounts.guards import require_manager_for_slug, staff_of
from app.infra.form_input import RowId
from app.manage.views import page_context, restaurant_or_404
from app.restaurants.tables import Restaurant

DONE = {"invited": "Invitation sent.", "withdrawn": "Invitation withdrawn.",
        "removed": "Removed; their sessions have ended.",
        "role": "Role changed; they log in again under it."}


class StaffController(Controller):
    path = "/manage/{slug:str}/staff"
    guards = [require_manager_for_slug]
    include_in_schema = False

    async def _page(self, request: Request[Any, Any, Any], restaurant: Restaurant, *,
                    values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                    role_errors: dict[int, str] | None = None, status_code: int = 200,
                    done: str = "") -> Template:
        staff = staff_of(request)
        restaurant_id = int(restaurant.id)
        return Template("manage/staff.html", status_code=status_code, context=page_context(
            request, restaurant, "staff",
            members=await members.list_members(restaurant_id),
            invitations=await invitations.open_invitations(restaurant_id),
            assignable=[(role.value, roles.LABELS[role]) for role in roles.assignable(staff.role)],
            may_manage=lambda member: (member.id != staff.user_id
                                       and roles.may_manage(staff.role, member.role)),
            values=values or {"role": roles.Role.KITCHEN.value}, errors=errors or {},
            role_errors=role_errors or {}, done=DONE.get(done, "")))

    def _back(self, slug: str, done: str) -> Redirect:
        return Redirect(f"/manage/{slug}/staff?done={done}", status_code=303)

    @get("/")
    async def index(self, request: Request[Any, Any, Any], slug: FromPath[str],
                    done: FromQuery[str] = "") -> Template:
        return await self._page(request, await restaurant_or_404(slug), done=done)

    @post("/invitations", status_code=200)
    async def invite(self, request: Request[Any, Any, Any],
                     slug: FromPath[str]) -> Template | Redirect:
        restaurant = await restaurant_or_404(slug)
        form = await form_of(request)
        try:
            await invitations.invite(request.app.state.redis, int(restaurant.id), form,
                                     staff_of(request))
        except FormInvalid as invalid:
            return await self._page(request, restaurant, values=invalid.values,
                                    errors=invalid.errors, status_code=422)
        except NotAllowed as refused:
            raise PermissionDeniedException(str(refused)) from refused
        return self._back(slug, "invited")

    @post("/invitations/{invitation_id:int}/withdraw", status_code=200)
    async def withdraw(self, request: Request[Any, Any, Any], slug: FromPath[str],
                       invitation_id: RowId) -> Redirect:
        restaurant = await restaurant_or_404(slug)
        try:
            await invitations.withdraw(int(restaurant.id), invitation_id, staff_of(request))
        except NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        except NotAllowed as refused:
            raise PermissionDeniedException(str(refused)) from refused
        return self._back(slug, "withdrawn")

    @post("/{member_id:int}/remove", status_code=200)
    async def remove(self, request: Request[Any, Any, Any], slug: FromPath[str],
                     member_id: RowId) -> Redirect:
        restaurant = await restaurant_or_404(slug)
        try:
            await members.remove(request.app.state.redis, int(restaurant.id), member_id,
                                 staff_of(request))
        except NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        except NotAllowed as refused:
            raise PermissionDeniedException(str(refused)) from refused
        return self._back(slug, "removed")

    @post("/{member_id:int}/role", status_code=200)
    async def change_role(self, request: Request[Any, Any, Any], slug: FromPath[str],
                          member_id: RowId) -> Template | Redirect:
        restaurant = await restaurant_or_404(slug)
        try:
            await members.change_role(request.app.state.redis, int(restaurant.id), member_id,
                                      await form_of(request), staff_of(request))
        except NotFound as missing:
            raise NotFoundException(str(missing)) from missing
        except NotAllowed as refused:
            raise PermissionDeniedException(str(refused)) from refused
        except FormInvalid as invalid:
            return await self._page(request, restaurant, status_code=422,
                                    role_errors={member_id: invalid.errors["role"]})
        return self._back(slug, "role")
