"""Issue #14 item 5: every answer carries `x-request-id` (routing 404s, CSRF 403s, 413s,
429s and NUL refusals included, which Litestar answers outside route middleware); 4xx raised
as exceptions are logged and counted in the HTTP metrics with their real status (they were
counted as 500); every 500 logs its traceback with the request id."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.orders.api_controller import MAX_ORDER_BODY_BYTES
from app.settings import get_settings
from tests.helpers.sandbox import free_port
from tests.helpers.server import ROOT, wait_healthy


def latency_count(metrics: str, method: str, route: str, status: str) -> float:
    labels = f'method="{method}",route="{re.escape(route)}",status="{status}"'
    pattern = r"orderpass_http_request_duration_seconds_count\{" + labels + r"\} ([0-9.e+]+)"
    match = re.search(pattern, metrics)
    return float(match.group(1)) if match else 0.0


async def test_every_answer_carries_a_request_id(client: httpx.AsyncClient) -> None:
    await client.get("/r/demo")
    answers = {
        "routing 404": await client.get("/no/such/page"),
        "405": await client.delete("/api/orders"),
        "CSRF 403": await client.post("/login", data={"email": "x", "password": "y"}),
        "413": await client.post("/api/orders", content=b"{" + b" " * MAX_ORDER_BODY_BYTES + b"}",
                                 headers={"content-type": "application/json"}),
        "NUL 400": await client.get("/r/%00"),
        "validation 400": await client.post("/api/orders", json={"restaurant": "demo"}),
        "page": await client.get("/r/demo"),
        "static": await client.get("/static/vendor/htmx.min.js"),
    }
    for name, response in answers.items():
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers.get("x-request-id", "")), \
            (name, response.status_code, dict(response.headers))
    assert [answers[name].status_code for name in ("routing 404", "405", "CSRF 403", "413",
                                                   "NUL 400")] == [404, 405, 403, 413, 400]
    # A caller's own id (a proxy's) is kept when it is sane, replaced when it is not.
    kept = await client.get("/healthz", headers={"x-request-id": "edge-42.a_b"})
    assert kept.headers["x-request-id"] == "edge-42.a_b"
    junk = await client.get("/healthz", headers={"x-request-id": "x" * 500})
    assert junk.headers["x-request-id"] != "x" * 500


async def test_refusals_raised_as_exceptions_are_counted_with_their_status(
        client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    for _ in range(3):
        assert (await client.post("/login", data={"email": "x"})).status_code == 403
    big = await client.post("/api/orders", content=b"[" + b" " * MAX_ORDER_BODY_BYTES + b"]",
                            headers={"content-type": "application/json"})
    assert big.status_code == 413
    budget = get_settings().order_rate_limit_per_minute
    answers = [(await client.post("/api/orders", json={"restaurant": "demo"})).status_code
               for _ in range(budget)]
    assert answers[-1] == 429 and set(answers[:-1]) == {400}, answers  # 413 spent one
    after = (await client.get("/metrics")).text
    assert latency_count(after, "POST", "/login", "4xx") - \
        latency_count(before, "POST", "/login", "4xx") == 3
    assert latency_count(after, "POST", "/login", "5xx") == \
        latency_count(before, "POST", "/login", "5xx")
    assert latency_count(after, "POST", "/api/orders", "4xx") - \
        latency_count(before, "POST", "/api/orders", "4xx") == 1 + budget
    assert latency_count(after, "POST", "/api/orders", "5xx") == \
        latency_count(before, "POST", "/api/orders", "5xx")


# A real web server whose app has one extra route that fails the way a bug would: the 500
# path (answer, log line, traceback) is the product's; only the bug is the test's.
SERVER = textwrap.dedent("""
    import sys
    import uvicorn
    from litestar import get
    from app.asgi import create_app

    @get("/test-only/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("the bug under test")

    app = create_app()
    app.register(boom)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None)
""")


@pytest.fixture(scope="module")
def failing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("boom") / "web.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT,
                                   env={**os.environ, "LOG_LEVEL": "INFO"},
                                   stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log_path)
        yield url, log_path
    finally:
        process.terminate()
        process.wait(10)


def _log_lines_with(log_path: Path, request_id: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if request_id in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"no log line with {request_id}:\n{log_path.read_text()[-3000:]}")


def test_a_500_logs_its_traceback_with_the_request_id(
        failing_server: tuple[str, Path]) -> None:
    url, log_path = failing_server
    response = httpx.get(url + "/test-only/boom", timeout=10)
    assert response.status_code == 500
    assert "the bug under test" not in response.text and "Traceback" not in response.text
    request_id = response.headers["x-request-id"]
    text = _log_lines_with(log_path, request_id)
    failure = text[text.index(request_id) - 2000:][:6000]
    assert "request failed" in failure and "Traceback" in failure, failure
    assert "RuntimeError: the bug under test" in failure, failure


def test_a_csrf_refusal_is_logged_with_its_status(failing_server: tuple[str, Path]) -> None:
    url, log_path = failing_server
    response = httpx.post(url + "/login", data={"email": "x", "password": "y"}, timeout=10)
    assert response.status_code == 403
    request_id = response.headers["x-request-id"]
    text = _log_lines_with(log_path, request_id)
    lines = [line for line in text.splitlines() if request_id in line]
    assert any("request refused" in line and "status=403" in line for line in lines), lines
    assert any("path=/login" in line and "status=403" in line for line in lines), lines
