"""Staff login sessions: what is stored server-side (Redis) and how to read and write it.

Session payload (a JSON object in the Litestar server-side session, key `staff`):

    {"user_id": 3, "email": "kitchen@demo.test",
     "role": "admin" | "owner" | "manager" | "kitchen",
     "restaurant_id": 1 | None, "restaurant_slug": "demo" | None, "login_at": "<ISO 8601>",
     "session_version": 1}

`restaurant_*` is None for admins, who may see every restaurant. A session whose
`session_version` is no longer its account's (removed, role changed, password reset) is
dropped when it is loaded (app/accounts/session_versions.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, Scope

from app.accounts import roles, session_versions
from app.accounts.form_guard import bind_csrf_to_session
from app.accounts.roles import Role
from app.infra.i18n import N_
from app.infra.logging import get_logger
from app.infra.unavailable import DEPENDENCY_ERRORS

log = get_logger("orderpass.accounts.session")
SESSION_KEY = "staff"
_ROTATE = "orderpass_rotate_session"  # scope-state flag: give this session a fresh id
_FRESH_ID = "orderpass_fresh_session_id"


@dataclass(frozen=True)
class StaffSession:
    user_id: int
    email: str
    role: str
    restaurant_id: int | None
    restaurant_slug: str | None
    login_at: str = ""
    session_version: int = 0  # 0: a payload from before versions, never current

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def at_least(self, slug: str, minimum: Role) -> bool:
        """Has this person at least role `minimum` at restaurant `slug`? (Admins: always.)"""
        return self.is_admin or (self.restaurant_slug == slug
                                  and roles.at_least(self.role, minimum))

    def may_see(self, slug: str) -> bool:
        return self.at_least(slug, Role.KITCHEN)

    @property
    def actor(self) -> str:
        """How the order log names this person."""
        return f"{self.role}:{self.email}"

    @property
    def home_url(self) -> str:
        if self.role == Role.ADMIN:  # the platform's pages, not the diners' list of restaurants
            return "/admin"
        if not self.restaurant_slug:
            return "/"
        if roles.at_least(self.role, Role.MANAGER):
            return f"/manage/{self.restaurant_slug}"
        return f"/kitchen/{self.restaurant_slug}"

    @property
    def home_link(self) -> tuple[str, str] | None:
        """The pages this person may use, as a link (address, label to translate) for a page
        that is not theirs: a cook sent away from /manage had only "Home", the diners' list."""
        if self.home_url == "/":
            return None
        if self.is_admin:
            return self.home_url, N_("Admin pages")
        if self.home_url.startswith("/manage/"):
            return self.home_url, N_("Your restaurant's pages")
        return self.home_url, N_("Your kitchen screen")


def current_staff(connection: ASGIConnection[Any, Any, Any, Any]) -> StaffSession | None:
    """The logged-in staff member of this request, or None."""
    if connection.scope.get("session") in (None, Empty):
        return None
    data = connection.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return StaffSession(**data)
    except TypeError:  # an old payload shape: treat as logged out
        return None


def log_in(connection: ASGIConnection[Any, Any, Any, Any], user_id: int, email: str,
           role: str, restaurant_id: int | None, restaurant_slug: str | None, *,
           session_version: int) -> StaffSession:
    staff = StaffSession(user_id=user_id, email=email, role=role, restaurant_id=restaurant_id,
                         restaurant_slug=restaurant_slug,
                         login_at=datetime.now(UTC).isoformat(),
                         session_version=session_version)
    connection.set_session(bind_csrf_to_session(connection, {SESSION_KEY: asdict(staff)}))
    _state(connection.scope)[_ROTATE] = True  # a fixated pre-login id must not carry over
    return staff


def log_out(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.clear_session()


async def _still_current(connection: ASGIConnection[Any, Any, Any, Any],
                         staff: dict[str, Any]) -> bool:
    user_id, version = staff.get("user_id"), staff.get("session_version")
    if not isinstance(user_id, int) or not isinstance(version, int):
        return False
    return await session_versions.is_current(connection.app.state.redis, user_id, version)


def _state(scope: Scope) -> dict[str, Any]:
    return scope.setdefault("state", {})


class RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side backend, plus a new session id (old one deleted) at login, no
    session at all for visitors who never logged in, and no staff session whose account
    version moved on (removed, role changed, password reset)."""

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]
                                   ) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        staff = data.get(SESSION_KEY)
        if isinstance(staff, dict) and not await _still_current(connection, staff):
            return {}  # stored back empty with this response: the session is over
        return data

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        fresh = _state(connection.scope).get(_FRESH_ID)
        return str(fresh) if fresh else super().get_session_id(connection)

    async def store_in_message(self, scope_session: Any, message: Message,
                               connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        if (not scope_session and scope_session is not Empty
                and self.config.key not in connection.cookies):
            # An anonymous visitor (a diner, an API client): Litestar would store an empty
            # session and set its cookie on every such response, one junk Redis key per
            # order placed. Nothing to keep, nothing sent.
            return
        state = _state(connection.scope)
        if state.pop(_ROTATE, False) and scope_session is not Empty:
            old = connection.cookies.get(self.config.key)
            if old:
                await self.delete(old, store=self.config.get_store_from_app(
                    connection.scope["app"]))
            state[_FRESH_ID] = self.generate_session_id()
        try:
            await super().store_in_message(scope_session, message, connection)
        except DEPENDENCY_ERRORS as error:
            # This runs as the answer starts, after the handler did its work: failing here
            # turned a done action into a bare 500. The session in Redis stays as it was
            # (a renewal is skipped; a login made now does not stick and asks again).
            log.warning("session not saved; Redis unavailable", error=repr(error)[:200])


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
