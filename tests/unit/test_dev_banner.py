"""`orderpass dev`'s start-up printout names every page a person would open: the menus, the
kitchen screens, the owners' management pages (with the owner logins) and the admin."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.dev.supervisor import DevSupervisor


def test_the_banner_names_the_owner_pages_and_logins(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    supervisor = SimpleNamespace(
        port=8123, sandbox_port=12999,
        settings=SimpleNamespace(demo_password="secret-pw", wants_sandbox=True))
    DevSupervisor._print_banner(supervisor, {  # type: ignore[arg-type]
        "DATABASE_URL": "postgresql://db", "REDIS_URL": "redis://cache"})
    banner = capsys.readouterr().out
    base = "http://127.0.0.1:8123"
    lines = [line for line in banner.splitlines() if f"{base}/manage/demo-2" in line]
    assert lines, banner
    owners = lines[0] + " "
    assert f"{base}/manage/demo " in owners
    assert "owner@demo.test" in owners and "owner@demo-2.test" in owners
    assert f"{base}/manage/demo/orders" in banner
    assert "owner@demo.test / secret-pw" in banner
    for page in (f"{base}/r/demo", f"{base}/kitchen/demo", f"{base}/admin"):
        assert page in banner
