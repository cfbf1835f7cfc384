"""Retention: old webhook deliveries and delivered outbox rows go; recent ones, rows still
owed (pending) and rows waiting for a human (dead) stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.infra import db
from app.platform.retention import prune_old_records
from workers.settings import WorkerSettings


async def _delivery(event_id: str, age_days: float) -> None:
    await db.execute(
        "INSERT INTO webhook_delivery (provider, event_id, signature_valid, processed, "
        "received_at) VALUES ('resend', $1, true, true, now() - make_interval(days => $2))",
        event_id, age_days)


async def _outbox(key: str, status: str, age_days: float) -> None:
    await db.execute(
        "INSERT INTO outbox (kind, dedupe_key, payload, status, created_at, done_at) "
        "VALUES ('kitchen.publish', $1, '{}'::jsonb, $2::text, "
        "now() - make_interval(days => $3), "
        "CASE WHEN $2::text = 'done' THEN now() - make_interval(days => $3) END)",
        key, status, age_days)


async def _left(table: str, column: str) -> set[str]:
    rows = await db.fetch(f"SELECT {column} AS value FROM {table}")
    return {row["value"] for row in rows}


async def test_old_records_are_pruned_in_batches_and_the_rest_stays(redis: object) -> None:
    for number in range(5):
        await _delivery(f"old-{number}", 31 + number)
    await _delivery("recent", 29)
    for number in range(3):
        await _outbox(f"done-old-{number}", "done", 8 + number)
    await _outbox("done-recent", "done", 6)
    await _outbox("dead-old", "dead", 60)
    await _outbox("pending-old", "pending", 60)

    pruned = await prune_old_records(batch=2)  # three batches for the deliveries

    assert (pruned.webhook_deliveries, pruned.outbox_rows) == (5, 3)
    assert await _left("webhook_delivery", "event_id") == {"recent"}
    assert await _left("outbox", "dedupe_key") == {"done-recent", "dead-old", "pending-old"}
    again = await prune_old_records(now=datetime.now(UTC) + timedelta(minutes=1))
    assert (again.webhook_deliveries, again.outbox_rows) == (0, 0)


def test_the_worker_runs_retention_daily() -> None:
    crons = {job.name: job for job in WorkerSettings.cron_jobs}
    job = crons["cron:prune_records"]
    assert job.hour == 3 and job.unique
