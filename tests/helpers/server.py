"""Run the real web app (and, later, a worker) as subprocesses on free ports, for tests that
need a real HTTP server: SSE streams (httpx's ASGI transport buffers whole responses),
cross-process pub/sub, browsers.

    with start_web() as web:
        httpx.get(web.url + "/healthz")

The subprocess inherits os.environ (DATABASE_URL, REDIS_URL, SECRET_KEY… set by the test
infrastructure); extra variables can be passed with `env=`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.helpers.sandbox import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""
    port: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _spawn(name: str, args: list[str], env: dict[str, str] | None, log_dir: Path
           ) -> tuple[subprocess.Popen[bytes], Path]:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{os.getpid()}-{time.monotonic_ns()}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args], cwd=ROOT,
        env={**os.environ, **(env or {})}, stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()
    return process, log_path


def wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path,
                 timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n"
                               + log_path.read_text(errors="replace")[-4000:])
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("server did not become healthy:\n"
                       + log_path.read_text(errors="replace")[-4000:])


FAST_HEARTBEAT_S = 1.0  # live streams of a test's own web process (`own_web`)


@contextlib.contextmanager
def start_web(env: dict[str, str] | None = None, log_dir: Path | None = None,
              args: list[str] | None = None) -> Iterator[RunningProcess]:
    """`orderpass web` on a free port (`args`: more options, `--workers 2`); stops it (and
    shows its log on failure) afterwards."""
    running = spawn_web(env or {}, log_dir or Path(os.environ.get("ORDERPASS_DATA_DIR", "/tmp")),
                        args or [])
    try:
        yield running
    finally:
        running.stop()


PORT_ATTEMPTS = 3


def spawn_web(env: dict[str, str], log_dir: Path, args: list[str] | None = None
              ) -> RunningProcess:
    """`orderpass web` on a free port, answering. A port found free stays free only until
    something else binds it: on a busy machine an outgoing connection may take it in the
    second the web needs to start. Then it starts again on another port."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process, log_path = _spawn("web", ["web", "--port", str(port), *(args or [])],
                                   {**env, "PUBLIC_BASE_URL": url}, log_dir)
        running = RunningProcess("web", process, log_path, url=url, port=port)
        try:
            wait_healthy(url, process, log_path)
            return running
        except RuntimeError:
            running.stop()
            if attempt == PORT_ATTEMPTS or "address already in use" not in running.log():
                raise
    raise AssertionError("unreachable")


def respawn_web(running: RunningProcess, env: dict[str, str] | None = None,
                log_dir: Path | None = None) -> RunningProcess:
    """Another `orderpass web` on the port (and so the address) of `running`, which has
    stopped: a restarted server, as screens connected to the old one see it."""
    process, log_path = _spawn("web", ["web", "--port", str(running.port)],
                               {**(env or {}), "PUBLIC_BASE_URL": running.url},
                               log_dir or Path(os.environ.get("ORDERPASS_DATA_DIR", "/tmp")))
    again = RunningProcess("web", process, log_path, url=running.url, port=running.port)
    try:
        wait_healthy(running.url, process, log_path)
    except RuntimeError:
        again.stop()
        raise
    return again


@contextlib.contextmanager
def start_worker(env: dict[str, str] | None = None, log_dir: Path | None = None
                 ) -> Iterator[RunningProcess]:
    """`orderpass worker` (arq); stopped afterwards."""
    process, log_path = _spawn("worker", ["worker"], env,
                               log_dir or Path(os.environ.get("ORDERPASS_DATA_DIR", "/tmp")))
    running = RunningProcess("worker", process, log_path)
    try:
        yield running
    finally:
        running.stop()
