"""The system under test: embedded Postgres + Valkey (or DATABASE_URL/REDIS_URL), migrations
and demo seed, then the sandbox, web and worker(s) as real `orderpass` subprocesses, exactly
as `orderpass dev` runs them. `BenchSystem.stop()` ends every child, servers last."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from app.dev.embedded import EmbeddedServers, _die_with_parent, free_port, stop_children
from app.infra.dev_secrets import dev_secrets


def _tree_of(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


NOFILE_WANTED = 65536
MIN_CORES_TO_PIN = 4
BENCH_ENV = {
    # The bench is one client address: the per-client limits would throttle it.
    "ORDER_RATE_LIMIT_PER_MINUTE": "100000000",
    "UNPAID_ORDERS_PER_IP": "0",  # one client address places every order
    "LOGIN_RATE_LIMIT_PER_MINUTE": "100000",
    "RESEND_REQUESTS_PER_SECOND": "2",  # Resend's default team limit, mirrored by the sandbox
    # Not `dev`, whose templates are checked on disk at every render (a stat per template per
    # frame); `test` renders as production does. Production itself needs real keys and TLS.
    "ORDERPASS_ENV": "test",
    "LOG_JSON": "true",  # as in production: one JSON line per event, no console colours
    # The bench pays sessions first and posts their webhooks later, on its own schedule; a
    # reconciliation run in between would record those orders itself (its job for lost
    # webhooks) and the bench would see no new order reach the screens. Keep the default
    # grace even where the caller's environment (the test suite) sets it to 0.
    "RECONCILE_GRACE_SECONDS": "300",
}


def raise_nofile(wanted: int = NOFILE_WANTED) -> int:
    """Raise this process's open-file limit as far as allowed; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if os.geteuid() == 0 and hard != resource.RLIM_INFINITY and hard < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _child_setup(cores: set[int] | None = None) -> Callable[[], None]:
    """In the child before exec: die with the bench, keep the raised open-file limit, and
    run on `cores` when given (its own, on a machine with enough of them)."""
    die = _die_with_parent(signal.SIGTERM)

    def setup() -> None:
        die()
        raise_nofile()
        if cores:
            os.sched_setaffinity(0, cores)

    return setup


@dataclass(frozen=True)
class Placement:
    """Which cores each part runs on. With at least MIN_CORES_TO_PIN cores the sandbox (a
    stand-in for Stripe and Resend, which run elsewhere in production) and the load
    generator (this process and its screens) get a core each, so the product's figures
    are not shared with them; with fewer, everything shares every core (None)."""

    product: set[int] | None = None
    sandbox: set[int] | None = None
    load: set[int] | None = None

    @classmethod
    def for_machine(cls, cores: set[int] | None = None) -> Placement:
        available = sorted(cores if cores is not None else os.sched_getaffinity(0))
        if len(available) < MIN_CORES_TO_PIN:
            return cls()
        return cls(product=set(available[:-2]), sandbox={available[-1]},
                   load={available[-2]})

    def describe(self) -> str:
        if self.product is None:
            return "not pinned (fewer than 4 cores: everything shares them)"
        return (f"product on cores {sorted(self.product)}, sandbox on "
                f"{sorted(self.sandbox or ())}, load generator on {sorted(self.load or ())}")


def pin_tree(pid: int, cores: set[int]) -> None:
    """Every thread of a process and of its children onto `cores` (children forked later
    inherit it)."""
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error, OSError):
                for thread in process.threads():
                    with contextlib.suppress(OSError):
                        os.sched_setaffinity(thread.id, cores)


PORT_ATTEMPTS = 3


class PortTakenError(RuntimeError):
    """A child could not listen: its port was taken between the pick and the bind."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class BenchSystem:
    web_workers: int = 1
    worker_processes: int = 1
    keep_data: bool = False
    echo: Callable[[str], None] = print
    placement: Placement = field(default_factory=Placement.for_machine)
    data_dir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="orderpass-bench-")))
    web_port: int = 0
    sandbox_port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)
    servers: EmbeddedServers | None = None

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    @property
    def redis_url(self) -> str:
        return self.env["REDIS_URL"]

    @property
    def webhook_secret(self) -> str:
        return self.env["STRIPE_WEBHOOK_SECRET"].split(",")[0].strip()

    def worker_pids(self) -> list[int]:
        return [child.process.pid for child in self.children
                if child.name.startswith("worker")]

    @contextlib.contextmanager
    def workers_paused(self) -> Iterator[None]:
        """The arq worker(s) stopped (SIGSTOP) for a measured window, then resumed: the
        emails they would send bring Resend webhooks to the web process, whose CPU would
        otherwise be counted as the window's orders'. Their cost is the email section's."""
        stopped: list[psutil.Process] = []
        try:
            for pid in self.worker_pids():
                for process in _tree_of(pid):
                    with contextlib.suppress(psutil.Error):
                        process.suspend()
                        stopped.append(process)
            yield
        finally:
            for process in stopped:
                with contextlib.suppress(psutil.Error):
                    process.resume()

    def web_pid(self) -> int:
        return next(child.process.pid for child in self.children if child.name == "web")

    def process_pids(self) -> dict[str, int]:
        """Root pid of each part of the system (children are found from there)."""
        pids = {child.name: child.process.pid for child in self.children}
        if self.servers is not None:
            for process in self.servers.processes:
                pids["postgres" if "postgres" in str(process.args) else "valkey"] = process.pid
        return pids

    def web_rss_mb(self) -> float:
        """Resident memory of the web process (and its uvicorn workers, if any), in MB."""
        root = psutil.Process(self.web_pid())
        processes = [root, *root.children(recursive=True)]
        total = 0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return round(total / 2**20, 1)

    # -- start --------------------------------------------------------------------------

    def start(self) -> BenchSystem:
        raise_nofile()
        if self.placement.load is not None:
            os.sched_setaffinity(0, self.placement.load)  # the screens process inherits it
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        env = dict(os.environ)
        env.update(BENCH_ENV)
        env["ORDERPASS_DATA_DIR"] = str(self.data_dir)
        for key, value in dev_secrets(self.data_dir).items():
            env.setdefault(key, value)
        if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
            self.echo(f"starting embedded Postgres + Valkey (durable, fsync on) in {self.data_dir}")
            self.servers = EmbeddedServers(self.data_dir / "servers", durable=True).start()
            if self.placement.product is not None:
                for process in self.servers.processes:
                    pin_tree(process.pid, self.placement.product)
            env["DATABASE_URL"] = env.get("DATABASE_URL") or self.servers.database_url
            env["REDIS_URL"] = env.get("REDIS_URL") or self.servers.redis_url
        env.setdefault("ORDERPASS_DEMO_PASSWORD", "demo")
        self.env = env
        for command in ("migrate", "seed-demo"):
            result = subprocess.run([sys.executable, "-m", "app.cli", command], env=env,
                                    capture_output=True, check=False)
            if result.returncode != 0:
                raise RuntimeError(f"`orderpass {command}` failed:\n"
                                   + result.stderr.decode(errors="replace")[-3000:])
        # A port found free is free only until something else binds it: an outgoing
        # connection of a busy machine may take it before our server listens. Then the
        # whole set starts again on new ports (the web and sandbox name each other).
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self._spawn_all()
            try:
                self._wait_ready()
                return self
            except PortTakenError as error:
                stop_children([child.process for child in self.children], timeout=15)
                self.children.clear()
                if attempt == PORT_ATTEMPTS:
                    raise RuntimeError(str(error)) from error
                self.echo(f"{error}; starting again on other ports")
        raise AssertionError("unreachable")

    def _spawn_all(self) -> None:
        self.web_port, self.sandbox_port = free_port(), free_port()
        self.env.update(PUBLIC_BASE_URL=self.web_url, STRIPE_API_BASE=self.sandbox_url,
                        RESEND_API_URL=self.sandbox_url)
        # The bench signs and posts Stripe events itself (it controls when each one is sent);
        # Resend events are delivered by the sandbox as in dev.
        self._spawn("sandbox", ["sandbox", "--port", str(self.sandbox_port),
                                "--resend-webhook-url", f"{self.web_url}/webhooks/resend"],
                    self.placement.sandbox)
        self._spawn("web", ["web", "--port", str(self.web_port),
                            "--workers", str(self.web_workers)], self.placement.product)
        for number in range(self.worker_processes):
            self._spawn(f"worker-{number + 1}", ["worker"], self.placement.product)

    def _spawn(self, name: str, args: list[str], cores: set[int] | None = None) -> None:
        log = self.data_dir / "logs" / f"{name}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args], env=self.env, stdout=handle,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_child_setup(cores))
        self.children.append(Child(name, process, log))

    def check_children(self) -> None:
        """Fail loudly (with the log tail) if any child died."""
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                tail = child.log.read_text(errors="replace")[-3000:]
                if "address already in use" in tail:
                    raise PortTakenError(f"the {child.name} process found its port taken")
                raise RuntimeError(f"the {child.name} process exited with code {code}:\n{tail}")

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        probes = {f"{self.web_url}/readyz": False, f"{self.sandbox_url}/_control/config": False}
        while time.monotonic() < deadline:
            self.check_children()
            for url, ready in probes.items():
                if not ready:
                    with contextlib.suppress(httpx.HTTPError):
                        probes[url] = httpx.get(url, timeout=1).status_code == 200
            if all(probes.values()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"system not ready after {timeout:.0f}s: {probes}")

    # -- stop ---------------------------------------------------------------------------

    def stop(self) -> None:
        stop_children([child.process for child in self.children], timeout=15)
        self.children.clear()
        if self.servers is not None:
            self.servers.stop()
            if not self.keep_data:  # its Postgres data may live outside the data dir
                self.servers.remove_data()
            self.servers = None
        if not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
