"""SQLite-backed state of the sandbox (objects, events, idempotency, webhook jobs, settings).

Everything lives in one file under the data dir so `make dev` keeps its payments and mail
across sandbox restarts. Objects are stored as JSON documents keyed by (kind, id).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (kind, id)
);
CREATE TABLE IF NOT EXISTS idempotency (
    service TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (service, key)
);
CREATE TABLE IF NOT EXISTS webhook_jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    data TEXT NOT NULL
);
-- Each service's webhook sender polls for its due jobs every 50 ms: only undelivered ones
-- are indexed, by service first. Indexed by time alone, the Stripe sender walked every due
-- Resend job (thousands during an email backlog) on each poll to find none of its own.
DROP INDEX IF EXISTS webhook_jobs_due;
CREATE INDEX IF NOT EXISTS webhook_jobs_due_by_service
    ON webhook_jobs (service, next_at, seq) WHERE done = 0;
-- The clock's work (expire open sessions, settle delayed payments) finds what is due through
-- these instead of decoding every object on every tick.
CREATE INDEX IF NOT EXISTS objects_expiry ON objects (
    kind, json_extract(data, '$.status'), json_extract(data, '$.expires_at'));
CREATE INDEX IF NOT EXISTS objects_settle ON objects (
    kind, json_extract(data, '$.pending.settle_at'));
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class Store:
    """A tiny document store over stdlib sqlite3, safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL without an fsync per statement: the store survives a sandbox crash, only a power
        # cut can lose its last writes. Full sync blocked the sandbox's event loop on every
        # write, and every payment link the app asked for queued behind it.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def _exec(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        with self._lock:
            cur = self._db.execute(sql, args)
            return int(cur.lastrowid or 0)

    # -- objects ---------------------------------------------------------------------------
    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        self._exec(
            "INSERT INTO objects (kind, id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
            (kind, obj["id"], json.dumps(obj)),
        )
        return obj

    def get(self, kind: str, obj_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT data FROM objects WHERE kind = ? AND id = ?", (kind, obj_id))
        return json.loads(rows[0][0]) if rows else None

    def all(self, kind: str) -> Iterator[dict[str, Any]]:
        """Objects of a kind, newest first (the order Stripe lists in)."""
        for (data,) in self._rows(
            "SELECT data FROM objects WHERE kind = ? ORDER BY seq DESC", (kind,)
        ):
            yield json.loads(data)

    def open_expired(self, kind: str, now: float) -> list[dict[str, Any]]:
        """Open objects of a kind whose `expires_at` has passed, oldest first."""
        return [json.loads(data) for (data,) in self._rows(
            "SELECT data FROM objects WHERE kind = ? AND json_extract(data, '$.status') = 'open'"
            " AND json_extract(data, '$.expires_at') <= ? ORDER BY seq", (kind, now))]

    def with_status(self, kind: str, status: str) -> list[dict[str, Any]]:
        """Objects of a kind in `status`, oldest first (through `objects_expiry`'s prefix)."""
        return [json.loads(data) for (data,) in self._rows(
            "SELECT data FROM objects WHERE kind = ? AND json_extract(data, '$.status') = ?"
            " ORDER BY seq", (kind, status))]

    def settle_due(self, kind: str, now: float) -> list[dict[str, Any]]:
        """Objects of a kind with a `pending.settle_at` that has come, oldest first."""
        return [json.loads(data) for (data,) in self._rows(
            "SELECT data FROM objects WHERE kind = ? "
            "AND json_extract(data, '$.pending.settle_at') <= ? ORDER BY seq", (kind, now))]

    # -- idempotency -----------------------------------------------------------------------
    def idempotent_get(self, service: str, key: str) -> tuple[str, int, str, float] | None:
        rows = self._rows(
            "SELECT fingerprint, status, body, created FROM idempotency "
            "WHERE service = ? AND key = ?",
            (service, key),
        )
        if not rows:
            return None
        fp, status, body, created = rows[0]
        return str(fp), int(status), str(body), float(created)

    def idempotent_put(
        self, service: str, key: str, fingerprint: str, status: int, body: str, created: float
    ) -> None:
        self._exec(
            "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?)",
            (service, key, fingerprint, status, body, created),
        )

    # -- webhook jobs ----------------------------------------------------------------------
    def add_job(
        self, service: str, event_id: str, event_type: str, body: str, next_at: float
    ) -> int:
        return self._exec(
            "INSERT INTO webhook_jobs (service, event_id, event_type, body, next_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (service, event_id, event_type, body, next_at),
        )

    def due_jobs(self, now: float, service: str, limit: int = -1) -> list[dict[str, Any]]:
        """`service`'s undelivered jobs due by `now`, in order, at most `limit` (served by
        webhook_jobs_due_by_service alone). Each service's sender polls every 50 ms: reading
        (and decoding) every due job of both services, while thousands of Resend events
        waited, was an eighth of the sandbox's time during an email backlog."""
        rows = self._rows(
            "SELECT seq, service, event_id, event_type, body, attempt FROM webhook_jobs "
            "WHERE done = 0 AND service = ? AND next_at <= ? ORDER BY next_at, seq LIMIT ?",
            (service, now, limit),
        )
        keys = ("seq", "service", "event_id", "event_type", "body", "attempt")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def release_parked(self, now: float) -> None:
        """Jobs parked by a reorder window when the sandbox stopped become due again."""
        self._exec(
            "UPDATE webhook_jobs SET next_at = ? WHERE done = 0 AND next_at > ?", (now, 1e18)
        )

    def update_job(self, seq: int, *, attempt: int, next_at: float, done: bool) -> None:
        self._exec(
            "UPDATE webhook_jobs SET attempt = ?, next_at = ?, done = ? WHERE seq = ?",
            (attempt, next_at, int(done), seq),
        )

    # -- delivery log ----------------------------------------------------------------------
    def log_delivery(self, entry: dict[str, Any]) -> None:
        self._exec("INSERT INTO deliveries (data) VALUES (?)", (json.dumps(entry),))

    def deliveries(self) -> list[dict[str, Any]]:
        return [json.loads(d) for (d,) in self._rows("SELECT data FROM deliveries ORDER BY seq")]

    # -- settings --------------------------------------------------------------------------
    def setting(self, name: str, default: Any = None) -> Any:
        rows = self._rows("SELECT value FROM settings WHERE name = ?", (name,))
        return json.loads(rows[0][0]) if rows else default

    def set_setting(self, name: str, value: Any) -> None:
        self._exec("INSERT OR REPLACE INTO settings VALUES (?, ?)", (name, json.dumps(value)))

    def reset(self) -> None:
        with self._lock:
            for table in ("objects", "idempotency", "webhook_jobs", "deliveries", "settings"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
