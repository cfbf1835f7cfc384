"""A periodic job that meets Postgres or Redis away is one warning line and the next run
tries again; a bug still fails loudly; a run that did something is one line, an idle one
none."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from app.infra.logging import configure_logging
from app.settings import get_settings
from tests.helpers.logs import capture_info
from workers import periodic
from workers.periodic import retried_next_period
from workers.settings import WorkerSettings


async def test_an_outage_is_one_line_and_the_run_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    async def relay(ctx: dict[str, Any]) -> int:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    # not `capture_logs`: it sees nothing once another test in this process has used (and
    # structlog has cached) the module's logger, which made this fail by test order
    capture = capture_info(monkeypatch, periodic)
    assert await retried_next_period(relay)({}) is None
    [line] = capture.entries
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


async def test_a_run_that_did_something_is_one_line_and_an_idle_run_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def relay_outbox(ctx: dict[str, Any]) -> dict[str, int]:
        return ctx["result"]

    capture = capture_info(monkeypatch, periodic)
    await retried_next_period(relay_outbox)({"result": {"done": 0, "retry": 0}})
    await retried_next_period(relay_outbox)({"result": {"done": 2, "retry": 0}})
    [line] = capture.entries
    assert line["event"] == "periodic job done" and line["job"] == "relay_outbox"
    assert line["result"] == {"done": 2, "retry": 0} and line["ms"] >= 0


def test_arqs_lines_for_periodic_runs_and_health_are_dropped_and_its_failures_kept(
        capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    try:
        arq = logging.getLogger("arq.worker")
        arq.info("%6.2fs → %s(%s)%s", 0.5, "cron:relay_outbox", "", "")
        arq.info("%6.2fs ← %s ● %s", 0.0, "cron:relay_outbox", "{'done': 0}")
        arq.info("%6.2fs → %s(%s)%s", 0.4, "email:payment_received:TEMP-x:send_email", "",
                 "")
        arq.error("%6.2fs ! %s failed, %s: %s", 0.1, "cron:relay_outbox", "ValueError",
                  "a bug")
        arq.info("recording health: %s", "Dec-03 02:10:00 j_complete=12 j_failed=0 "
                 "j_retried=0 j_ongoing=0 queued=0")
        printed = capsys.readouterr().err
    finally:  # the suite's own level again
        settings = get_settings()
        configure_logging(settings.log_level, settings.log_json)
    assert "cron:relay_outbox()" not in printed and "●" not in printed
    assert "recording health" not in printed
    assert "email:payment_received:TEMP-x:send_email" in printed  # a job about an order
    assert "cron:relay_outbox failed" in printed
