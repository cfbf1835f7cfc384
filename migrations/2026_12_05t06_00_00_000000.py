"""When a kitchen screen acknowledged a new order's alarm (`paid_order.alarm_acknowledged_at`):
one press stops the alarm on every screen of the restaurant, and a screen opened later does
not ring again for an order someone has seen. Existing orders keep it empty (a reload rings
for a new order nobody acknowledged, as before). Backwards drops the column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-05T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "paid order alarm_acknowledged_at"

FORWARDS = """
ALTER TABLE paid_order ADD COLUMN alarm_acknowledged_at timestamptz NULL DEFAULT NULL;
"""

BACKWARDS = """
ALTER TABLE paid_order DROP COLUMN alarm_acknowledged_at;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
