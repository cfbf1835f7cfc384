"""A periodic job that meets Postgres or Redis away is one warning line and the next run
tries again; a bug still fails loudly."""

from __future__ import annotations

from typing import Any

import pytest
import structlog

from workers.periodic import retried_next_period
from workers.settings import WorkerSettings


async def test_an_outage_is_one_line_and_the_run_ends() -> None:
    async def relay(ctx: dict[str, Any]) -> int:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    with structlog.testing.capture_logs() as logs:
        assert await retried_next_period(relay)({}) is None
    [line] = logs
    assert line["log_level"] == "warning" and line["job"] == "relay"
    assert "ConnectionRefusedError" in line["error"]


async def test_a_bug_still_raises() -> None:
    async def relay(ctx: dict[str, Any]) -> int:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await retried_next_period(relay)({})


def test_every_cron_keeps_its_name() -> None:
    names = {job.name for job in WorkerSettings.cron_jobs}
    assert {"cron:relay_outbox", "cron:evaluate_ops_alerts", "cron:archive_orders"} <= names
