"""Index the processed webhook deliveries by event id: the Resend webhook's duplicate check
scanned the whole (ever-growing) table on every delivery."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

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
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
