"""`GET|POST /invitations/{token}`: the page an invitation email links to. Choosing a
password creates the account and logs the invitee in (a fresh session)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts import invitations
from app.accounts.forms import FormInvalid, form_of
from app.accounts.invitations import Invitation, LinkProblem
from app.accounts.passwords import MIN_LENGTH
from app.accounts.session import log_in, log_out

NO_STORE = {"Cache-Control": "no-store"}  # the page's URL is the secret


def _page(token: str, invitation: Invitation | None = None, problem: str = "",
          errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    return Template("accounts/invitation.html", status_code=status_code, headers=NO_STORE,
                    context={"invitation": invitation, "problem": problem, "token": token,
                             "errors": errors or {}, "min_length": MIN_LENGTH})


class InvitationController(Controller):
    path = "/invitations"
    include_in_schema = False

    @get("/{token:str}")
    async def page(self, token: FromPath[str]) -> Template:
        try:
            invitation = await invitations.from_link(token)
        except LinkProblem as problem:
            return _page(token, problem=str(problem), status_code=problem.status_code)
        return _page(token, invitation)

    @post("/{token:str}", status_code=200)
    async def accept(self, request: Request[Any, Any, Any],
                     token: FromPath[str]) -> Template | Redirect:
        try:
            user = await invitations.accept(token, await form_of(request))
        except LinkProblem as problem:
            return _page(token, problem=str(problem), status_code=problem.status_code)
        except FormInvalid as invalid:
            try:
                invitation = await invitations.from_link(token)
            except LinkProblem as problem:
                return _page(token, problem=str(problem), status_code=problem.status_code)
            return _page(token, invitation, errors=invalid.errors, status_code=422)
        log_out(request)  # whoever was logged in on this browser before
        staff = log_in(request, user.user_id, user.email, user.role, user.restaurant_id,
                       user.restaurant_slug, session_version=user.session_version)
        return Redirect(staff.home_url, status_code=303)
