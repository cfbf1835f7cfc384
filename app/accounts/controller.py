"""Staff login and logout pages: `GET|POST /login`, `POST /logout`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from app.accounts import known_devices, services, throttle
from app.accounts.security import login_rate_limit
from app.accounts.session import current_staff, log_in, log_out
from app.infra.logging import get_logger
from app.settings import get_settings

log = get_logger("orderpass.accounts")


def safe_next(value: str | None) -> str | None:
    """Only same-site paths: never `//evil.example` or `https://…`."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


class AuthController(Controller):
    include_in_schema = False

    @get("/login")
    async def login_page(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        staff = current_staff(request)
        target = safe_next(request.query_params.get("next"))
        if staff is not None:
            return Redirect(target or staff.home_url, status_code=303)
        return Template("login.html", context={"next": target or "", "error": "", "email": ""})

    @post("/login", middleware=[login_rate_limit().middleware])
    async def login(
        self, request: Request[Any, Any, Any],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        email = str(data.get("email", "")).strip()
        target = safe_next(data.get("next"))
        redis = request.app.state.redis
        device = known_devices.known_device(request, email)  # its failures count apart
        locked_s = await throttle.locked_for(redis, email,
                                             get_settings().login_failures_per_account, device)
        if locked_s:
            log.warning("login refused: account locked", email=email[:254],
                        known_device=device is not None)
            minutes = -(-locked_s // 60)
            return Template("login.html", status_code=429, headers={
                "Retry-After": str(locked_s)}, context={
                "next": target or "", "email": email,
                "error": f"Too many failed logins for this account. Try again in {minutes} "
                         "minute(s), or ask your manager to reset the password."})
        user = await services.authenticate(email, str(data.get("password", "")))
        if user is None:
            await throttle.failed(redis, email, device)
            log.info("login failed", email=email[:254])
            return Template("login.html", status_code=401, context={
                "next": target or "", "error": "Wrong email or password.", "email": email})
        await throttle.succeeded(redis, email, device)
        log_out(request)  # drop whatever the browser had before
        staff = log_in(request, user.user_id, user.email, user.role, user.restaurant_id,
                       user.restaurant_slug, session_version=user.session_version)
        log.info("login", email=user.email, role=user.role, restaurant=user.restaurant_slug)
        return Redirect(target or staff.home_url, status_code=303,
                        cookies=[known_devices.cookie_for(email, device)])

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        log_out(request)
        return Redirect("/login", status_code=303)
