"""Security headers on every kind of response, and templates the CSP can live with."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from litestar import Litestar

from app.infra.security_headers import CONTENT_SECURITY_POLICY, headers_for
from tests.helpers.accounts import login
from tests.helpers.orders import make_paid_order
from tests.helpers.security_headers import assert_secure_headers

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", ROOT / "components"]
EMAILS = ROOT / "templates" / "emails"  # mail clients, not browsers: inline CSS is the norm

def test_the_policy_allows_only_our_own_origin() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


async def test_pages_fragments_api_static_and_errors_carry_the_headers(
        client: httpx.AsyncClient) -> None:
    order = await make_paid_order()
    anonymous = ["/", "/r/demo", f"/orders/{order.public_id}",
                 f"/orders/{order.public_id}/progress", "/login", "/healthz",
                 "/api/restaurants/demo/menu", f"/api/orders/{order.public_id}",
                 "/static/css/app.css", "/static/vendor/htmx.min.js",
                 "/schema/openapi.json",
                 "/no-such-page", "/orders/TEMP-nope", "/api/orders/TEMP-nope"]
    for path in anonymous:
        response = await client.get(path)
        assert response.status_code < 500, path
        assert_secure_headers(response)
    assert_secure_headers(await client.delete("/login"))  # 405 from the router
    assert_secure_headers(await client.post("/api/orders", content=b"{"))  # 400
    assert_secure_headers(await client.post("/webhooks/stripe", content=b"x"))
    assert_secure_headers(await client.get("/kitchen/demo", headers={"accept": "text/html"}))

    await login(client, "kitchen@demo.test")
    for path in ["/kitchen/demo", "/kitchen/demo/board",
                 f"/kitchen/demo/orders/{order.public_id}/ticket", "/kitchen/demo-2"]:
        assert_secure_headers(await client.get(path))


def test_hsts_only_in_production() -> None:
    assert "Strict-Transport-Security" not in headers_for("/", production=False)
    hsts = headers_for("/", production=True)["Strict-Transport-Security"]
    assert "max-age=" in hsts and int(re.findall(r"max-age=(\d+)", hsts)[0]) >= 31536000


async def test_production_app_sends_hsts(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import reset_settings_cache

    monkeypatch.setenv("ORDERPASS_ENV", "production")
    monkeypatch.setenv("METRICS_TOKEN", "scraper-token")  # production refuses to start without
    reset_settings_cache()
    try:
        from app.asgi import create_app

        app: Litestar = create_app()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=cast(Any, app)),
                                     base_url="https://testserver") as production:
            response = await production.get("/healthz")
        assert response.headers["strict-transport-security"].startswith("max-age=")
    finally:
        monkeypatch.undo()
        reset_settings_cache()


def _templates() -> list[Path]:
    return [path for folder in TEMPLATE_DIRS for path in sorted(folder.rglob("*.html"))
            if EMAILS not in path.parents]


@pytest.mark.parametrize("pattern, what", [
    (r"<script(?![^>]*\bsrc=)[^>]*>", "inline <script> (CSP script-src 'self')"),
    (r"\sstyle\s*=", "style= attribute (CSP style-src 'self')"),
    (r"<style\b", "inline <style> (CSP style-src 'self')"),
    (r"\son[a-z]+\s*=", "on*= event handler attribute"),
    (r"\shx-on[:-]", "hx-on attribute (needs eval)"),
    (r"javascript:", "javascript: URL"),
])
def test_templates_have_nothing_the_csp_would_block(pattern: str, what: str) -> None:
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in _templates()
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(pattern, line, re.IGNORECASE)]
    assert not offenders, f"{what}: {offenders}"


def test_htmx_indicator_styles_are_off() -> None:
    base = (ROOT / "templates" / "base.html").read_text()
    assert '"includeIndicatorStyles": false' in base
