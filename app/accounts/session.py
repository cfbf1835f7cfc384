"""Staff login sessions: what is stored server-side (Redis) and how to read and write it.

Session payload (a JSON object in the Litestar server-side session, key `staff`):

    {"user_id": 3, "email": "kitchen@demo.test", "role": "staff" | "admin",
     "restaurant_id": 1 | None, "restaurant_slug": "demo" | None, "login_at": "<ISO 8601>"}

`restaurant_*` is None for admins, who may see every restaurant.
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

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_see(self, slug: str) -> bool:
        return self.is_admin or (self.role == "staff" and self.restaurant_slug == slug)

    @property
    def actor(self) -> str:
        """How the order log names this person."""
        return f"{self.role}:{self.email}"

    @property
    def home_url(self) -> str:
        return f"/kitchen/{self.restaurant_slug}" if self.restaurant_slug else "/"


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
           role: str, restaurant_id: int | None, restaurant_slug: str | None) -> StaffSession:
    staff = StaffSession(user_id=user_id, email=email, role=role, restaurant_id=restaurant_id,
                         restaurant_slug=restaurant_slug,
                         login_at=datetime.now(UTC).isoformat())
    from app.accounts.form_guard import bind_csrf_to_session

    connection.set_session(bind_csrf_to_session(connection, {SESSION_KEY: asdict(staff)}))
    _state(connection.scope)[_ROTATE] = True  # a fixated pre-login id must not carry over
    return staff


def log_out(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.clear_session()


def _state(scope: Scope) -> dict[str, Any]:
    return scope.setdefault("state", {})


class RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side backend, plus a new session id (old one deleted) at login, and
    no session at all for visitors who never logged in."""

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
