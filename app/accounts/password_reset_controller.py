"""`/password-reset`: ask for a reset link by email (`GET|POST /password-reset`, the same
answer whether or not the address has an account, rate-limited per client address), and
choose a new password from the link (`GET|POST /password-reset/{token}`), which logs in."""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis
from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.params import FromPath
from litestar.response import Redirect, Template

from app.accounts import password_reset
from app.accounts.forms import FormInvalid, email_address, form_of
from app.accounts.invitations import LinkProblem
from app.accounts.password_reset import Reset
from app.accounts.passwords import MIN_LENGTH
from app.accounts.session import log_in, log_out
from app.infra.logging import get_logger
from app.infra.rate_limit import CountingRateLimitMiddleware
from app.settings import get_settings

log = get_logger("orderpass.accounts.password_reset")
NO_STORE = {"Cache-Control": "no-store"}


def _client(request: Request[Any, Any, Any]) -> str:
    return "password-reset:" + get_remote_address(request)  # apart from logins and orders


def reset_rate_limit() -> RateLimitConfig:
    return RateLimitConfig(
        rate_limit=("minute", get_settings().password_reset_requests_per_minute),
        store="rate_limit", identifier_for_request=_client,
        middleware_class=CountingRateLimitMiddleware)


async def _request_quietly(redis: ArqRedis, address: str) -> None:
    """After the response: its timing must not tell whether the address has an account."""
    try:
        await password_reset.request_reset(redis, address)
    except Exception:
        log.exception("password reset request failed")


def _ask_page(email: str = "", error: str = "", sent: bool = False,
              status_code: int = 200) -> Template:
    return Template("accounts/password_reset_request.html", status_code=status_code,
                    context={"email": email, "error": error, "sent": sent})


def _reset_page(token: str, reset: Reset | None = None, problem: str = "",
                errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    return Template("accounts/password_reset.html", status_code=status_code, headers=NO_STORE,
                    context={"reset": reset, "problem": problem, "token": token,
                             "errors": errors or {}, "min_length": MIN_LENGTH})


class PasswordResetController(Controller):
    path = "/password-reset"
    include_in_schema = False

    @get("/")
    async def ask(self) -> Template:
        return _ask_page()

    @post("/", status_code=200, middleware=[reset_rate_limit().middleware])
    async def send(self, request: Request[Any, Any, Any]) -> Template:
        raw = (await form_of(request)).get("email", "")
        address, problem = email_address(raw)
        if problem:
            return _ask_page(raw[:254], problem, status_code=422)
        page = _ask_page(address, sent=True)
        page.background = BackgroundTask(_request_quietly, request.app.state.redis, address)
        return page

    @get("/{token:str}")
    async def choose(self, token: FromPath[str]) -> Template:
        try:
            reset = await password_reset.from_link(token)
        except LinkProblem as problem:
            return _reset_page(token, problem=str(problem), status_code=problem.status_code)
        return _reset_page(token, reset)

    @post("/{token:str}", status_code=200)
    async def save(self, request: Request[Any, Any, Any],
                   token: FromPath[str]) -> Template | Redirect:
        redis = request.app.state.redis
        try:
            user = await password_reset.complete(redis, token, await form_of(request))
        except LinkProblem as problem:
            return _reset_page(token, problem=str(problem), status_code=problem.status_code)
        except FormInvalid as invalid:
            try:
                reset = await password_reset.from_link(token)
            except LinkProblem as problem:
                return _reset_page(token, problem=str(problem), status_code=problem.status_code)
            return _reset_page(token, reset, errors=invalid.errors, status_code=422)
        log_out(request)
        staff = log_in(request, user.user_id, user.email, user.role, user.restaurant_id,
                       user.restaurant_slug, session_version=user.session_version)
        return Redirect(staff.home_url, status_code=303)
