"""When the cardholder's bank opened a chargeback on the order (`paid_order.disputed_at`):
a ticket a chargeback takes off the kitchen's board leaves a notice on every screen, told from
this time, as a refund's is from `refunded_at`. Existing disputed orders keep it empty (they
were never told). Backwards drops the column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-04T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "paid order disputed_at"

FORWARDS = """
ALTER TABLE paid_order ADD COLUMN disputed_at timestamptz NULL DEFAULT NULL;
"""

BACKWARDS = """
ALTER TABLE paid_order DROP COLUMN disputed_at;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
