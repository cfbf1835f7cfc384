"""`orderpass dev`: embedded servers, migrations, demo seed, then web, worker and sandbox as
child processes. Ctrl-C stops everything, servers last. An embedded server that dies is
started again on its port and data; so is a web, worker or sandbox that dies once running
(a crash, the OOM killer, a `kill -9`), as a production process manager would, unless it
keeps dying (CRASH_LIMIT in CRASH_WINDOW_S: then `dev` stops with its exit code, as it does
for one that cannot start)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO

import click
import httpx

from app.dev.embedded import EmbeddedServers, _die_with_parent, port_is_free, stop_children
from app.infra.dev_secrets import clear_dev_state, dev_secrets, write_dev_state
from app.settings import Settings


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    relay: threading.Thread  # its output, line by line, under its name
    args: list[str] = field(default_factory=list)  # `orderpass <args>`, to start it again
    env: dict[str, str] = field(default_factory=dict)
    crashes: list[float] = field(default_factory=list)  # monotonic moments it died


CRASH_LIMIT, CRASH_WINDOW_S = 3, 60.0  # a child dying this often is not restarted again


PREFIX_WIDTH = len("sandbox")
_stdout_lock = threading.Lock()


def _relay_lines(name: str, stream: IO[bytes] | None) -> None:
    """Copy a child's output to ours, each line behind the child's name (`web     | …`),
    as foreman and honcho do: three processes writing one terminal were hard to tell apart
    (an outside try read a worker's email lines as the web's)."""
    if stream is None:
        return
    prefix = f"{name:<{PREFIX_WIDTH}} | ".encode()
    out = sys.stdout.buffer
    for line in iter(stream.readline, b""):
        with _stdout_lock:
            out.write(prefix + line if line.endswith(b"\n") else prefix + line + b"\n")
            out.flush()
    stream.close()


@dataclass
class DevSupervisor:
    settings: Settings
    port: int
    sandbox_port: int
    children: list[Child] = field(default_factory=list)
    servers: EmbeddedServers | None = None
    stopping: bool = False

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._request_stop)
        try:
            env = self._prepare()
            self._start_children(env)
            self._wait_ready(env)
            return self._watch()
        finally:
            self._stop_all()

    # -- steps --------------------------------------------------------------------------

    def _prepare(self) -> dict[str, str]:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        ports = [("web app", self.port, "--port", "ORDERPASS_PORT")]
        if settings.wants_sandbox:
            ports.append(("sandbox", self.sandbox_port, "--sandbox-port",
                          "ORDERPASS_SANDBOX_PORT"))
        for name, port, option, variable in ports:
            if not port_is_free(port):
                raise click.ClickException(
                    f"port {port} for the {name} is busy: pass {option} or set {variable}")
        env = dict(os.environ)
        env["ORDERPASS_DATA_DIR"] = str(settings.data_dir.resolve())
        env["PUBLIC_BASE_URL"] = os.environ.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{self.port}")
        generated = dev_secrets(settings.data_dir)
        for key, value in generated.items():
            env.setdefault(key, value)
        if not settings.database_url or not settings.redis_url:
            click.echo("Starting embedded Postgres and Valkey under "
                       f"{settings.data_dir.resolve()} …")
            self.servers = EmbeddedServers(settings.data_dir, durable=True).start()
            env.setdefault("DATABASE_URL", self.servers.database_url)
            env.setdefault("REDIS_URL", self.servers.redis_url)
            if not settings.database_url:
                env["DATABASE_URL"] = self.servers.database_url
            if not settings.redis_url:
                env["REDIS_URL"] = self.servers.redis_url
        sandbox = f"http://127.0.0.1:{self.sandbox_port}" if settings.wants_sandbox else ""
        if sandbox:
            env.setdefault("STRIPE_API_BASE", sandbox)
            env.setdefault("RESEND_API_URL", sandbox)
        # CLI commands run beside this dev find its sandbox here (app/settings.py).
        write_dev_state(settings.data_dir, sandbox_url=sandbox,
                        web_url=f"http://127.0.0.1:{self.port}")
        os.environ.update({key: env[key] for key in ("DATABASE_URL", "REDIS_URL")})
        self._migrate_and_seed(env)
        return env

    def _migrate_and_seed(self, env: dict[str, str]) -> None:
        for command in ("migrate", "seed-demo"):
            result = subprocess.run([sys.executable, "-m", "app.cli", command], env=env,
                                    check=False)
            if result.returncode != 0:
                raise click.ClickException(f"`orderpass {command}` failed")

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.children.append(Child(name, *self._launch(name, args, env), args=args, env=env))

    @staticmethod
    def _launch(name: str, args: list[str], env: dict[str, str]
                ) -> tuple[subprocess.Popen[bytes], threading.Thread]:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args], env=env, start_new_session=True,
            preexec_fn=_die_with_parent(signal.SIGTERM),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        relay = threading.Thread(target=_relay_lines, args=(name, process.stdout),
                                 name=f"relay-{name}", daemon=True)
        relay.start()
        return process, relay

    def _revive_children(self) -> None:
        """Start again a child that died while running (see the module docstring)."""
        now = time.monotonic()
        for child in self.children:
            code = child.process.poll()
            if code is None or self.stopping:
                continue
            child.crashes = [moment for moment in child.crashes if now - moment < CRASH_WINDOW_S]
            child.crashes.append(now)
            if len(child.crashes) > CRASH_LIMIT:
                raise click.ClickException(
                    f"the {child.name} process exited with code {code}, "
                    f"{len(child.crashes)} times in {CRASH_WINDOW_S:g} s: not restarted")
            child.relay.join(timeout=2)  # its last lines first
            child.process, child.relay = self._launch(child.name, child.args, child.env)
            click.echo(f"the {child.name} process exited with code {code}; restarted")

    def _start_children(self, env: dict[str, str]) -> None:
        if sys.stdout.isatty():  # their lines come through a pipe to this terminal
            env = {**env, "FORCE_COLOR": "1"}
        if self.settings.wants_sandbox:
            self._spawn("sandbox", [
                "sandbox", "--port", str(self.sandbox_port),
                "--stripe-webhook-url", f"http://127.0.0.1:{self.port}/webhooks/stripe",
                "--resend-webhook-url", f"http://127.0.0.1:{self.port}/webhooks/resend"], env)
        self._spawn("web", ["web", "--port", str(self.port)], env)
        self._spawn("worker", ["worker"], env)

    def _wait_ready(self, env: dict[str, str]) -> None:
        deadline = time.monotonic() + 60
        base = f"http://127.0.0.1:{self.port}"
        while time.monotonic() < deadline and not self.stopping:
            self._check_children()
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self._print_banner(env)

    def _print_banner(self, env: dict[str, str]) -> None:
        base = f"http://127.0.0.1:{self.port}"
        password = self.settings.demo_password
        lines = [
            "",
            "Orderpass is running",
            f"  Order food         {base}/   (demo menus: {base}/r/demo  {base}/r/demo-2)",
            f"  Kitchen screens    {base}/kitchen/demo   {base}/kitchen/demo-2",
            f"  Owner pages        {base}/manage/demo   {base}/manage/demo-2   "
            "(owner@demo.test, owner@demo-2.test)",
            f"    orders, refunds  {base}/manage/demo/orders   (also menu, staff, hours, "
            "settings)",
            f"  Admin              {base}/admin",
            f"  Health             {base}/healthz   {base}/readyz   {base}/metrics",
            f"  API schema         {base}/schema",
        ]
        if self.settings.wants_sandbox:
            sandbox = f"http://127.0.0.1:{self.sandbox_port}"
            lines += [f"  Sandbox            {sandbox}   (checkout pages /pay/…)",
                      f"  Sandbox mailbox    {sandbox}/mail"]
        lines += [
            f"  Postgres           {env['DATABASE_URL']}",
            f"  Redis              {env['REDIS_URL']}",
            "",
            "Demo logins (password from ORDERPASS_DEMO_PASSWORD):",
            f"  kitchen@demo.test / {password}     kitchen@demo-2.test / {password}",
            f"  owner@demo.test / {password}       owner@demo-2.test / {password}",
            f"  admin@orderpass.test / {password}",
            "",
            "Press Ctrl-C to stop everything.",
        ]
        click.echo("\n".join(lines))

    def _check_children(self) -> None:
        for child in self.children:
            code = child.process.poll()
            if code is not None and not self.stopping:
                raise click.ClickException(f"the {child.name} process exited with code {code}")

    def _watch(self) -> int:
        while not self.stopping:
            self._revive_children()
            if self.servers is not None:
                for line in self.servers.revive():
                    click.echo(line)
            time.sleep(0.5)
        return 0

    def _request_stop(self, signum: int, frame: object) -> None:
        if self.stopping:  # a second Ctrl-C: stop waiting politely
            for child in self.children:
                child.process.kill()
        self.stopping = True

    def _stop_all(self) -> None:
        self.stopping = True
        stop_children([child.process for child in self.children], timeout=20)
        for child in self.children:  # their last lines before ours
            child.relay.join(timeout=2)
        if self.servers is not None:
            self.servers.stop()
        clear_dev_state(self.settings.data_dir)
        click.echo("Stopped.")

