"""The `orderpass` command line as an operator meets it: clear errors, a working `dev`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from app.dev.embedded import free_port

ORDERPASS = [sys.executable, "-m", "app.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(overrides)
    return env


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("DATABASE_URL", "mysql://db/orders", "invalid setting DATABASE_URL"),
    ("REDIS_URL", "localhost:6379", "invalid setting REDIS_URL"),
    ("PAYMENT_LINK_TTL_MINUTES", "soon", "invalid setting PAYMENT_LINK_TTL_MINUTES"),
    ("ORDERPASS_PORT", "99999", "invalid setting ORDERPASS_PORT"),
])
def test_bad_setting_stops_with_one_clear_line(variable: str, value: str, expected: str) -> None:
    result = subprocess.run([*ORDERPASS, "migrate"], env=_env(**{variable: value}),
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*ORDERPASS, "migrate"], capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=_env(DATABASE_URL=f"postgresql://nobody@127.0.0.1:{free_port()}/none"))
    assert result.returncode != 0
    assert "cannot reach Postgres" in result.stderr
    assert "Traceback" not in result.stderr


def _start_dev(data_dir: Path, port: int, sandbox_port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*ORDERPASS, "dev", "--port", str(port), "--sandbox-port", str(sandbox_port)],
        env=_env(ORDERPASS_DATA_DIR=str(data_dir), LOG_LEVEL="WARNING"), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_banner(process: subprocess.Popen[str], timeout: float = 60) -> str:
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if "Press Ctrl-C" in line:
            return "".join(seen)
    raise AssertionError("`orderpass dev` never printed its banner:\n" + "".join(seen))


def _servers_under(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(data_dir) in cmdline:
            found.append(process)
    return found


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=40)


def test_dev_serves_everything_and_ctrl_c_leaves_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port, sandbox_port = free_port(), free_port()
    started = time.monotonic()
    process = _start_dev(data_dir, port, sandbox_port)
    try:
        banner = _wait_for_banner(process)
        base = f"http://127.0.0.1:{port}"
        for path in ("/", "/r/demo", "/healthz", "/readyz"):
            assert httpx.get(base + path, timeout=10).status_code == 200, path
        assert time.monotonic() - started < 60
        assert "kitchen@demo.test" in banner and "kitchen@demo-2.test" in banner
        assert f"{base}/r/demo" in banner
    finally:
        _stop(process)
    assert process.returncode == 0
    time.sleep(0.5)
    assert _servers_under(data_dir.resolve()) == []

    # A second run reuses the data: the same restaurants, no second seed.
    process = _start_dev(data_dir, port, sandbox_port)
    try:
        _wait_for_banner(process)
        menu = httpx.get(f"http://127.0.0.1:{port}/api/restaurants/demo-2/menu", timeout=10)
        assert menu.status_code == 200
        assert len(menu.json()["items"]) == 5
    finally:
        _stop(process)
    assert _servers_under(data_dir.resolve()) == []
