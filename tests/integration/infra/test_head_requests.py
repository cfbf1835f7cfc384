"""An uptime monitor's HEAD gets what a GET gets, without the body, from a real server
(uvicorn decides from the request's method that no body follows)."""

from __future__ import annotations

import httpx

from tests.helpers.server import RunningProcess


async def test_head_answers_like_get_without_a_body(own_web: RunningProcess) -> None:
    async with httpx.AsyncClient(base_url=own_web.url, timeout=10) as client:
        for path in ("/r/demo", "/healthz", "/", "/static/favicon.svg"):
            got = await client.get(path)
            head = await client.head(path)
            assert (path, got.status_code, head.status_code) == (path, 200, 200)
            assert head.content == b""
            assert head.headers["content-type"] == got.headers["content-type"]
            assert "x-request-id" in head.headers
        menu = await client.head("/r/demo")
        assert int(menu.headers["content-length"]) > 1000  # the GET's length, as RFC 9110 allows
        assert (await client.head("/r/no-such-place")).status_code == 404
        assert (await client.head("/orders/TEMP-nope")).status_code == 404


async def test_a_live_stream_still_refuses_head_and_metrics_name_head_and_the_route(
        own_web: RunningProcess) -> None:
    async with httpx.AsyncClient(base_url=own_web.url, timeout=10) as client:
        assert (await client.head("/kitchen/demo/events")).status_code == 405
        assert (await client.head("/r/demo")).status_code == 200
        metrics = (await client.get("/metrics")).text
    assert 'method="HEAD",route="/r/{slug}",status="2xx"' in metrics
