"""A kitchen screen hears from the server every 5 s (it calls itself down after 2.5 silent
heartbeats: ~12 s, where the general 15 s period left a stalled tablet green for up to
37 s); other streams keep SSE_HEARTBEAT_SECONDS. Either can be set."""

from __future__ import annotations

from typing import Any

import pytest

from app.settings import Settings


def settings(**values: Any) -> Settings:
    return Settings(**values)


@pytest.mark.parametrize(("values", "expected"), [
    ({}, 5.0),
    ({"SSE_HEARTBEAT_SECONDS": 1}, 1.0),  # never slower than the general period
    ({"KITCHEN_HEARTBEAT_SECONDS": 8}, 8.0),
    ({"SSE_HEARTBEAT_SECONDS": 30, "KITCHEN_HEARTBEAT_SECONDS": 2}, 2.0),
])
def test_the_kitchen_period(values: dict[str, Any], expected: float,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SSE_HEARTBEAT_SECONDS", "KITCHEN_HEARTBEAT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert settings(**values).kitchen_heartbeat_s == expected
    assert settings(**values).sse_heartbeat_seconds == values.get("SSE_HEARTBEAT_SECONDS", 15)
