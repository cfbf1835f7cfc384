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
    require_staff_for_slug,
)
from app.accounts.session import current_staff, log_in
from app.settings import Settings


@get("/as/{role:str}")
async def become(request: Request[Any, Any, Any], role: FromPath[str]) -> str:
    slug = None if role == "admin" else "demo"
    log_in(request, 1, f"{role}@x.test", role, None if slug is None else 1, slug)
    return "ok"


@get("/admin", guards=[require_admin])
async def admin() -> str:
    return "admin"


@get("/kitchen/{slug:str}", guards=[require_staff_for_slug])
async def kitchen(request: Request[Any, Any, Any], slug: FromPath[str]) -> str:
    staff = current_staff(request)
    assert staff is not None
    return staff.actor


def make_app() -> Litestar:
    return Litestar([become, admin, kitchen],
                    middleware=[ServerSideSessionConfig().middleware],
                    exception_handlers={LoginRequired: login_required_handler})


@pytest.mark.parametrize(("role", "path", "status"), [
    (None, "/admin", 401), (None, "/kitchen/demo", 401),
    ("staff", "/admin", 403), ("staff", "/kitchen/demo", 200), ("staff", "/kitchen/other", 403),
    ("admin", "/admin", 200), ("admin", "/kitchen/other", 200),
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
