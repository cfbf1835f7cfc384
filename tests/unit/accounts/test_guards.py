"""Guards and session helpers on a tiny app (memory session store, no database), and the
production cookie flags."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, Request, get
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.params import FromPath
from litestar.testing import TestClient

from app.accounts import security
from app.accounts.guards import (
    LoginRequired,
    login_required_handler,
    require_admin,
    require_manager_for_slug,
    require_owner_for_slug,
    require_staff_for_slug,
)
from app.accounts.roles import Role, assignable, may_manage
from app.accounts.session import current_staff, log_in
from app.settings import Settings


@get("/as/{role:str}")
async def become(request: Request[Any, Any, Any], role: FromPath[str]) -> str:
    slug = None if role == "admin" else "demo"
    log_in(request, 1, f"{role}@x.test", role, None if slug is None else 1, slug,
           session_version=1)
    return "ok"


@get("/admin", guards=[require_admin])
async def admin() -> str:
    return "admin"


@get("/kitchen/{slug:str}", guards=[require_staff_for_slug])
async def kitchen(request: Request[Any, Any, Any], slug: FromPath[str]) -> str:
    staff = current_staff(request)
    assert staff is not None
    return staff.actor


@get("/manage/{slug:str}", guards=[require_manager_for_slug])
async def manage(slug: FromPath[str]) -> str:
    return "manage"


@get("/manage/{slug:str}/settings", guards=[require_owner_for_slug])
async def settings_page(slug: FromPath[str]) -> str:
    return "settings"


def make_app() -> Litestar:
    return Litestar([become, admin, kitchen, manage, settings_page],
                    middleware=[ServerSideSessionConfig().middleware],
                    exception_handlers={LoginRequired: login_required_handler})


@pytest.mark.parametrize(("role", "path", "status"), [
    (None, "/admin", 401), (None, "/kitchen/demo", 401), (None, "/manage/demo", 401),
    ("kitchen", "/admin", 403), ("kitchen", "/kitchen/demo", 200),
    ("kitchen", "/kitchen/other", 404), ("kitchen", "/manage/demo", 403),
    ("kitchen", "/manage/other", 404), ("kitchen", "/manage/other/settings", 404),
    ("kitchen", "/manage/demo/settings", 403),
    ("manager", "/kitchen/demo", 200), ("manager", "/manage/demo", 200),
    ("manager", "/manage/demo/settings", 403), ("manager", "/manage/other", 404),
    ("manager", "/admin", 403),
    ("owner", "/kitchen/demo", 200), ("owner", "/manage/demo", 200),
    ("owner", "/manage/demo/settings", 200), ("owner", "/manage/other/settings", 404),
    ("owner", "/kitchen/other", 404), ("owner", "/admin", 403),
    ("staff", "/kitchen/demo", 403),  # a role from before roles existed opens nothing
    ("admin", "/admin", 200), ("admin", "/kitchen/other", 200),
    ("admin", "/manage/other/settings", 200),
])
def test_guards(role: str | None, path: str, status: int) -> None:
    with TestClient(make_app()) as client:
        if role:
            assert client.get(f"/as/{role}").status_code == 200
        assert client.get(path).status_code == status


def test_anonymous_browser_is_redirected_to_login_with_next() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/admin", headers={"accept": "text/html"},
                              follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fadmin"


def test_production_cookies_are_secure(monkeypatch: pytest.MonkeyPatch) -> None:
    production = Settings(ORDERPASS_ENV="production", SECRET_KEY="s" * 32)  # type: ignore[call-arg]
    monkeypatch.setattr(security, "get_settings", lambda: production)
    session = security.session_config()
    assert session.secure and session.httponly and session.samesite == "lax"
    csrf = security.csrf_config()
    assert csrf.cookie_secure and csrf.cookie_name == "csrftoken"
    assert csrf.header_name == "x-csrftoken" and csrf.secret == "s" * 32


@pytest.mark.parametrize(("actor", "target", "allowed"), [
    ("admin", "owner", True), ("admin", "manager", True), ("admin", "kitchen", True),
    ("owner", "owner", False), ("owner", "manager", True), ("owner", "kitchen", True),
    ("manager", "owner", False), ("manager", "manager", False), ("manager", "kitchen", True),
    ("kitchen", "kitchen", False), ("kitchen", "manager", False), ("kitchen", "owner", False),
    ("owner", "admin", False), ("admin", "admin", False), ("staff", "kitchen", False),
    ("owner", "nonsense", False),
])
def test_who_may_manage_whom(actor: str, target: str, allowed: bool) -> None:
    assert may_manage(actor, target) is allowed


def test_roles_each_may_hand_out() -> None:
    assert assignable("admin") == [Role.OWNER, Role.MANAGER, Role.KITCHEN]
    assert assignable("owner") == [Role.MANAGER, Role.KITCHEN]
    assert assignable("manager") == [Role.KITCHEN]
    assert assignable("kitchen") == []
