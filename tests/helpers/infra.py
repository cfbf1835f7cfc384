"""Test infrastructure: one Postgres and one Redis for the whole session, started only by the
suites that need them (`start_servers`, from their conftest); unit tests run without.

Embedded servers by default; `TEST_DATABASE_URL` / `TEST_REDIS_URL` point the suite at
standalone servers instead (CI uses this to prove Postgres 15 / Redis 7 compatibility).
On a standalone Postgres the suite creates its own database and drops it afterwards.

Under pytest-xdist (`make pytest`) every worker process is a test session of its own: it starts
its own embedded servers, or on standalone servers creates its own database and takes its own
Redis database number (`worker_redis_url`) and pub/sub channel prefix, so one worker's
FLUSHDB, SCAN or PUBLISH never meets another's keys or screens.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from app.dev.embedded import EmbeddedServers

TEST_ENV = {
    "ORDERPASS_ENV": "test",
    "SECRET_KEY": "test-secret-key-not-for-production",
    "STRIPE_SECRET_KEY": "sk_test_orderpass_sandbox",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_orderpass",
    "RESEND_API_KEY": "re_test_orderpass_sandbox",
    # Svix secrets are base64 after the prefix.
    "RESEND_WEBHOOK_SECRET": "whsec_dGVzdC1vcmRlcnBhc3MtcmVzZW5kLXNlY3JldA==",
    "ORDERPASS_DEMO_PASSWORD": "demo",
    "LOG_LEVEL": "WARNING",
    "WEB_GRACEFUL_SHUTDOWN_SECONDS": "1",
    # Reconciliation tests pay a session and reconcile at once, playing the lost webhook.
    "RECONCILE_GRACE_SECONDS": "0",
    # The web's watch over the alert cron evaluates alerts where tests evaluate them
    # themselves; its own test turns it on.
    "ALERTS_WATCHDOG_SECONDS": "0",
}


# Until a suite starts the servers, the app's URLs point at a port nothing listens on (9,
# "discard"): a test that reaches for Postgres or Redis without them fails at once.
NO_SERVERS = {"DATABASE_URL": "postgresql://no-test-servers@127.0.0.1:9/none",
              "REDIS_URL": "redis://127.0.0.1:9/0"}
_running: TestInfrastructure | None = None


def use_test_environment() -> None:
    """The settings every test process runs with (no server is started here)."""
    os.environ.update(TEST_ENV)
    os.environ.update(NO_SERVERS)


def start_servers() -> TestInfrastructure:
    """Postgres and Redis for this test session, started on the first call."""
    global _running
    if _running is None:
        _running = TestInfrastructure().start()
        _point_the_app_at(_running.database_url)
    return _running


def stop_servers() -> None:
    if _running is not None:
        _running.stop()


def _point_the_app_at(database_url: str) -> None:
    """The Piccolo engine reads DATABASE_URL when `app.piccolo_conf` is imported, and settings
    are cached: a module imported before the servers started (a unit test collected first)
    must not keep the placeholder."""
    conf = sys.modules.get("app.piccolo_conf")
    if conf is not None:
        conf.DB.config["dsn"] = database_url
    settings = sys.modules.get("app.settings")
    if settings is not None:
        settings.reset_settings_cache()


def xdist_worker_index() -> int:
    """0 outside pytest-xdist and on its first worker (gw0), 1 on gw1, and so on."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker.startswith("gw") else 0


def worker_redis_url(url: str) -> str:
    """The standalone Redis URL this process uses: the given database number plus the xdist
    worker's index (redis://…/9 → /9 on gw0, /10 on gw1…). Redis has 16 databases by default."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + xdist_worker_index()}"))


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@dataclass
class TestInfrastructure:
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="orderpass-test-")))
    servers: EmbeddedServers | None = None
    database_url: str = ""
    redis_url: str = ""
    created_database: str = ""
    admin_url: str = ""

    def start(self) -> TestInfrastructure:
        external_db = os.environ.get("TEST_DATABASE_URL", "")
        external_redis = os.environ.get("TEST_REDIS_URL", "")
        if not external_db or not external_redis:
            self.servers = EmbeddedServers(self.data_dir / "servers", durable=False).start()
        if external_db:
            self.admin_url = external_db
            self.created_database = f"orderpass_test_{secrets.token_hex(4)}"
            asyncio.run(_admin(external_db, f'CREATE DATABASE "{self.created_database}"'))
            # Commits that do not wait for the WAL flush, as on the embedded test servers
            # (fsync off): the run proves the server's SQL, not its disk; with every commit
            # flushed, a migration test took 78 s here against 12 s embedded.
            asyncio.run(_admin(external_db, f'ALTER DATABASE "{self.created_database}" '
                                            "SET synchronous_commit = off"))
            self.database_url = _with_database(external_db, self.created_database)
        else:
            assert self.servers is not None
            self.database_url = self.servers.database_url
        if external_redis:
            self.redis_url = worker_redis_url(external_redis)
        else:
            assert self.servers is not None
            self.redis_url = self.servers.redis_url
        os.environ.update(TEST_ENV)
        os.environ["DATABASE_URL"] = self.database_url
        os.environ["REDIS_URL"] = self.redis_url
        if external_redis and os.environ.get("PYTEST_XDIST_WORKER"):
            # Pub/sub ignores the database number: without a prefix of its own a worker's
            # kitchen screens would hear the other workers' restaurant 1 (every worker seeds
            # the same demo restaurants).
            os.environ["REDIS_CHANNEL_PREFIX"] = f"orderpass-{os.environ['PYTEST_XDIST_WORKER']}"
        os.environ["ORDERPASS_DATA_DIR"] = str(self.data_dir)
        return self

    def stop(self) -> None:
        if self.created_database:
            asyncio.run(
                _admin(
                    self.admin_url,
                    f'DROP DATABASE IF EXISTS "{self.created_database}" WITH (FORCE)',
                )
            )
        if self.servers is not None:
            self.servers.stop()
