"""The sandbox clock: real time plus an offset that tests can advance (persisted)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from app.sandbox.store import Store


class SandboxClock:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.offset = float(store.setting("clock_offset", 0.0))

    def now(self) -> float:
        return time.time() + self.offset

    def now_int(self) -> int:
        return int(self.now())

    def iso(self, ts: float | None = None) -> str:
        """ISO 8601 with milliseconds and `Z`, as Resend writes timestamps."""
        moment = datetime.fromtimestamp(self.now() if ts is None else ts, tz=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self._store.set_setting("clock_offset", self.offset)

    def reset(self) -> None:
        self.offset = 0.0
