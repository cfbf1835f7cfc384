"""Index the processed webhook deliveries by event id: the Resend webhook's duplicate check
scanned the whole (ever-growing) table on every delivery."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import run_script

ID = "2026-11-27T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "webhook_delivery event index"

# Not CONCURRENTLY: migrations run in a transaction; the table is small where this runs first.
FORWARDS = """
CREATE INDEX IF NOT EXISTS webhook_delivery_event_idx
    ON webhook_delivery (provider, event_id) WHERE processed;
"""
BACKWARDS = "DROP INDEX IF EXISTS webhook_delivery_event_idx;"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="orderpass", description=DESCRIPTION)

    async def create_index() -> None:
        await run_script(FORWARDS)

    async def drop_index() -> None:
        await run_script(BACKWARDS)

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
