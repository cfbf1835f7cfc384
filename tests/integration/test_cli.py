"""The `orderpass` command line as an operator meets it: clear errors, a working `dev`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from app.dev.embedded import EmbeddedServers, free_port
from tests.helpers.migrations import migrate, scratch_database

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


def _migrate(database_url: str) -> list[str]:
    result = subprocess.run([*ORDERPASS, "migrate"], env=_env(DATABASE_URL=database_url),
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


# Wording: the standalone run migrates its own database already (and the migration tests go
# forwards and back there); on a server that flushes every commit this took 70 s there.
@pytest.mark.server_agnostic
async def test_migrate_says_in_one_true_line_what_it_did() -> None:
    """`orderpass dev` migrates at every start. Piccolo's own output said "10 migrations
    already complete" and then "10 migrations not yet run" of a new database."""
    ids = sorted(path.stem for path in (ROOT / "migrations").glob("2*.py"))
    async with scratch_database() as url:
        assert _migrate(url) == [f"database ready: {len(ids)} migrations applied"]
        assert _migrate(url) == [
            f"database up to date: {len(ids)} migrations already applied"]
    async with scratch_database() as url:  # one migration run before, by hand
        migrate(url, "forwards", "1")
        assert _migrate(url) == [
            f"database ready: {len(ids) - 1} migrations applied, 1 already in place"]


def _start_dev(data_dir: Path, port: int, sandbox_port: int, log_level: str = "WARNING"
               ) -> subprocess.Popen[str]:
    env = {key: value for key, value in _env(ORDERPASS_DATA_DIR=str(data_dir),
                                             LOG_LEVEL=log_level).items()
           # as a newcomer runs it: its own sandbox, its own generated secrets
           if key not in {"STRIPE_API_BASE", "RESEND_API_URL", "SECRET_KEY",
                          "STRIPE_WEBHOOK_SECRET", "RESEND_WEBHOOK_SECRET"}}
    return subprocess.Popen(
        [*ORDERPASS, "dev", "--port", str(port), "--sandbox-port", str(sandbox_port)],
        env=env, cwd=ROOT,
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


@pytest.fixture
def dev_data(tmp_path: Path) -> Iterator[Path]:
    """A data dir for `orderpass dev`, removed afterwards with its Postgres data (which
    lives outside it when run as root from a directory only root can enter)."""
    data_dir = tmp_path / "data"
    yield data_dir
    EmbeddedServers(data_dir).remove_data()


@pytest.mark.own_servers
def test_dev_serves_everything_and_ctrl_c_leaves_nothing(dev_data: Path) -> None:
    data_dir = dev_data
    port, sandbox_port = free_port(), free_port()
    started = time.monotonic()
    process = _start_dev(data_dir, port, sandbox_port, log_level="INFO")
    try:
        banner = _wait_for_banner(process)
        base = f"http://127.0.0.1:{port}"
        for path in ("/", "/r/demo", "/healthz", "/readyz"):
            assert httpx.get(base + path, timeout=10).status_code == 200, path
        assert time.monotonic() - started < 60
        assert "kitchen@demo.test" in banner and "kitchen@demo-2.test" in banner
        assert f"{base}/r/demo" in banner
        assert f"{base}/manage/demo" in banner and "owner@demo.test" in banner
    finally:
        _stop(process)
    assert process.returncode == 0
    # Each child's lines behind its name, whole; the supervisor's own last.
    assert process.stdout is not None
    lines = (banner + process.stdout.read()).splitlines()
    by_child = {name: [line for line in lines if line.startswith(f"{name:<7} | ")]
                for name in ("web", "worker")}
    assert any("web app started" in line for line in by_child["web"]), lines[-40:]
    assert any("worker started" in line for line in by_child["worker"]), lines[-40:]
    assert lines[-1] == "Stopped."
    time.sleep(0.5)
    assert _servers_under(data_dir.resolve()) == []

    # A second run reuses the data: the same restaurants, no second seed.
    process = _start_dev(data_dir, port, sandbox_port)
    try:
        _wait_for_banner(process)
        menu = httpx.get(f"http://127.0.0.1:{port}/api/restaurants/demo-2/menu", timeout=10)
        assert menu.status_code == 200
        assert len(menu.json()["items"]) == 6  # the seed's five dishes and "Ramen your way"
    finally:
        _stop(process)
    assert _servers_under(data_dir.resolve()) == []


def _order(base: str) -> httpx.Response:
    menu = httpx.get(f"{base}/api/restaurants/demo/menu", timeout=10)
    if menu.status_code != 200:
        return menu
    return httpx.post(f"{base}/api/orders", timeout=30, json={
        "restaurant": "demo",
        "items": [{"menu_item_id": menu.json()["items"][0]["id"], "quantity": 1}],
        "customer": {"name": "Ada", "email": "ada@example.com"}, "fulfillment": "pickup"})


def _embedded(dev: subprocess.Popen[str], name: str) -> psutil.Process:
    [server] = [child for child in psutil.Process(dev.pid).children(recursive=True)
                if child.name().startswith(name)
                and (name != "postgres" or child.ppid() == dev.pid)]  # the postmaster
    return server


def _until_ordering_works(base: str, timeout: float) -> None:
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            answer = _order(base)
            if answer.status_code == 201:
                return
            last = f"{answer.status_code} {answer.text[:200]}"
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(0.5)
    raise AssertionError(f"no order taken within {timeout}s of the restart; last: {last}")


@pytest.mark.own_servers
def test_dev_restarts_an_embedded_server_that_died(dev_data: Path) -> None:
    """Valkey, then Postgres, killed under a running `orderpass dev`: each is started again
    on its port and data, the web and worker reconnect, and orders are taken again without
    restarting anything by hand. So is a worker killed with -9 (it used to stop `dev`, the
    site with it)."""
    port, sandbox_port = free_port(), free_port()
    process = _start_dev(dev_data, port, sandbox_port)
    try:
        _wait_for_banner(process)
        base = f"http://127.0.0.1:{port}"
        assert _order(base).status_code == 201
        output: list[str] = []  # the supervisor's lines and the children's warnings
        assert process.stdout is not None
        threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")),
                         daemon=True).start()
        for name, said in (("valkey", "embedded Valkey exited"),
                           ("postgres", "embedded Postgres exited")):
            _embedded(process, name).kill()
            try:
                _until_ordering_works(base, 60)
            except AssertionError as failed:
                raise AssertionError(f"{failed}\n{''.join(output)}") from None
            deadline = time.monotonic() + 10  # the line may still be on its way
            while not any(said in line and "restarted at" in line for line in output):
                assert time.monotonic() < deadline, output
                time.sleep(0.1)
            assert process.poll() is None
        killed = _dev_worker(process)
        killed.kill()
        deadline = time.monotonic() + 20
        while not any("the worker process exited with code -9; restarted" in line
                      for line in output):
            assert time.monotonic() < deadline and process.poll() is None, output
            time.sleep(0.1)
        assert _dev_worker(process).pid != killed.pid
        assert _order(base).status_code == 201
    finally:
        _stop(process)
    assert process.returncode == 0
    time.sleep(0.5)
    assert _servers_under(dev_data.resolve()) == []


def _beside_env(data_dir: Path, **env: str) -> dict[str, str]:
    """Nothing but the data dir of a running dev to go on."""
    clean = {key: value for key, value in _env().items()
             if key not in {"STRIPE_API_BASE", "RESEND_API_URL", "SECRET_KEY",
                            "STRIPE_WEBHOOK_SECRET", "RESEND_WEBHOOK_SECRET"}}
    return {**clean, "ORDERPASS_DATA_DIR": str(data_dir), **env}


def _beside(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`orderpass <args>` with nothing but the data dir of a running dev to go on."""
    return subprocess.run([*ORDERPASS, *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=_beside_env(data_dir, **env))


def _dev_worker(dev: subprocess.Popen[str]) -> psutil.Process:
    [worker] = [child for child in psutil.Process(dev.pid).children(recursive=True)
                if "worker" in (child.cmdline() or [])]
    return worker


@pytest.mark.own_servers
# five process starts (dev, two reconciles, a second web) ran past 120 s on a loaded host
@pytest.mark.timeout(240)
def test_commands_beside_a_running_dev_use_its_sandbox_and_secrets(dev_data: Path) -> None:
    """Issue #14 item 18: reconcile reads the dev's sandbox (not api.stripe.com), says
    nothing reassuring when it could not reach Stripe (and exits non-zero), and closes its
    HTTP sessions; a second web process shares the dev's secrets."""
    data_dir = dev_data
    port, sandbox_port = free_port(), free_port()
    process = _start_dev(data_dir, port, sandbox_port)
    try:
        _wait_for_banner(process)
        base = f"http://127.0.0.1:{port}"
        created = _order(base)
        assert created.status_code == 201, created.text

        found = _beside(data_dir, "reconcile", "--since", "1h")
        assert found.returncode == 0, found.stdout + found.stderr
        assert "sessions seen: 1" in found.stdout, found.stdout
        assert "Unclosed" not in found.stderr, found.stderr

        dead = _beside(data_dir, "reconcile", "--since", "1h",
                       STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}",
                       STRIPE_TIMEOUT_SECONDS="1")
        assert dead.returncode != 0, dead.stdout
        assert "no findings" not in dead.stdout + dead.stderr
        assert "ERROR" in dead.stdout + dead.stderr
        assert "Unclosed" not in dead.stderr, dead.stderr

        second_port = free_port()
        web = subprocess.Popen([*ORDERPASS, "web", "--port", str(second_port)], cwd=ROOT,
                               env={**{k: v for k, v in _env().items() if k not in {
                                   "SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
                                   "RESEND_WEBHOOK_SECRET"}},
                                   "ORDERPASS_DATA_DIR": str(data_dir)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            second = f"http://127.0.0.1:{second_port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(second + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            with httpx.Client(timeout=10) as browser:
                browser.get(f"{base}/login")  # the token is the dev web's ...
                token = browser.cookies["csrftoken"]
                response = browser.post(f"{second}/login", data={  # ... accepted here
                    "email": "kitchen@demo.test", "password": "demo", "_csrf_token": token})
                assert response.status_code == 303, response.text[:300]
        finally:
            web.terminate()
            web.wait(15)
    finally:
        _stop(process)


@pytest.mark.own_servers
def test_worker_and_migrate_beside_a_running_dev_use_its_servers_and_sandbox(
        dev_data: Path, tmp_path: Path) -> None:
    """Issue #14 item 18: `orderpass migrate` and `orderpass worker`, given only the data dir,
    find the dev's Postgres and Redis and talk to its sandbox (the dev's own worker is
    paused, so whatever work is done is this worker's)."""
    data_dir = dev_data
    port, sandbox_port = free_port(), free_port()
    process = _start_dev(data_dir, port, sandbox_port)
    try:
        _wait_for_banner(process)
        migrated = _beside(data_dir, "migrate")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        assert "Traceback" not in migrated.stderr and "Unclosed" not in migrated.stderr
        alone = _beside(tmp_path / "no-dev-here", "migrate")  # the same, with no dev to find
        assert alone.returncode != 0 and "no `orderpass dev` is running" in alone.stderr

        base, sandbox = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sandbox_port}"
        dev_worker = _dev_worker(process)
        dev_worker.suspend()
        worker_log = (tmp_path / "worker.log").open("w+")
        worker = subprocess.Popen([*ORDERPASS, "worker"], cwd=ROOT, env=_beside_env(data_dir),
                                  stdout=worker_log, stderr=subprocess.STDOUT, text=True)
        try:
            # Stripe fails while the order comes in: the link is left to a worker.
            httpx.post(f"{sandbox}/_control/api/faults", timeout=10,
                       json={"service": "stripe", "status": 500, "count": 100})
            menu = httpx.get(f"{base}/api/restaurants/demo/menu", timeout=10).json()["items"]
            created = httpx.post(f"{base}/api/orders", timeout=60, json={
                "restaurant": "demo", "items": [{"menu_item_id": menu[0]["id"], "quantity": 1}],
                "customer": {"name": "Ada", "email": "ada@example.com"},
                "fulfillment": "pickup"})
            httpx.post(f"{sandbox}/_control/api/faults", timeout=10,
                       json={"service": "stripe", "count": 0})
            assert created.status_code == 202, created.text
            ref = created.json()["id"]
            status: dict[str, object] = {}
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not status.get("payment_url"):
                time.sleep(0.5)
                status = httpx.get(f"{base}/api/orders/{ref}", timeout=10).json()
            assert str(status.get("payment_url", "")).startswith(sandbox), status
            emails: list[dict[str, object]] = []
            while time.monotonic() < deadline and not emails:
                time.sleep(0.5)
                emails = [d for d in httpx.get(f"{sandbox}/_control/webhooks/deliveries",
                                               timeout=10).json()["data"]
                          if str(d["type"]).startswith("email.")]
            assert emails, "the worker sent no email through the dev's sandbox"
        finally:
            worker.terminate()
            try:
                stopped = worker.wait(30)
            except subprocess.TimeoutExpired:
                stopped = None
                worker.kill()
                worker.wait(10)
            dev_worker.resume()
        worker_log.seek(0)
        output = worker_log.read()
        worker_log.close()
        assert stopped is not None, "the worker took over 30 s to stop:\n" + output[-4000:]
        if "worker stop took too long" in output:  # the watchdog ended it: show what held it
            warnings.warn("worker stop hung: " + output[-4000:], stacklevel=1)
        assert "Traceback" not in output and "Unclosed" not in output, output[-3000:]
    finally:
        _stop(process)
